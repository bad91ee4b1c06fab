# Executes every stale notebook: notebooks/<part>/<stem>.py -> book/<part>/<stem>.ipynb + book/_claims/<ID>.json.
#
# The declared output is a stamp under _build/stamps/, not the published page: Snakemake deletes a job's outputs
# before it runs and after it fails, and a failed run must leave the published page as it was. `python -m
# dltheory sync` (run first by `make book`) creates stamps for pages that are current by content (the claim
# record's source and package hashes), so a fresh clone re-executes only what is stale.
# Scale out: snakemake --executor slurm --jobs 20 --config Y2="-p n_models 1000" (parameters per claim id).
import glob
import os

SOURCES = sorted(glob.glob("notebooks/*/*.py"))
PACKAGE = sorted(glob.glob("src/dltheory/**/*.py", recursive=True))


rule all:
    input:
        [f"_build/stamps/{os.path.dirname(s)[len('notebooks/'):]}/{os.path.basename(s)[:-3]}.done" for s in SOURCES],


rule execute:
    input:
        source="notebooks/{part}/{stem}.py",
        package=PACKAGE,
    output:
        touch("_build/stamps/{part}/{stem}.done"),
    params:
        extra=lambda wildcards: config.get(wildcards.stem.split("-")[0].upper(), ""),
    threads: 1
    shell:
        "python -m dltheory run {wildcards.stem} {params.extra}"
