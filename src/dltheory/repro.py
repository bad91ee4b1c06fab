"""Reproducibility plumbing shared by every notebook: seeding, one thread, timing, claim records.

A notebook calls :func:`setup` once, right after its parameters cell, and :func:`record_claim` once, in its
check cell. ``record_claim`` writes ``<ID>.json`` only into the directory named by the environment variable
``DLTHEORY_CLAIMS_DIR`` (set by ``python -m dltheory run``); in a plain kernel or under nbval it validates and
prints the record and writes nothing, so replaying a notebook never changes the published book.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import time
from numbers import Real
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

__all__ = ["STATUSES", "Session", "setup", "record_claim", "significant"]

STATUSES = ("reproduced", "partially reproduced", "not reproduced", "out of reach")
CLAIMS_DIR_ENV = "DLTHEORY_CLAIMS_DIR"
_ID = re.compile(r"^[A-Z][0-9]+$")
_started: float | None = None


class Session(NamedTuple):
    """What :func:`setup` hands a notebook: a numpy ``rng``, a seeded torch ``generator`` and the ``device``."""

    rng: np.random.Generator
    generator: torch.Generator
    device: torch.device


def setup(seed: int, *, device: str = "cpu") -> Session:
    """Seed python, numpy and torch, use one thread and deterministic algorithms, and start the clock.

    ``device`` is ``"cpu"`` or ``"cuda"``; results are published on the CPU with one thread (float results
    change with the thread count).
    """
    global _started
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    _started = time.perf_counter()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # numpy's BLAS then follows OMP_NUM_THREADS, which the runner sets to 1
        pass
    dev = torch.device(device)
    return Session(np.random.default_rng(seed), torch.Generator(device=dev).manual_seed(seed), dev)


def significant(x: float, digits: int = 4) -> float | int:
    """``x`` rounded to ``digits`` significant digits (printed figures stay stable across machines); integers
    stay integers."""
    if isinstance(x, int | np.integer):
        return int(x)
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def record_claim(claim_id: str, *, title: str, status: str, criterion: str,
                 measured: dict[str, float], digits: int = 4) -> None:
    """Validate, print and (under the runner) write the claim record of one result.

    Parameters
    ----------
    claim_id : the id in CLAIMS.md, e.g. ``"Y2"``.
    title : one line naming the result.
    status : one of :data:`STATUSES`.
    criterion : the acceptance criterion in words.
    measured : name -> number; stored rounded to ``digits`` significant digits. A figure that depends on the
        machine's speed must have ``seconds`` or ``speedup`` in its name: nbval's sanitize file masks those.

    The runner adds ``seed``, ``parameters``, ``notebook``, ``source_sha256`` and provenance afterwards.
    Returns nothing, so that a cell ending with this call displays only the rounded figures it prints, never
    the run time (which differs between runs and would break nbval).
    """
    if not _ID.match(claim_id):
        raise ValueError(f"claim id {claim_id!r} is not of the form 'Y2'")
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {STATUSES}")
    bad = {k: v for k, v in measured.items() if not isinstance(v, Real | np.number) or isinstance(v, bool)}
    if bad:
        raise TypeError(f"measured values must be numbers, got {bad}")
    record = {
        "id": claim_id,
        "title": title,
        "status": status,
        "criterion": criterion,
        "measured": {k: significant(v, digits) for k, v in measured.items()},
        "seconds": round(time.perf_counter() - _started, 1) if _started is not None else None,
    }
    print(f"{claim_id}: {status}")
    for k, v in record["measured"].items():
        print(f"  {k} = {v}" if isinstance(v, int) else f"  {k} = {v:.{digits}g}")
    out = os.environ.get(CLAIMS_DIR_ENV)
    if out:
        path = Path(out) / f"{claim_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2) + "\n")
