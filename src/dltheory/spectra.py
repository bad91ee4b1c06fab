r"""Random-matrix laws for the spectra of weight matrices and network Jacobians.

The Marchenko–Pastur law: for a :math:`p \times m` matrix :math:`W` of i.i.d. entries of mean 0 and variance
:math:`\sigma^2`, the eigenvalues of :math:`W W^\top / m` follow, as :math:`p, m \to \infty` with
:math:`p/m \to \lambda`, the density

.. math:: \rho(x) = \frac{\sqrt{(b - x)(x - a)}}{2\pi\sigma^2\lambda x}, \quad
          a, b = \sigma^2(1 \mp \sqrt\lambda)^2,

plus an atom of mass :math:`1 - 1/\lambda` at 0 when :math:`\lambda > 1`. This module gives the density, a closed
form of the distribution function, the Kolmogorov–Smirnov distance of an empirical spectrum to it, two ensembles
that break the law's assumptions (heavy tails, low rank plus noise), and input–output Jacobian singular values.

References: marchenko1967distribution, pennington2017resurrecting.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

__all__ = ["Support", "marchenko_pastur_support", "marchenko_pastur_pdf", "marchenko_pastur_cdf",
           "gram_eigenvalues", "ks_distance", "heavy_tailed_matrix", "low_rank_plus_noise", "bbp_threshold",
           "spike_eigenvalue", "spiked_matrix", "tracy_widom_scale", "count_outliers", "jacobian", "singular_values"]


class Support(NamedTuple):
    """The edges of the continuous part of the Marchenko–Pastur law."""

    low: float
    high: float


def marchenko_pastur_support(ratio: float, *, scale: float = 1.0) -> Support:
    r"""Edges :math:`\sigma^2(1 \mp \sqrt\lambda)^2` for ``ratio`` :math:`\lambda = p/m > 0` and ``scale``
    :math:`\sigma^2`."""
    if ratio <= 0 or scale <= 0:
        raise ValueError(f"ratio and scale must be positive, got {ratio}, {scale}")
    r = math.sqrt(ratio)
    return Support(scale * (1 - r) ** 2, scale * (1 + r) ** 2)


def marchenko_pastur_pdf(x: np.ndarray, ratio: float, *, scale: float = 1.0) -> np.ndarray:
    """Density of the continuous part at ``x`` (any shape; 0 outside the support). Its mass is
    ``min(1, 1/ratio)``; the rest is an atom at 0."""
    x = np.asarray(x, dtype=float)
    a, b = marchenko_pastur_support(ratio, scale=scale)
    inside = (x > a) & (x < b)
    out = np.zeros_like(x)
    xi = x[inside]
    out[inside] = np.sqrt((b - xi) * (xi - a)) / (2 * np.pi * scale * ratio * xi)
    return out


def _antiderivative(t: np.ndarray, a: float, b: float) -> np.ndarray:
    r""":math:`G` with :math:`G' = \sqrt{(b-t)(t-a)}/t` on :math:`(a, b)`, continuous on :math:`[a, b]`, for
    :math:`0 \le a < b` (our derivation; checked against quadrature in the tests)."""
    t = np.clip(t, a, b)
    half = (a + b) / 2
    width = b - a
    root = np.sqrt(np.clip((b - t) * (t - a), 0, None))
    first = half * np.arcsin(np.clip((2 * t - a - b) / width, -1, 1))
    if a == 0:  # sqrt(ab) = 0: the last term vanishes
        return root + first
    with np.errstate(divide="ignore", invalid="ignore"):
        arg = ((a + b) * t - 2 * a * b) / (t * width)
    return root + first - math.sqrt(a * b) * np.arcsin(np.clip(arg, -1, 1))


def marchenko_pastur_cdf(x: np.ndarray, ratio: float, *, scale: float = 1.0) -> np.ndarray:
    """Distribution function at ``x`` (any shape), atom at 0 included when ``ratio > 1``."""
    x = np.asarray(x, dtype=float)
    a, b = marchenko_pastur_support(ratio, scale=1.0)
    s = x / scale
    atom = max(0.0, 1 - 1 / ratio)
    cont = (_antiderivative(s, a, b) - _antiderivative(np.asarray(a), a, b)) / (2 * np.pi * ratio)
    out = np.where(s < 0, 0.0, atom + np.where(s <= a, 0.0, np.where(s >= b, 1 - atom, cont)))
    return np.clip(out, 0.0, 1.0)


def gram_eigenvalues(w: torch.Tensor | np.ndarray) -> np.ndarray:
    r"""Eigenvalues of :math:`W W^\top / m` for ``w`` of shape (p, m), ascending, shape (p,), float64. The matrix
    is positive semi-definite: eigenvalues below :math:`10^{-10}` times the largest are set to exactly 0 (for
    p > m, the atom of the law)."""
    w = torch.as_tensor(w).detach().to("cpu", torch.float64)
    e = torch.linalg.eigvalsh(w @ w.T / w.shape[1]).numpy()
    e[e < 1e-10 * e.max()] = 0.0
    return e


def ks_distance(eigenvalues: np.ndarray, ratio: float, *, scale: float = 1.0) -> float:
    """Kolmogorov–Smirnov distance between the empirical distribution of ``eigenvalues`` (p,) and the
    Marchenko–Pastur law with ``ratio`` and ``scale``: the largest gap between the two distribution functions,
    at and just below every eigenvalue (ties and the law's atom at 0 included)."""
    e = np.sort(np.asarray(eigenvalues, dtype=float))
    n = len(e)
    right = np.searchsorted(e, e, side="right") / n  # empirical F(e_i)
    left = np.searchsorted(e, e, side="left") / n  # empirical F(e_i-)
    f = marchenko_pastur_cdf(e, ratio, scale=scale)
    f_left = np.where(e <= 0, 0.0, f)  # the law is continuous except for its atom at 0
    return float(max(np.abs(right - f).max(), np.abs(left - f_left).max()))


def heavy_tailed_matrix(p: int, m: int, *, df: float, rng: np.random.Generator) -> np.ndarray:
    """Student-t entries with ``df`` degrees of freedom, shape (p, m), drawn with ``rng``: for df <= 2 the
    variance is infinite and the Marchenko–Pastur law does not apply."""
    return rng.standard_t(df, size=(p, m))


def low_rank_plus_noise(p: int, m: int, *, rank: int, strength: float, rng: np.random.Generator) -> np.ndarray:
    r""":math:`Z + \text{strength}\, U V^\top / \sqrt{\text{rank}}` with :math:`Z, U, V` standard Gaussian of
    shapes (p, m), (p, rank), (m, rank), drawn with ``rng``: ``rank`` structured directions on i.i.d. noise."""
    z = rng.standard_normal((p, m))
    u = rng.standard_normal((p, rank))
    v = rng.standard_normal((m, rank))
    return z + strength * (u @ v.T) / math.sqrt(rank)


def bbp_threshold(ratio: float) -> float:
    r"""The spike strength :math:`\theta_c = \lambda^{1/4}` above which a rank-one spike :math:`\theta u v^\top`
    (unit :math:`u, v`) added to :math:`Z/\sqrt m` (:math:`Z` of shape (p, m), i.i.d. unit-variance entries,
    :math:`\lambda = p/m`) pulls an eigenvalue of :math:`XX^\top` out of the Marchenko–Pastur bulk
    (Baik, Ben Arous and Péché; Benaych-Georges and Nadakuditi)."""
    if ratio <= 0:
        raise ValueError(f"ratio must be positive, got {ratio}")
    return ratio**0.25


def spike_eigenvalue(strength: float, ratio: float) -> float:
    r"""Limit of the largest eigenvalue of :math:`XX^\top`, :math:`X = Z/\sqrt m + \theta u v^\top`:
    :math:`(1 + \theta^2)(\lambda + \theta^2)/\theta^2` above :func:`bbp_threshold`, the bulk's upper edge
    :math:`(1 + \sqrt\lambda)^2` at or below it."""
    if strength <= bbp_threshold(ratio):
        return marchenko_pastur_support(ratio).high
    t2 = strength**2
    return (1 + t2) * (ratio + t2) / t2


def spiked_matrix(p: int, m: int, *, strength: float, rng: np.random.Generator) -> np.ndarray:
    r""":math:`Z + \theta\sqrt m\, u v^\top`, shape (p, m): standard Gaussian :math:`Z` and a rank-one spike of
    strength ``strength`` :math:`= \theta` along random unit vectors :math:`u, v`, drawn with ``rng``; so that
    :math:`W/\sqrt m` is the model of :func:`spike_eigenvalue`."""
    z = rng.standard_normal((p, m))
    u = rng.standard_normal(p)
    v = rng.standard_normal(m)
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    return z + strength * math.sqrt(m) * np.outer(u, v)


def tracy_widom_scale(p: int, m: int) -> float:
    r"""The scale :math:`(\sqrt p + \sqrt m)(1/\sqrt p + 1/\sqrt m)^{1/3}/m` of the Tracy–Widom fluctuations of
    the largest eigenvalue of :math:`ZZ^\top/m` about the upper edge (Johnstone 2001), for unit-variance entries."""
    return (math.sqrt(p) + math.sqrt(m)) * (1 / math.sqrt(p) + 1 / math.sqrt(m)) ** (1 / 3) / m


def count_outliers(eigenvalues: np.ndarray, p: int, m: int, *, k: float = 4.0, scale: float = 1.0) -> int:
    r"""How many ``eigenvalues`` of :math:`WW^\top/m` (entry variance ``scale``) lie beyond the Marchenko–Pastur
    upper edge by more than ``k`` Tracy–Widom scales (:func:`tracy_widom_scale`): an i.i.d. matrix exceeds
    ``k = 4`` with probability of order 1e-3."""
    edge = marchenko_pastur_support(p / m, scale=scale).high
    return int((np.asarray(eigenvalues) > edge + k * scale * tracy_widom_scale(p, m)).sum())


def jacobian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Input–output Jacobian of ``model`` at one input ``x`` of shape (d,): shape (outputs, d)."""
    return torch.autograd.functional.jacobian(lambda v: model(v.unsqueeze(0)).squeeze(0), x)


def singular_values(j: torch.Tensor) -> np.ndarray:
    """Singular values of ``j`` (k, d), descending, shape (min(k, d),), float64."""
    return torch.linalg.svdvals(j.detach().to("cpu", torch.float64)).numpy()
