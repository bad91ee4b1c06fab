"""What every notebook shares: seeding, one thread, the claim record with its checks, controls and tolerances.

A notebook calls :func:`setup` once, right after its parameters cell, and :func:`record_claim` once, in its check
cell, before it asserts what its verdict rests on. Every check is an :func:`evidence` or a :func:`sanity` check
with its value, threshold and margin; only evidence grades a claim (:func:`grade`). Every random stream a page
draws besides the session's own comes from :meth:`Session.seed_for` (one ``SeedSequence`` derivation), so runs at
different seeds never share a stream. ``record_claim`` writes ``<ID>.json`` only into the folder
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
import zlib
from collections.abc import Mapping
from numbers import Real
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from dltheory import portable
from dltheory.verdicts import CLAIMS_DIR_ENV, STATUSES, is_timing

__all__ = ["STATUSES", "KINDS", "CONTROL_KINDS", "Session", "Measured", "Check", "Control", "Verdict", "setup",
           "derive_seed", "to_numpy", "measure", "evidence", "sanity", "control", "grade", "record_claim", "significant",
           "glue", "is_timing"]

KINDS = ("evidence", "sanity")
CONTROL_KINDS = ("near miss", "far")
_OPS = {">=": lambda m: m >= 0, ">": lambda m: m > 0, "<=": lambda m: m >= 0, "<": lambda m: m > 0}
_ID = re.compile(r"^[A-Z][0-9]+$")
_started: float | None = None
_started_cpu: float | None = None
_devices: tuple[str, ...] = ("cpu", "cuda")


def derive_seed(seed: int, name: str, index: int = 0) -> int:
    """An independent 63-bit seed for the stream ``(name, index)`` of a page run at ``seed``.

    One derivation for every page: numpy's ``SeedSequence(seed, spawn_key=(crc32(name), index))``. Streams of
    different names or indices, or of different page seeds, are statistically independent; nothing like
    ``seed + i`` can make the run at seed 1 reuse a network of the run at seed 0.
    """
    if not isinstance(index, int | np.integer) or index < 0:
        raise ValueError(f"stream index must be a non-negative int, got {index!r}")
    key = (zlib.crc32(name.encode()), int(index))
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


class Session(NamedTuple):
    """What :func:`setup` hands a notebook: a numpy ``rng``, a seeded torch ``generator``, the ``device``,
    whether the process computes with :mod:`dltheory.portable` numerics, and the page's ``seed``, from which
    :meth:`seed_for`, :meth:`rng_for` and :meth:`generator_for` derive every other stream."""

    rng: np.random.Generator
    generator: torch.Generator
    device: torch.device
    portable: bool
    seed: int = 0

    def seed_for(self, name: str, index: int = 0) -> int:
        """The seed of stream ``(name, index)``: :func:`derive_seed` of the page's seed."""
        return derive_seed(self.seed, name, index)

    def rng_for(self, name: str, index: int = 0) -> np.random.Generator:
        """A numpy generator on stream ``(name, index)``."""
        return np.random.default_rng(self.seed_for(name, index))

    def generator_for(self, name: str, index: int = 0) -> torch.Generator:
        """A torch generator on the session's device, on stream ``(name, index)``."""
        return torch.Generator(device=self.device).manual_seed(self.seed_for(name, index))


class Measured(NamedTuple):
    """A measured figure with the tolerance within which a rerun on another platform must find it, and why."""

    value: float
    tol: float
    basis: str


class Check(NamedTuple):
    """One part of a criterion: ``value op threshold``, whether it holds, and by how much (``margin``, in the
    value's units, >= 0 when it holds). ``kind`` is ``evidence`` (a wrong implementation or a false claim could
    fail it) or ``sanity`` (true by construction: an identity, a theorem on its own hypotheses, the code agreeing
    with itself). ``scale`` is what the margin is divided by to compare checks (default: the threshold's size)."""

    passed: bool
    kind: str
    value: float
    op: str
    threshold: float
    margin: float
    scale: float

    @property
    def relative_margin(self) -> float:
        return self.margin / self.scale

    def record(self, digits: int = 4) -> dict:
        return {"passed": self.passed, "kind": self.kind, "value": significant(self.value, digits), "op": self.op,
                "threshold": significant(self.threshold, digits), "margin": significant(self.margin, digits),
                "scale": significant(self.scale, digits)}


def _check(kind: str, value, op: str, threshold, scale) -> Check:
    if op not in _OPS:
        raise ValueError(f"op must be one of {tuple(_OPS)}, got {op!r}")
    for what, v in (("value", value), ("threshold", threshold)):
        if isinstance(v, bool | np.bool_) or not isinstance(v, Real | np.number):
            raise TypeError(f"a check's {what} must be a number, got {v!r}")
    value, threshold = float(value), float(threshold)
    margin = value - threshold if op in (">=", ">") else threshold - value
    if scale is None:
        scale = abs(threshold) if threshold != 0 else 1.0
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"a check's scale must be positive and finite, got {scale!r}")
    passed = bool(not math.isnan(margin) and _OPS[op](margin))
    return Check(passed, kind, value, op, threshold, margin, float(scale))


def evidence(value: float, op: str, threshold: float, *, scale: float | None = None) -> Check:
    """An evidence check ``value op threshold`` (``op`` one of ``>= > <= <``): one a wrong implementation or a
    false claim could fail. Only evidence grades a claim. ``scale`` (default ``|threshold|``, or 1 at a zero
    threshold) sets the unit in which margins of different checks are compared: pass the figure's own
    standard error, or its natural size, when the threshold is zero."""
    return _check("evidence", value, op, threshold, scale)


def sanity(value: float | bool, op: str = ">=", threshold: float = 1, *, scale: float | None = None) -> Check:
    """A sanity check: true by construction when the code is right (an identity, a theorem on its own
    hypotheses, the code agreeing with itself). Recorded and shown, never graded. A bare bool is ``value >= 1``."""
    if isinstance(value, bool | np.bool_):
        value = int(value)
    return _check("sanity", value, op, threshold, scale)


class Control(NamedTuple):
    """A negative (``expected="fail"``) or positive control: the claim's checks run where the outcome is known.

    ``kind`` is ``near miss`` (a plausible wrong method, or a nearby case where the claim must fail, that passes
    the page's sanity checks) or ``far`` (an illustration: a strawman no one would mistake for the method)."""

    what: str
    checks: dict[str, Check]
    measured: dict[str, float]
    expected: str = "fail"
    kind: str = "near miss"

    @property
    def passed_check(self) -> bool:
        """Whether every evidence check held (what a negative control must not do)."""
        return all(c.passed for c in self.checks.values() if c.kind == "evidence")

    @property
    def sanity_passed(self) -> bool:
        return all(c.passed for c in self.checks.values() if c.kind == "sanity")

    @property
    def failed_evidence(self) -> list[str]:
        return [k for k, c in self.checks.items() if c.kind == "evidence" and not c.passed]


class Verdict(NamedTuple):
    """A claim's status as :func:`grade` computed it from the evidence, with the ceiling put on it and why."""

    status: str
    cap: str | None = None
    reason: str | None = None


def setup(seed: int, *, device: str = "cpu", cpu_only: str | None = None) -> Session:
    """Seed python, numpy and torch, use one thread and deterministic algorithms, and start the clock.

    ``device`` is ``"cpu"`` or ``"cuda"``. Pages are published on the CPU with one thread under portable numerics
    (:mod:`dltheory.portable`); elsewhere they run the same, but the last digits may differ, and this warns. A page
    that computes on the CPU by nature (numpy, scipy, POT) passes ``cpu_only`` (why), and then refuses ``cuda``
    with a one-line error instead of ignoring it; its record says so.
    """
    global _started, _started_cpu, _devices
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if cpu_only and device != "cpu":
        raise ValueError(f"this page runs on the CPU only ({cpu_only}): run it with device='cpu'")
    _devices = ("cpu",) if cpu_only else ("cpu", "cuda")
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
        warnings.warn("numerics are not portable: this kernel was not started with the environment of "
                      "dltheory.portable.kernel_env() (its settings and vector-math library), so the last digits may "
                      "differ from the published page (use the Jupyter kernel 'dltheory')",
                      RuntimeWarning, stacklevel=2)
    return Session(np.random.default_rng(seed), torch.Generator(device=dev).manual_seed(seed), dev, ok, seed)


def to_numpy(x) -> np.ndarray:
    """The one way out of torch: a tensor on any device (or an array, or a number) as a numpy array on the CPU,
    detached, with its dtype."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


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


def _checks(checks: Mapping[str, Check], where: str) -> dict[str, Check]:
    for k, c in checks.items():
        if not isinstance(c, Check):
            raise TypeError(f"{where}: check {k!r} must be repro.evidence(...) or repro.sanity(...), got {c!r}")
    return dict(checks)


def control(what: str, checks: Mapping[str, Check], measured: Mapping[str, float] | None = None, *,
            kind: str, expected: str = "fail") -> Control:
    """A control: ``checks`` are the claim's own checks run on a case where they must ``expected`` (fail or
    pass); ``kind`` is ``"near miss"`` or ``"far"`` (see :class:`Control`)."""
    if expected not in ("fail", "pass"):
        raise ValueError(f"expected must be 'fail' or 'pass', got {expected!r}")
    if kind not in CONTROL_KINDS:
        raise ValueError(f"control kind must be one of {CONTROL_KINDS}, got {kind!r}")
    return Control(what, _checks(checks, f"control {what!r}"), dict(measured or {}), expected, kind)


_ORDER = ("reproduced", "partially reproduced", "not reproduced")


def grade(checks: Mapping[str, Check], *, cap: str | None = None, reason: str | None = None,
          undecided: str | None = None) -> Verdict:
    """The status the evidence checks give: ``reproduced`` if every one holds, ``not reproduced`` if none does,
    else ``partially reproduced``. Sanity checks never enter. A claim with no evidence check cannot be graded.

    ``cap`` (with its ``reason``) is a ceiling the page states, e.g. a part of the claim it could not test:
    the status is the lower of the two. ``undecided`` (a reason: the run is too small to decide) turns anything
    short of ``reproduced`` into ``undecided at this size``, never ``not reproduced``.
    """
    checks = _checks(checks, "grade")
    ev = [c.passed for c in checks.values() if c.kind == "evidence"]
    if not ev:
        raise ValueError("a claim with no evidence check cannot be graded: every check given is a sanity check")
    held = sum(ev)
    status = "reproduced" if held == len(ev) else ("not reproduced" if held == 0 else "partially reproduced")
    if cap is not None:
        if cap not in _ORDER:
            raise ValueError(f"cap must be one of {_ORDER}, got {cap!r}")
        if not reason:
            raise ValueError("a cap needs its reason")
        status = _ORDER[max(_ORDER.index(status), _ORDER.index(cap))]
    if undecided is not None and status != "reproduced":
        status, cap, reason = "undecided at this size", None, undecided
    return Verdict(status, cap, reason)


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


def record_claim(claim_id: str, *, title: str, status: Verdict | str, criterion: str, checks: Mapping[str, Check],
                 measured: Mapping[str, float | Measured], controls: Mapping[str, Control],
                 digits: int = 4) -> None:
    """Validate, print, glue and (under the runner) write the claim record of one result.

    Parameters
    ----------
    claim_id : the id in the catalogue (``book/claims.yml``), e.g. ``"Y2"``.
    title : one line naming the result.
    status : the :class:`Verdict` of :func:`grade` on these checks (never a status set by hand), or
        ``"out of reach"`` for a claim that cannot be tested here.
    criterion : the acceptance criterion in words, as ``book/claims.yml`` fixes it (and any stronger check).
    checks : name -> :func:`evidence` or :func:`sanity`; ``partially reproduced`` names the parts that fail.
    measured : name -> number, or :func:`measure` with a tolerance for reruns elsewhere. Integers must match
        exactly and other numbers to ``digits`` significant digits unless a tolerance is declared; a figure that
        depends on the machine's speed has ``seconds`` or ``speedup`` in its name and is never compared.
    controls : name -> :func:`control`; every claim that is not out of reach has at least one negative control
        of kind ``near miss``.

    Every figure is glued under its name (a control's as ``<control>.<figure>``), the status as ``status``.
    Returns nothing, so that a cell ending with this call displays only what it prints.
    """
    if not _ID.match(claim_id):
        raise ValueError(f"claim id {claim_id!r} is not of the form 'Y2'")
    checks = _checks(checks, claim_id)
    if isinstance(status, Verdict):
        verdict = grade(checks, cap=status.cap, reason=status.reason,
                        undecided=status.reason if status.status == "undecided at this size" else None)
        if verdict != status:
            raise ValueError(f"{claim_id}: status {status.status!r} is not what its checks grade ({verdict.status!r})")
    elif status == "out of reach":
        verdict = Verdict(status)
    else:
        raise ValueError(f"status {status!r} is not one of {STATUSES} as repro.grade(checks) gives it (only "
                         "'out of reach' may be given by hand)")
    if verdict.status != "out of reach" and not any(c.expected == "fail" and c.kind == "near miss"
                                                    for c in controls.values()):
        raise ValueError(f"{claim_id}: a claim record needs at least one negative control (expected='fail') of "
                         "kind 'near miss'")
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
        "status": verdict.status,
        "status_cap": {"cap": verdict.cap, "reason": verdict.reason} if verdict.reason else None,
        "criterion": criterion,
        "checks": {k: c.record(digits) for k, c in checks.items()},
        "measured": values,
        "tolerances": tolerances,
        "controls": {name: {"what": c.what, "kind": c.kind, "expected": c.expected, "passed_check": c.passed_check,
                            "sanity_passed": c.sanity_passed, "failed_evidence": c.failed_evidence,
                            "checks": {k: ch.record(digits) for k, ch in c.checks.items()},
                            "measured": {k: significant(v, digits) for k, v in c.measured.items()}}
                     for name, c in controls.items()},
        "seconds": round(time.perf_counter() - _started, 1) if _started is not None else None,
        # CPU time of the kernel since setup: the budget's measure on a machine shared with other work
        "cpu_seconds": round(time.process_time() - _started_cpu, 1) if _started_cpu is not None else None,
        "portable_numerics": portable.active(),
        "devices": list(_devices),
    }
    print(f"{claim_id}: {verdict.status}" + (f" ({verdict.reason})" if verdict.reason else ""))
    for k, c in record["checks"].items():
        print(f"  {c['kind']} {k}: {'holds' if c['passed'] else 'fails'} "
              f"({_fmt(c['value'], digits)} {c['op']} {_fmt(c['threshold'], digits)}, margin {_fmt(c['margin'], digits)})")
    for k, v in record["measured"].items():
        print(f"  {k} = {_fmt(v, digits)}")
    for name, c in record["controls"].items():
        outcome = ("passed every evidence check" if c["passed_check"]
                   else "failed " + ", ".join(c["failed_evidence"]))
        sane = "" if c["sanity_passed"] else "; fails a sanity check"
        print(f"  control {name} ({c['kind']}, {c['expected']} expected): {outcome}{sane}")
        for k, v in c["measured"].items():
            print(f"    {k} = {_fmt(v, digits)}")
    glue("status", verdict.status)
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
