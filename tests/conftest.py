"""Shared fixtures: the project root and a throwaway copy of the project for pipeline tests."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

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
repro.record_claim("Z1", title="throwaway", status="reproduced", criterion="none",
                   measured={"value": value})
'''


def cli(*args, cwd):
    """Run ``python -m dltheory ARGS`` in ``cwd``; return the completed process."""
    return subprocess.run([sys.executable, "-m", "dltheory", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


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
