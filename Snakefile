# Executes every stale notebook: notebooks/<part>/<stem>.py -> book/<part>/<stem>.ipynb + book/_claims/<ID>.json.
#
# The declared output is a stamp (dltheory.pipeline.layout.stamp_path), not the published page: Snakemake deletes a
# job's outputs before it runs and after it fails, and a failed run must leave the published page as it was.
# The workflow first syncs the stamps with content (`python -m dltheory sync`): a page whose claim record's source
# and package hashes match gets a fresh stamp, so a fresh clone executes nothing and an edit executes what it touches.
#
#   snakemake --profile profiles/local                       # the published book, stale pages only
#   snakemake --profile profiles/local --config scale=smoke  # every page at a scale -> _build/scaled/smoke/
#   snakemake --profile profiles/slurm --config scale=paper  # the same on a SLURM cluster, one job per page
#   snakemake ... --config scale=paper device=cuda           # on GPUs (the slurm profile then asks for one each)
#   snakemake ... --config Y2="-p n_models 1000"             # extra parameters for one claim
# Per-page resources (runtime, memory, GPUs) come from the page's scale in book/claims.yml.
import sys
from pathlib import Path

from dltheory.pipeline.layout import catalogue, claim_id, scale_of, scaled_root, sources, stamp_path
from dltheory.pipeline.records import sync_stamps

ROOT = Path(workflow.basedir).resolve()
PACKAGE = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "src" / "dltheory").rglob("*.py"))
SCALE = config.get("scale", "published")
DEVICE = config.get("device", "cpu")
CLAIMS = catalogue(ROOT)["claims"]
if SCALE == "published":
    sync_stamps(ROOT)  # content decides what is stale, not file times: a fresh clone executes nothing
    STAMPS = "_build/stamps"
else:
    STAMPS = str((scaled_root(ROOT, SCALE) / "stamps").relative_to(ROOT))


def resources(stem: str) -> dict:
    """The page's runtime (minutes), memory (MB) and GPUs at this scale, from the catalogue."""
    cid = claim_id(stem)
    declared = scale_of(ROOT, cid, SCALE)
    budget = CLAIMS.get(cid, {}).get("budget_cpu_seconds", 120)
    return {"runtime": declared.get("runtime_min", 10 + 3 * budget // 60), "mem_mb": declared.get("mem_mb", 4000),
            "gpus": 1 if DEVICE != "cpu" and not CLAIMS.get(cid, {}).get("cpu_only") else 0}


def command(wildcards) -> str:
    cid = claim_id(wildcards.stem)
    scale = "" if SCALE == "published" else f" --scale {SCALE}"
    device = "" if DEVICE == "cpu" or CLAIMS.get(cid, {}).get("cpu_only") else f" -p device {DEVICE}"
    return f"{scale}{device} {config.get(cid, '')}"


rule all:
    input:
        [f"{STAMPS}/{s.parent.name}/{s.stem}.done" for s in sources(ROOT)],


rule execute:
    input:
        source="notebooks/{part}/{stem}.py",
        package=PACKAGE,
    output:
        touch(STAMPS + "/{part}/{stem}.done"),
    params:
        args=command,
        python=sys.executable,  # the environment Snakemake runs in, whatever PATH says
    threads: 1
    resources:
        runtime=lambda wildcards: resources(wildcards.stem)["runtime"],
        mem_mb=lambda wildcards: resources(wildcards.stem)["mem_mb"],
        gpu=lambda wildcards: resources(wildcards.stem)["gpus"],
    shell:
        "{params.python} -m dltheory run {wildcards.stem} {params.args}"
