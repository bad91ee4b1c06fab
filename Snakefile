# Executes every stale notebook: notebooks/<part>/<stem>.py -> book/<part>/<stem>.ipynb + book/_claims/<ID>.json.
#
# The declared output is a stamp (dltheory.pipeline.layout.stamp_path), not the published page: Snakemake deletes a
# job's outputs before it runs and after it fails, and a failed run must leave the published page as it was.
# `python -m dltheory sync` (run first by `make book`) creates stamps for pages that are current by content (the
# claim record's source and package hashes), so a fresh clone re-executes only what is stale.
# Scale out: snakemake --executor slurm --jobs 20 --config Y2="-p n_models 1000" (parameters per claim id).
import sys
from pathlib import Path

from dltheory.pipeline.layout import claim_id, sources, stamp_path

ROOT = Path(workflow.basedir).resolve()
PACKAGE = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "src" / "dltheory").rglob("*.py"))


rule all:
    input:
        [str(stamp_path(ROOT, s).relative_to(ROOT)) for s in sources(ROOT)],


rule execute:
    input:
        source="notebooks/{part}/{stem}.py",
        package=PACKAGE,
    output:
        touch("_build/stamps/{part}/{stem}.done"),
    params:
        extra=lambda wildcards: config.get(claim_id(wildcards.stem), ""),
        python=sys.executable,  # the environment Snakemake runs in, whatever PATH says
    threads: 1
    shell:
        "{params.python} -m dltheory run {wildcards.stem} {params.extra}"
