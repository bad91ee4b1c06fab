"""Claim-level verification: re-execute claims into a scratch folder and compare their records with the book.

Bit-for-bit replay (nbval) needs an x86-64 CPU and the portable numerics. On any other platform a claim is
verified instead, at its published seed: its status must be the published one, every figure must lie within the
tolerance its notebook declared beside it (integers exactly, other undeclared figures to four significant digits,
timings never), and every control must come out as published. At another seed the figures are other draws and
are expected to differ (the tolerances are for replays of the same seed): only the status and the controls are
compared. A run whose check fails is data: the record it wrote before its ``assert`` is compared like any other.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

from dltheory.pipeline import CellFailed
from dltheory.pipeline.layout import claim_id, find_source, record_path
from dltheory.pipeline.records import published_ids, read_record
from dltheory.verdicts import is_timing

__all__ = ["Outcome", "compare", "verify", "table", "other_seeds"]

RTOL = 1e-3  # undeclared non-integer figures: equal to the four significant digits a record keeps


class Outcome(NamedTuple):
    """One re-execution: the claim, the seed, the new record (None if the run left none), the published one,
    and what disagrees (empty when it verifies)."""

    claim: str
    seed: int
    record: dict | None
    published: dict
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def compare(published: dict, new: dict) -> list[str]:
    """What in ``new`` disagrees with ``published``: status, controls and, when ``new`` ran at the published seed,
    figures beyond their tolerance."""
    problems = []
    if new["status"] != published["status"]:
        problems.append(f"status {new['status']!r} (published {published['status']!r})")
    tolerances = published.get("tolerances", {})
    same_seed = new.get("seed") == published.get("seed")
    for name, old in published["measured"].items() if same_seed else ():
        if is_timing(name):
            continue
        value = new["measured"].get(name)
        if value is None:
            problems.append(f"{name} missing")
            continue
        if name in tolerances:
            tol, how = tolerances[name]["tol"], f"tolerance {tolerances[name]['tol']:g}"
        elif isinstance(old, int) and isinstance(value, int):
            tol, how = 0, "exact"
        else:
            tol, how = RTOL * abs(old), "4 significant digits"
        if not (abs(value - old) <= tol or (math.isnan(value) and math.isnan(old))):
            problems.append(f"{name} = {value:.4g}, published {old:.4g} ({how})")
    for name, old in published.get("controls", {}).items():
        c = new.get("controls", {}).get(name)
        if c is None:
            problems.append(f"control {name} missing")
        elif c["passed_check"] != old["passed_check"]:
            problems.append(f"control {name} {'passed' if c['passed_check'] else 'failed'} the check "
                            f"(published: {'passed' if old['passed_check'] else 'failed'})")
    if new.get("failed"):
        problems.append(f"run stopped at {new['failed']}")
    return problems


def other_seeds(published_seed: int, count: int) -> list[int]:
    """The first ``count`` non-negative seeds other than the published one."""
    return [s for s in range(count + 1) if s != published_seed][:count]


def verify(root: Path, ids: list[str], seeds: list[int] | None, scratch: Path,
           progress=None) -> list[Outcome]:
    """Re-execute each claim of ``ids`` (default: every published one) at its published seed, or at each of
    ``seeds``, under ``scratch/<ID>/seed<N>/``; never touches ``book/``."""
    from dltheory.pipeline.runner import execute

    ids = ids or published_ids(root)
    outcomes = []
    for cid in ids:
        cid = claim_id(find_source(root, cid))
        published = read_record(record_path(root, cid))
        if published is None:
            raise CellFailed(f"{cid} has no published claim record to verify against")
        for seed in seeds if seeds is not None else [published["seed"]]:
            out = scratch / cid / f"seed{seed}"
            if progress:
                progress(f"{cid} at seed {seed} ...")
            try:
                _, rec_path = execute(root, cid, [("seed", str(seed))], out=out)
                note = None
            except CellFailed as e:
                rec_path, note = out / f"{cid}.json", str(e)
            record = read_record(rec_path)
            problems = compare(published, record) if record else [f"no record: {note}"]
            outcomes.append(Outcome(cid, seed, record, published, problems))
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    """A plain-text table, one line per re-execution: at the published seed whether it verifies (``ok`` or
    ``MISMATCH``); at another seed whether its status and controls are the published ones (``same`` or
    ``differs``, which is a finding about the claim, not a fault)."""
    lines = [f"{'claim':<6} {'seed':>4}  {'status':<22} {'verdict':<8} what differs", "-" * 100]
    for o in outcomes:
        status = o.record["status"] if o.record else "(no record)"
        same_seed = o.seed == o.published.get("seed")
        verdict = ("ok" if o.ok else "MISMATCH") if same_seed else ("same" if o.ok else "differs")
        lines.append(f"{o.claim:<6} {o.seed:>4}  {status:<22} {verdict:<8} " + "; ".join(o.problems))
    return "\n".join(lines)
