r"""One unit of :mod:`dltheory.fisher`: the Fisher block of :math:`\varphi(w \cdot x + b)` under Gaussian inputs, a
diagonal plus rank-2 matrix, its inverse in closed form, and a Monte Carlo estimate to check both.

Reference: amari2019fisher.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from dltheory.fisher.network import _act
from dltheory.fisher.theory import _hermite

__all__ = ["UnitFisher", "unit_fisher", "unit_fisher_inverse", "unit_fisher_monte_carlo"]


# --- a single unit: diagonal plus rank 2 --------------------------------------------------------------------------

class UnitFisher(NamedTuple):
    r"""The Fisher block of one unit :math:`\varphi(w\cdot x + b)`, :math:`x \sim \mathcal N(0, vI_n)`, over
    :math:`(w, b)`: ``matrix`` (n+1, n+1) = :math:`vA_0 (I - UU^\top) + U K U^\top`, with ``basis`` U (n+1, 2)
    spanning (w/|w|, 0) and (0, 1), and ``core`` K (2, 2); :math:`A_k = \mathbb E[\varphi'(u)^2 z^k]`."""

    matrix: np.ndarray
    scale: float
    basis: np.ndarray
    core: np.ndarray


def unit_fisher(w: np.ndarray, b: float, *, variance: float = 1.0, activation: str = "tanh",
                n_quad: int = 101) -> UnitFisher:
    r"""Closed form of :math:`\mathbb E[\varphi'(u)^2 \tilde x\tilde x^\top]`, :math:`\tilde x = (x, 1)`,
    :math:`u = w\cdot x + b`, for ``w`` (n,): writing :math:`u = b + \sqrt v |w| z` with :math:`z` standard normal,
    the weight block is :math:`vA_0` on the directions orthogonal to w and :math:`vA_2` along it, the weight-bias
    entries :math:`\sqrt v A_1 w/|w|`, the bias entry :math:`A_0`. One-dimensional expectations by quadrature."""
    _, dphi = _act(activation)
    w = np.asarray(w, dtype=float)
    n, norm = len(w), float(np.linalg.norm(w))
    z, wq = _hermite(n_quad)
    a = dphi(torch.as_tensor(b + math.sqrt(variance) * norm * z)).numpy() ** 2
    a0, a1, a2 = (float(np.dot(wq, a * z**k)) for k in range(3))
    basis = np.zeros((n + 1, 2))
    basis[:n, 0] = w / norm
    basis[n, 1] = 1.0
    sv = math.sqrt(variance)
    core = np.array([[variance * a2, sv * a1], [sv * a1, a0]])
    scale = variance * a0
    matrix = scale * (np.eye(n + 1) - basis @ basis.T) + basis @ core @ basis.T
    return UnitFisher(matrix, scale, basis, core)


def unit_fisher_inverse(block: UnitFisher) -> np.ndarray:
    r"""The exact inverse (n+1, n+1) of :func:`unit_fisher`'s matrix without a general matrix inversion:
    :math:`(I - UU^\top)/(vA_0) + U K^{-1} U^\top` (U has orthonormal columns; only the 2 x 2 core is inverted)."""
    u, k = block.basis, block.core
    kinv = np.array([[k[1, 1], -k[0, 1]], [-k[1, 0], k[0, 0]]]) / (k[0, 0] * k[1, 1] - k[0, 1] * k[1, 0])
    return (np.eye(len(u)) - u @ u.T) / block.scale + u @ kinv @ u.T


def unit_fisher_monte_carlo(w: np.ndarray, b: float, rng: np.random.Generator, *, variance: float = 1.0,
                            activation: str = "tanh", n_samples: int = 200_000) -> np.ndarray:
    r"""Monte Carlo estimate (n+1, n+1) of :math:`\mathbb E[\varphi'(w\cdot x+b)^2 \tilde x\tilde x^\top]` from
    ``n_samples`` draws :math:`x \sim \mathcal N(0, vI)` of ``rng``."""
    _, dphi = _act(activation)
    w = np.asarray(w, dtype=float)
    x = rng.standard_normal((n_samples, len(w))) * math.sqrt(variance)
    xt = np.concatenate([x, np.ones((n_samples, 1))], axis=1)  # (N, n+1)
    a = dphi(torch.as_tensor(x @ w + b)).numpy() ** 2
    return (xt * a[:, None]).T @ xt / n_samples
