"""What every notebook shares: seeding, one thread, the claim record with its checks, controls and tolerances.

A notebook calls :func:`setup` once, right after its parameters cell, and :func:`record_claim` once, in its check
cell, before it asserts what its verdict rests on. ``record_claim`` writes ``<ID>.json`` only into the folder
named by the environment variable ``DLTHEORY_CLAIMS_DIR`` (set by ``python -m dltheory run``); in a plain kernel
or under nbval it validates, prints and glues the record and writes nothing, so a replay never changes the book.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import time
import warnings
from collections.abc import Mapping
from numbers import Real
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from dltheory import portable

__all__ = ["STATUSES", "Session", "Measured", "Control", "setup", "measure", "control", "grade", "record_claim",
           "significant", "glue", "is_timing"]

STATUSES = ("reproduced", "partially reproduced", "not reproduced", "out of reach")
CLAIMS_DIR_ENV = "DLTHEORY_CLAIMS_DIR"
_ID = re.compile(r"^[A-Z][0-9]+$")
_TIMING = re.compile(r"seconds|speedup")
_started: float | None = None
_started_cpu: float | None = None


class Session(NamedTuple):
    """What :func:`setup` hands a notebook: a numpy ``rng``, a seeded torch ``generator``, the ``device``, and
    whether the process computes with :mod:`dltheory.portable` numerics."""

    rng: np.random.Generator
    generator: torch.Generator
    device: torch.device
    portable: bool


class Measured(NamedTuple):
    """A measured figure with the tolerance within which a rerun on another platform must find it, and why."""

    value: float
    tol: float
    basis: str


class Control(NamedTuple):
    """A negative (``expected="fail"``) or positive control: the claim's check run where its outcome is known."""

    what: str
    checks: dict[str, bool]
    measured: dict[str, float]
    expected: str = "fail"

    @property
    def passed_check(self) -> bool:
        return all(self.checks.values())


def setup(seed: int, *, device: str = "cpu") -> Session:
    """Seed python, numpy and torch, use one thread and deterministic algorithms, and start the clock.

    ``device`` is ``"cpu"`` or ``"cuda"``. Pages are published on the CPU with one thread under portable numerics
    (:mod:`dltheory.portable`); elsewhere they run the same, but the last digits may differ, and this warns.
    """
    global _started, _started_cpu
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    _started = time.perf_counter()
    _started_cpu = time.process_time()
    dev = torch.device(device)
    if dev.type == "cuda":  # cuBLAS is deterministic only with a fixed workspace
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    ok = portable.active()
    if not ok:
        warnings.warn("numerics are not portable: this kernel was not started with dltheory.portable.ENV, so the "
                      "last digits may differ from the published page (use the Jupyter kernel 'dltheory')",
                      RuntimeWarning, stacklevel=2)
    return Session(np.random.default_rng(seed), torch.Generator(device=dev).manual_seed(seed), dev, ok)


def significant(x: float, digits: int = 4) -> float | int:
    """``x`` rounded to ``digits`` significant digits; integers stay integers."""
    if isinstance(x, int | np.integer):
        return int(x)
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def measure(value: float, *, tol: float, basis: str) -> Measured:
    """Declare a figure's tolerance beside it: a rerun elsewhere must find it within ``tol`` (absolute), and
    ``basis`` says why, from the figure's own spread (e.g. ``"2 standard errors over 10 seeds"``)."""
    if not (tol >= 0 and math.isfinite(tol)):
        raise ValueError(f"tolerance must be finite and >= 0, got {tol!r}")
    return Measured(float(value), float(tol), basis)


def control(what: str, checks: Mapping[str, bool], measured: Mapping[str, float] | None = None, *,
            expected: str = "fail") -> Control:
    """A control: ``checks`` is the claim's own check run on a case where it must ``expected`` (fail or pass)."""
    if expected not in ("fail", "pass"):
        raise ValueError(f"expected must be 'fail' or 'pass', got {expected!r}")
    return Control(what, {k: bool(v) for k, v in checks.items()}, dict(measured or {}), expected)


def grade(checks: Mapping[str, bool]) -> str:
    """``reproduced`` if every check holds, ``not reproduced`` if none does, else ``partially reproduced``."""
    held = sum(bool(v) for v in checks.values())
    return "reproduced" if held == len(checks) else ("not reproduced" if held == 0 else "partially reproduced")


def is_timing(name: str) -> bool:
    """Figures that measure the machine's speed (``seconds``, ``speedup`` in the name): recorded, never compared."""
    return bool(_TIMING.search(name))


def glue(name: str, value) -> None:
    """Make ``value`` available to the page's prose as ``{glue:text}`name``` (numbers) or ``{glue:md}`name```
    (timings and words), without showing it. Outside an IPython kernel it does nothing."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown
        from myst_nb import glue as _glue
    except ImportError:  # a reader's plain environment: the prose then shows its placeholders
        return
    if get_ipython() is None:
        return
    if isinstance(value, str):
        value = Markdown(value)
    elif is_timing(name):  # units the nbval sanitize file masks: timings differ between runs
        value = Markdown(f"{value:.3g} s" if "seconds" in name else f"{value:.2g}-fold")
    elif isinstance(value, int | np.integer):
        value = int(value)
    else:
        value = float(value)
    _glue(name, value, display=False)


def _number(name: str, value) -> None:
    if not isinstance(value, Real | np.number) or isinstance(value, bool | np.bool_):
        raise TypeError(f"measured value {name!r} must be a number, got {value!r}")


def record_claim(claim_id: str, *, title: str, status: str, criterion: str, checks: Mapping[str, bool],
                 measured: Mapping[str, float | Measured], controls: Mapping[str, Control],
                 digits: int = 4) -> None:
    """Validate, print, glue and (under the runner) write the claim record of one result.

    Parameters
    ----------
    claim_id : the id in CLAIMS.md, e.g. ``"Y2"``.
    title : one line naming the result.
    status : one of :data:`STATUSES`.
    criterion : the acceptance criterion in words, as CLAIMS.md fixes it (and any stronger check beside it).
    checks : name -> whether that part of the criterion holds; ``partially reproduced`` names the parts.
    measured : name -> number, or :func:`measure` with a tolerance for reruns elsewhere. Integers must match
        exactly and other numbers to ``digits`` significant digits unless a tolerance is declared; a figure that
        depends on the machine's speed has ``seconds`` or ``speedup`` in its name and is never compared.
    controls : name -> :func:`control`; every claim that is not out of reach has at least one negative control.

    Every figure is glued under its name (a control's as ``<control>.<figure>``), the status as ``status``.
    Returns nothing, so that a cell ending with this call displays only what it prints.
    """
    if not _ID.match(claim_id):
        raise ValueError(f"claim id {claim_id!r} is not of the form 'Y2'")
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {STATUSES}")
    if status != "out of reach" and not any(c.expected == "fail" for c in controls.values()):
        raise ValueError(f"{claim_id}: a claim record needs at least one negative control (expected='fail')")
    values, tolerances = {}, {}
    for name, v in measured.items():
        if isinstance(v, Measured):
            tolerances[name] = {"tol": significant(v.tol, 2), "basis": v.basis}
            v = v.value
        _number(name, v)
        values[name] = significant(v, digits)
    for c in controls.values():
        for name, v in c.measured.items():
            _number(name, v)
    record = {
        "id": claim_id,
        "title": title,
        "status": status,
        "criterion": criterion,
        "checks": {k: bool(v) for k, v in checks.items()},
        "measured": values,
        "tolerances": tolerances,
        "controls": {name: {"what": c.what, "expected": c.expected, "passed_check": c.passed_check,
                            "checks": c.checks, "measured": {k: significant(v, digits) for k, v in c.measured.items()}}
                     for name, c in controls.items()},
        "seconds": round(time.perf_counter() - _started, 1) if _started is not None else None,
        # CPU time of the kernel since setup: the budget's measure on a machine shared with other work
        "cpu_seconds": round(time.process_time() - _started_cpu, 1) if _started_cpu is not None else None,
        "portable_numerics": portable.active(),
    }
    print(f"{claim_id}: {status}")
    for k, v in record["checks"].items():
        print(f"  check {k}: {'holds' if v else 'fails'}")
    for k, v in record["measured"].items():
        print(f"  {k} = {_fmt(v, digits)}")
    for name, c in record["controls"].items():
        outcome = "passed the check" if c["passed_check"] else "failed the check"
        print(f"  control {name} ({c['expected']} expected): {outcome}")
        for k, v in c["measured"].items():
            print(f"    {k} = {_fmt(v, digits)}")
    glue("status", status)
    for k, v in record["measured"].items():
        glue(k, v)
    for name, c in record["controls"].items():
        for k, v in c["measured"].items():
            glue(f"{name}.{k}", v)
    out = os.environ.get(CLAIMS_DIR_ENV)
    if out:
        path = Path(out) / f"{claim_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2) + "\n")


def _fmt(v, digits: int) -> str:
    return str(v) if isinstance(v, int) else f"{v:.{digits}g}"
