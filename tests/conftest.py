"""Shared fixtures: the project root and a throwaway copy of the project for pipeline tests."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

# one thread, as the pages run: a test's cost is then its own, not the machine's load
torch.set_num_threads(1)

# A tiny notebook that follows the house conventions: parameters cell, setup, a printed figure, record_claim.
GOOD = '''# %% [markdown]
# # Z1 · a throwaway notebook for the pipeline tests

# %% tags=["parameters"]
seed = 0
scale = 2.5

# %%
from dltheory import repro

session = repro.setup(seed)
value = scale * float(session.rng.normal())
print(f"value = {value:.4f}")

# %%
checks = {"bounded": repro.evidence(abs(value), "<", 100.0)}
repro.record_claim("Z1", title="throwaway", status=repro.grade(checks), criterion="|value| < 100",
                   checks=checks, measured={"value": value},
                   controls={"huge": repro.control("a huge value", {"bounded": repro.evidence(1e3, "<", 100.0)},
                                                   kind="near miss")})
'''


def cli(*args, cwd):
    """Run ``python -m dltheory ARGS`` in ``cwd``; return the completed process."""
    return subprocess.run([sys.executable, "-m", "dltheory", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """Each device present: ``cpu`` always, ``cuda`` where a GPU is."""
    return request.param


@pytest.fixture
def project(tmp_path):
    """A minimal project (notebooks/, book/, Snakefile) holding only the throwaway notebook Z1."""
    (tmp_path / "notebooks" / "scratch").mkdir(parents=True)
    (tmp_path / "book" / "_claims").mkdir(parents=True)
    (tmp_path / "src" / "dltheory").mkdir(parents=True)
    (tmp_path / "notebooks" / "scratch" / "z1-throwaway.py").write_text(GOOD)
    (tmp_path / "book" / "claims.yml").write_text(
        "parts:\n  scratch: {report: '999', title: Scratch}\nclaims:\n  Z1: {part: scratch, title: throwaway}\n")
    shutil.copy2(ROOT / "Snakefile", tmp_path / "Snakefile")
    return tmp_path


# Default tolerances per dtype for comparisons of two routes to the same number (rounding only)
TOL = {
    "float32": dict(rtol=1e-5, atol=1e-6),
    "float64": dict(rtol=1e-10, atol=1e-12),
}
