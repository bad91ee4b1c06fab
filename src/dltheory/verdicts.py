"""The words of a claim record that the pipeline reads without computing anything (so without torch): the
statuses a claim can have, which figures are timings, and the variable that tells a notebook where to write."""

from __future__ import annotations

import re

__all__ = ["STATUSES", "CLAIMS_DIR_ENV", "is_timing"]

CLAIMS_DIR_ENV = "DLTHEORY_CLAIMS_DIR"
STATUSES = ("reproduced", "partially reproduced", "undecided at this size", "not reproduced", "out of reach")
_TIMING = re.compile(r"seconds|speedup")


def is_timing(name: str) -> bool:
    """Figures that measure the machine's speed (``seconds``, ``speedup`` in the name): recorded, never compared."""
    return bool(_TIMING.search(name))
