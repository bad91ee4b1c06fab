"""The house plotting style: one look for every figure in the book.

Use :func:`subplots` instead of ``plt.subplots``; the style is applied there, so a notebook never styles a cell.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from cycler import cycler

__all__ = ["STYLE", "COLORS", "subplots"]

# Okabe–Ito colours: distinguishable with colour-vision deficiency and in greyscale order
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": cycler(color=COLORS),
    "lines.linewidth": 1.6,
    "lines.markersize": 4,
    "figure.constrained_layout.use": True,
}


def subplots(nrows: int = 1, ncols: int = 1, *, width: float = 7.0, height: float = 3.0, **kwargs):
    """``plt.subplots`` in the house style; ``width`` x ``height`` inches fits the book's text column."""
    plt.rcParams.update(STYLE)
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)
