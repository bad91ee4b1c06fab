"""Data sets the book uses: scikit-learn's bundled copies only (nothing is downloaded at run time)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

__all__ = ["Split", "digits", "bars_and_stripes"]


class Split(NamedTuple):
    """Train and test tensors: ``x_*`` shape (N, D) float, ``y_*`` shape (N,) long."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def digits(*, test_size: float = 0.25, seed: int = 0, dtype=torch.float32, device=None) -> Split:
    """scikit-learn's 8x8 handwritten digits (1797 images, stand-in for MNIST), pixels scaled to [0, 1],
    split stratified by class."""
    x, y = load_digits(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x / 16.0, y, test_size=test_size, random_state=seed, stratify=y)

    def t(a, dt):
        return torch.as_tensor(np.asarray(a), dtype=dt, device=device)

    return Split(t(xtr, dtype), t(ytr, torch.long), t(xte, dtype), t(yte, torch.long))


def bars_and_stripes(side: int = 3) -> torch.Tensor:
    """Every ``side`` x ``side`` bars-and-stripes image as +-1 spins, shape (2**(side+1) - 2, side**2):
    any set of rows on (bars) or any set of columns on (stripes); all-off and all-on counted once."""
    patterns = set()
    for mask in range(2**side):
        on = np.array([(mask >> i) & 1 for i in range(side)], dtype=bool)
        patterns.add(tuple(np.repeat(on[:, None], side, 1).ravel()))  # rows
        patterns.add(tuple(np.repeat(on[None, :], side, 0).ravel()))  # columns
    return torch.tensor(sorted(patterns), dtype=torch.float64) * 2 - 1
