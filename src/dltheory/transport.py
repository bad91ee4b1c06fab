r"""Entropy-regularised optimal transport on a fixed grid: Sinkhorn, the entropic cost, its blur, a corrected
divergence, and barycenters.

With a cost matrix :math:`M` and :math:`\lambda > 0`, the entropic cost of histograms :math:`p, q` is

.. math:: C_\lambda(p, q) = \min_{P 1 = p,\ P^\top 1 = q} \langle P, M\rangle + \lambda \sum_{ij} P_{ij}\log P_{ij}.

It is not a divergence: :math:`C_\lambda(p, p) \ne 0`, and :math:`q \mapsto C_\lambda(p, q)` is smallest not at
:math:`p` but at the blurred :math:`\tilde p = \tilde K^\top p`, :math:`\tilde K_{ij} = K_{ij}/\sum_l K_{il}`,
:math:`K = e^{-M/\lambda}` (:func:`blur`: drop the column constraint, and each row of the plan becomes a normalised
row of :math:`K`). Since blurring is injective (K is positive definite for the squared distance), subtracting the
minimum after blurring the second argument gives a divergence,

.. math:: D_\lambda(p, q) = C_\lambda(p, \tilde K^\top q) - C_\lambda(p, \tilde K^\top p) \ \ge 0,\quad = 0 \iff q = p,

whose barycenter :math:`\arg\min_q \sum_k w_k D_\lambda(p_k, q)` is the ordinary entropic barycenter
:math:`r^\star = \arg\min_r \sum_k w_k C_\lambda(p_k, r)`, un-blurred (:func:`barycenter_corrected`). This form of
the correction is our reconstruction from the properties Amari, Karakida, Oizumi and Cuturi state; see the K4 page.

References: amari2019regularized, amari2018entropy, cuturi2013sinkhorn, schmitzer2019stabilized,
benamou2015iterative, janati2020debiased.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

__all__ = ["Sinkhorn", "squared_distance_cost", "logsumexp", "sinkhorn", "entropic_cost", "blur",
           "corrected_divergence", "barycenter_ibp", "barycenter_debiased", "debiased_objective",
           "barycenter_corrected", "barycenter_gap", "deconvolve", "lp_barycenter_1d", "width",
           "gaussian_histogram", "two_bumps", "random_histogram", "ring_histogram"]

_TINY = 1e-300


class Sinkhorn(NamedTuple):
    """Entropic plan ``plan`` (n, m) = exp((f_i + g_j - M_ij) / reg), dual potentials ``f`` (n,), ``g`` (m,), the
    entropic cost ``cost`` and the number of sweeps ``n_iter``."""

    plan: np.ndarray
    f: np.ndarray
    g: np.ndarray
    cost: float
    n_iter: int


def squared_distance_cost(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """``|x_i - y_j|^2`` for points ``x`` (n,) or (n, d) and ``y`` (m,) or (m, d) -> (n, m)."""
    x = np.atleast_2d(np.asarray(x, dtype=float).T).T
    y = x if y is None else np.atleast_2d(np.asarray(y, dtype=float).T).T
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def logsumexp(a: np.ndarray, axis: int, keepdims: bool = False) -> np.ndarray:
    """``log(sum(exp(a), axis))`` shifted by the maximum; ``a`` finite or -inf (a plain max-shift is about twice as
    fast as scipy's general ``logsumexp`` on the small arrays of the sweeps)."""
    m = a.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # an all -inf slice sums to 0, whose log is -inf
    with np.errstate(divide="ignore"):
        out = m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))
    return out if keepdims else out.squeeze(axis)


def _log(a: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(a, _TINY))


def sinkhorn(a: np.ndarray, b: np.ndarray, cost: np.ndarray, reg: float, *, n_iter: int = 10_000,
             tol: float = 1e-12, bound: float = 50.0) -> Sinkhorn:
    r"""Entropic OT by Sinkhorn's alternating scaling with log-domain potentials (stable for small ``reg``).

    .. math:: \min_{P 1 = a, P^\top 1 = b} \langle P, M\rangle + \mathrm{reg}\sum P\log P

    The potentials ``f``, ``g`` are kept in the log domain; between absorptions the sweeps scale the absorbed
    kernel :math:`e^{(f_i + g_j - M_{ij})/\mathrm{reg}}` by vectors ``u``, ``v`` with matrix-vector products
    (Schmitzer's stabilisation), which is far cheaper than a log-sum-exp per sweep. A block of such sweeps ends, and
    ``reg log u``, ``reg log v`` are absorbed into the potentials, once a scaling leaves
    :math:`[e^{-\mathrm{bound}}, e^{\mathrm{bound}}]`; each block starts with one exact log-domain sweep. Entries
    of ``a``, ``b`` below 1e-300 are treated as 1e-300.

    Parameters
    ----------
    a : ndarray, shape (n,), b : ndarray, shape (m,), histograms of equal mass.
    cost : ndarray, shape (n, m).
    reg : float, > 0.
    n_iter, tol : at most ``n_iter`` sweeps, stopping when the row marginal is off by less than ``tol`` (L1).
    bound : largest ``|log u|``, ``|log v|`` allowed before absorbing.
    """
    la, lb = _log(a), _log(b)
    a, b = np.exp(la), np.exp(lb)
    f, g = np.zeros_like(la), np.zeros_like(lb)
    S = -cost / reg  # (n, m)
    it, err = 0, np.inf
    while it < n_iter and err >= tol:
        f = reg * (la - logsumexp(S + g[None, :] / reg, axis=1))  # the exact log-domain sweep
        g = reg * (lb - logsumexp(S + f[:, None] / reg, axis=0))
        it += 1
        K = np.exp(S + (f[:, None] + g[None, :]) / reg)  # absorbed kernel, (n, m)
        u, v = np.ones_like(a), np.ones_like(b)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            while it < n_iter:
                u_new = a / (K @ v)
                v_new = b / (K.T @ u_new)
                logs = np.log(np.concatenate([u_new, v_new]))
                if not np.all(np.abs(logs) <= bound):  # also catches inf and nan: absorb what we have
                    break
                u, v = u_new, v_new
                it += 1
                if it % 10 == 0:
                    err = np.abs(u * (K @ v) - a).sum()
                    if err < tol:
                        break
        f, g = f + reg * np.log(u), g + reg * np.log(v)
        if err >= tol:  # measured exactly at the end of every block that did not converge
            err = np.abs(np.exp(logsumexp(S + (f[:, None] + g[None, :]) / reg, axis=1)) - a).sum()
    if err >= tol:
        warnings.warn(f"sinkhorn: marginal error {err:.2e} after {n_iter} sweeps; raise n_iter or reg",
                      RuntimeWarning, stacklevel=2)
    logP = S + (f[:, None] + g[None, :]) / reg
    plan = np.exp(logP)
    value = float((plan * cost).sum() + reg * (plan * np.where(plan > 0, logP, 0.0)).sum())
    return Sinkhorn(plan, f, g, value, it)


def entropic_cost(a: np.ndarray, b: np.ndarray, cost: np.ndarray, reg: float, **kw) -> float:
    r""":math:`C_\lambda(a, b)` with :math:`\lambda` = ``reg``; ``a`` (n,), ``b`` (m,), ``cost`` (n, m)."""
    return sinkhorn(a, b, cost, reg, **kw).cost


def _row_kernel(cost: np.ndarray, reg: float) -> np.ndarray:
    """Row-normalised Gibbs kernel K~ (n, m), computed stably."""
    S = -cost / reg
    return np.exp(S - logsumexp(S, axis=1, keepdims=True))


def blur(p: np.ndarray, cost: np.ndarray, reg: float) -> np.ndarray:
    r"""The minimiser :math:`\tilde K^\top p` (m,) of :math:`q \mapsto C_\lambda(p, q)`; ``p`` (n,) or (n, k)."""
    return _row_kernel(cost, reg).T @ p


def corrected_divergence(p: np.ndarray, q: np.ndarray, cost: np.ndarray, reg: float, **kw) -> float:
    r""":math:`D_\lambda(p, q) = C_\lambda(p, \tilde K^\top q) - C_\lambda(p, \tilde K^\top p)` for ``p``, ``q``
    (n,) on one grid, ``cost`` (n, n)."""
    Kt = _row_kernel(cost, reg)
    return entropic_cost(p, Kt.T @ q, cost, reg, **kw) - entropic_cost(p, Kt.T @ p, cost, reg, **kw)


def _weights(k: int, weights: np.ndarray | None) -> np.ndarray:
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (k,) or abs(w.sum() - 1) > 1e-12:
        raise ValueError(f"weights must be {k} numbers summing to 1")
    return w


def barycenter_ibp(ps: np.ndarray, cost: np.ndarray, reg: float, *, weights: np.ndarray | None = None,
                   n_iter: int = 10_000, tol: float = 1e-12) -> np.ndarray:
    r"""Entropic barycenter :math:`\arg\min_r \sum_k w_k C_\lambda(p_k, r)` by iterative Bregman projections
    (Benamou et al.), all histograms at once, in the log domain.

    Parameters
    ----------
    ps : ndarray, shape (n, k), k histograms on the grid.
    cost : ndarray, shape (n, n).
    weights : ndarray, shape (k,), default uniform.

    Returns
    -------
    ndarray, shape (n,).
    """
    n, k = ps.shape
    w = _weights(k, weights)
    S = -cost / reg  # (n, n); histograms run along the last, contiguous axis below
    ST = np.ascontiguousarray(S.T)
    lp = _log(ps).T  # (k, n)
    lg = np.zeros((k, n))  # column scalings, log
    for it in range(1, n_iter + 1):
        lf = lp - logsumexp(S[None] + lg[:, None, :], axis=2)  # (k, n) row scalings
        lkf = logsumexp(ST[None] + lf[:, None, :], axis=2)  # (k, n): log K^T u_k
        lbar = w @ lkf  # (n,)
        if it % 10 == 0:
            err = np.exp(lg + lkf).std(axis=0).sum()  # column marginals of the k plans disagree by this much
            if err < tol:
                break
        lg = lbar[None, :] - lkf
    else:
        warnings.warn(f"barycenter_ibp: not converged after {n_iter} sweeps; raise n_iter or reg", RuntimeWarning,
                      stacklevel=2)
    return np.exp(lbar)


def barycenter_debiased(ps: np.ndarray, cost: np.ndarray, reg: float, *, weights: np.ndarray | None = None,
                        n_iter: int = 10_000, tol: float = 1e-12, inner: int = 10) -> np.ndarray:
    r"""Debiased Sinkhorn barycenter (Janati, Cuturi & Gramfort): the IBP fixed point with the barycenter
    multiplied by :math:`d`, where :math:`d \odot K d = r` is the symmetric scaling of the barycenter itself.
    ``ps`` (n, k), ``cost`` (n, n) -> (n,). ``inner`` damped sweeps update ``log d`` after each outer sweep."""
    n, k = ps.shape
    w = _weights(k, weights)
    S = -cost / reg
    ST = np.ascontiguousarray(S.T)
    lp = _log(ps).T  # (k, n)
    lg = np.zeros((k, n))
    c = np.zeros(n)  # log d
    for it in range(1, n_iter + 1):
        lf = lp - logsumexp(S[None] + lg[:, None, :], axis=2)
        lkf = logsumexp(ST[None] + lf[:, None, :], axis=2)
        lbar = w @ lkf + c
        if it % 10 == 0:
            err = np.exp(lg + lkf).std(axis=0).sum()
            if err < tol and it > 20:
                break
        lg = lbar[None, :] - lkf
        for _ in range(inner):
            c = 0.5 * (c + lbar - logsumexp(ST + c[None, :], axis=1))
    else:
        warnings.warn(f"barycenter_debiased: not converged after {n_iter} sweeps; raise n_iter or reg",
                      RuntimeWarning, stacklevel=2)
    return np.exp(lbar)


def debiased_objective(ps: np.ndarray, q: np.ndarray, cost: np.ndarray, reg: float, *,
                       weights: np.ndarray | None = None, **kw) -> float:
    r""":math:`\sum_k w_k C_\lambda(p_k, q) - \tfrac12 C_\lambda(q, q)`, the objective the debiased barycenter
    minimises (Janati et al.: the weighted Sinkhorn divergences to the ``p_k`` up to a constant; the entropy
    convention of :math:`C_\lambda` shifts it by a constant only). ``ps`` (n, k), ``q`` (n,) normalised to unit
    mass first; ``kw`` goes to :func:`sinkhorn`."""
    w = _weights(ps.shape[1], weights)
    q = q / q.sum()
    return float(sum(wk * entropic_cost(ps[:, k], q, cost, reg, **kw) for k, wk in enumerate(w))
                 - 0.5 * entropic_cost(q, q, cost, reg, **kw))


def deconvolve(r: np.ndarray, cost: np.ndarray, reg: float, *, n_iter: int = 20_000,
               tol: float = 1e-9) -> np.ndarray:
    r"""The histogram ``q`` (n,) minimising :math:`\mathrm{KL}(r \,\|\, \tilde K^\top q)`, by the multiplicative
    (Richardson–Lucy, EM) update :math:`q \leftarrow q \odot \tilde K (r / \tilde K^\top q)`; ``r`` (n,). Where
    ``r`` is a blurred histogram, :math:`r = \tilde K^\top q_0`, the minimum is 0 at ``q_0``."""
    Kt = _row_kernel(cost, reg)  # (n, n)
    q = r.copy()
    for _ in range(n_iter):
        ratio = r / np.maximum(Kt.T @ q, _TINY)
        q_new = q * (Kt @ ratio)
        if np.abs(q_new - q).sum() < tol:
            return q_new / q_new.sum()
        q = q_new
    warnings.warn("deconvolve: not converged; raise n_iter", RuntimeWarning, stacklevel=2)
    return q / q.sum()


def barycenter_corrected(ps: np.ndarray, cost: np.ndarray, reg: float, *, weights: np.ndarray | None = None,
                         n_iter: int = 10_000, tol: float = 1e-12, deconv_iter: int = 20_000) -> np.ndarray:
    r"""Barycenter for the corrected divergence, :math:`\arg\min_q \sum_k w_k C_\lambda(p_k, \tilde K^\top q)`:
    the entropic barycenter :math:`r^\star` (:func:`barycenter_ibp`) un-blurred by :func:`deconvolve`. Since
    :math:`\sum_k w_k C_\lambda(p_k, r^\star)` bounds the objective from below, the gap between the objective at
    the result and that bound certifies how close to optimal it is. ``ps`` (n, k) -> (n,)."""
    r = barycenter_ibp(ps, cost, reg, weights=weights, n_iter=n_iter, tol=tol)
    return deconvolve(r, cost, reg, n_iter=deconv_iter)


def barycenter_gap(ps: np.ndarray, q: np.ndarray, cost: np.ndarray, reg: float, *,
                   weights: np.ndarray | None = None, tol: float = 1e-12, **kw) -> float:
    r"""How far ``q`` (n,) is from being a barycenter for the corrected divergence: the objective
    :math:`\sum_k w_k C_\lambda(p_k, \tilde K^\top q)` minus its lower bound :math:`\sum_k w_k C_\lambda(p_k, r^\star)`
    at the entropic barycenter :math:`r^\star`. It is >= 0, and 0 exactly when :math:`\tilde K^\top q = r^\star`.
    ``ps`` (n, k); ``tol`` stops the barycenter iteration, ``kw`` goes to :func:`sinkhorn`."""
    w = _weights(ps.shape[1], weights)
    r = barycenter_ibp(ps, cost, reg, weights=w, tol=tol)
    qb = blur(q / q.sum(), cost, reg)
    return float(sum(wk * (entropic_cost(ps[:, k], qb, cost, reg, **kw) - entropic_cost(ps[:, k], r, cost, reg, **kw))
                     for k, wk in enumerate(w)))


def lp_barycenter_1d(x: np.ndarray, ps: np.ndarray, *, weights: np.ndarray | None = None,
                     levels: int = 20_000) -> np.ndarray:
    r"""Exact (unregularised, :math:`W_2`) barycenter of 1-D histograms on the sorted grid ``x`` (n,): its quantile
    function is the weighted mean of the inputs' quantile functions. Each grid point's mass is spread evenly over
    its cell (edges midway between grid points), so each quantile function is continuous and the barycenter's mean
    is the weighted mean of the inputs' means. The mass of ``levels`` equally spaced quantile levels is deposited on
    the grid by linear interpolation (which keeps the mean). ``ps`` (n, k) -> (n,)."""
    n, k = ps.shape
    w = _weights(k, weights)
    u = (np.arange(levels) + 0.5) / levels
    edges = np.concatenate([[1.5 * x[0] - 0.5 * x[1]], (x[:-1] + x[1:]) / 2, [1.5 * x[-1] - 0.5 * x[-2]]])  # (n+1,)
    quant = np.zeros(levels)
    for j in range(k):
        cdf = np.concatenate([[0.0], np.cumsum(ps[:, j]) / ps[:, j].sum()])  # at the cell edges, (n+1,)
        quant += w[j] * np.interp(u, cdf, edges)  # inverse CDF, (levels,)
    quant = np.clip(quant, x[0], x[-1])  # the outer half-cells onto the end points
    idx = np.clip(np.searchsorted(x, quant) - 1, 0, n - 2)
    t = (quant - x[idx]) / (x[idx + 1] - x[idx])
    out = np.zeros(n)
    np.add.at(out, idx, (1 - t) / levels)
    np.add.at(out, idx + 1, t / levels)
    return out


def width(x: np.ndarray, p: np.ndarray) -> float:
    """Standard deviation of the histogram ``p`` (n,) on points ``x`` (n,)."""
    p = p / p.sum()
    m = float(p @ x)
    return float(np.sqrt(p @ (x - m) ** 2))


# --- test histograms on grids ----------------------------------------------------------------------------------

def gaussian_histogram(x: np.ndarray, mean: float, sd: float) -> np.ndarray:
    """A Gaussian bump of ``mean`` and ``sd`` on the grid ``x`` (n,), normalised to a histogram (n,)."""
    p = np.exp(-((x - mean) ** 2) / (2 * sd * sd))
    return p / p.sum()


def two_bumps(x: np.ndarray, centre: float) -> np.ndarray:
    """An asymmetric, non-Gaussian pattern near ``centre``: two Gaussian bumps of unequal mass and width (n,)."""
    p = 0.6 * gaussian_histogram(x, centre - 0.05, 0.02) + 0.4 * gaussian_histogram(x, centre + 0.06, 0.035)
    return p / p.sum()


def random_histogram(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A Gaussian of random position and width on ``x``, or (with probability 1/2) a random mixture of three."""
    if rng.random() < 0.5:
        return gaussian_histogram(x, rng.uniform(0.2, 0.8), rng.uniform(0.02, 0.1))
    mix = sum(rng.uniform(0.2, 1) * gaussian_histogram(x, rng.uniform(0.1, 0.9), rng.uniform(0.02, 0.1))
              for _ in range(3))
    return mix / mix.sum()


def ring_histogram(gx: np.ndarray, gy: np.ndarray, centre, *, radius: float = 0.2,
                   half_width: float = 0.05) -> np.ndarray:
    """A ring of ``radius`` and ``half_width`` around ``centre`` on the grid ``(gx, gy)`` (each (m, m)), as a flat
    histogram (m*m,); a uniform floor of 1e-9 keeps every bin positive."""
    r = ((np.hypot(gx - centre[0], gy - centre[1]) - radius) ** 2 < half_width**2).astype(float) + 1e-9
    return (r / r.sum()).ravel()
