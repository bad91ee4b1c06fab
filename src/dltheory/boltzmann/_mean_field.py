r"""Naive mean field on an RBM, on the whole model or after one layer is summed out exactly.

Every update below is an exact coordinate (or block) minimisation of its variational free energy, so the free
energy never rises along the iteration. Mean field has several fixed points when couplings are strong; the
solvers start from all-zero means, or from ``init``, and from ``n_restarts`` random means, and return the lowest
free energy found.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from dltheory.boltzmann._rbm import (
    RBM,
    GaussianRBM,
    exact,
    free_energy_full,
    free_energy_marginal,
    grbm_pairwise,
    kept_energies,
    visible_update,
)
from dltheory.nets import device_of

__all__ = ["MeanField", "ising_mean_field", "mean_field", "kept_size", "marginal_mean_field", "Routes",
           "compare_routes"]


class MeanField(NamedTuple):
    """A mean-field fixed point: its variational ``free_energy`` (scalar), the means ``mean_v`` (n,) and
    ``mean_h`` (m,), the number of sweeps ``n_iter`` and whether the tolerance was met."""

    free_energy: Tensor
    mean_v: Tensor
    mean_h: Tensor
    n_iter: int
    converged: bool


def _check_converged(converged: bool, what: str, max_iter: int) -> None:
    if not converged:
        warnings.warn(f"{what} did not converge in max_iter={max_iter} sweeps; raise max_iter or damping",
                      RuntimeWarning, stacklevel=4)


def ising_mean_field(J: Tensor, f: Tensor, *, init: Tensor | None = None, damping: float = 0.0,
                     tol: float = 1e-12, max_iter: int = 10_000) -> tuple[Tensor, int, bool]:
    r"""Naive mean field for :math:`P(h) \propto \exp(\tfrac12 h^\top J h + f^\top h)` on :math:`\pm1` spins.

    Sequential updates :math:`m_j \leftarrow (1-d)\tanh(f_j + \sum_{k\ne j} J_{jk} m_k) + d\, m_j`; each is an
    exact (or, damped, a convex-combination) coordinate minimisation, so the free energy never rises.
    The diagonal of ``J`` only adds a constant (:math:`h_j^2 = 1`) and is ignored.

    J : shape (m, m), symmetric; f : shape (m,). Returns the means (m,), the sweeps and convergence.
    """
    # the sweep is sequential over a handful of spins: plain Python floats (one multiply-add at a time, the same
    # on every CPU) are far faster here than one tensor operation per spin
    rows = (J - torch.diag(torch.diagonal(J))).tolist()
    fs = f.tolist()
    m = [0.0] * len(fs) if init is None else init.tolist()
    converged, it = False, max_iter
    for sweep in range(1, max_iter + 1):
        delta = 0.0
        for j, (row, fj) in enumerate(zip(rows, fs, strict=True)):
            new = (1 - damping) * math.tanh(fj + sum(map(operator.mul, row, m))) + damping * m[j]
            delta = max(delta, abs(new - m[j]))
            m[j] = new
        if delta < tol:
            converged, it = True, sweep
            break
    return torch.tensor(m, dtype=f.dtype, device=f.device), it, converged


def _best_of(run: Callable[[Tensor | None], MeanField], size: int, init: Tensor | None, n_restarts: int,
             generator: torch.Generator | None, first: MeanField | None = None) -> MeanField:
    """Run from ``init`` (all-zero means if None) and ``n_restarts`` uniform random means; lowest free energy.
    ``first``, if given, is the run from ``init`` already done."""
    best = run(init) if first is None else first
    for _ in range(n_restarts):
        start = 2 * torch.rand(size, dtype=torch.float64, generator=generator, device=device_of(generator)) - 1
        cand = run(start)
        if cand.free_energy < best.free_energy:
            best = cand
    return best


def mean_field(model: RBM | GaussianRBM, *, init: Tensor | None = None, n_restarts: int = 0,
               generator: torch.Generator | None = None, damping: float = 0.0, tol: float = 1e-12,
               max_iter: int = 10_000, _first: MeanField | None = None) -> MeanField:
    r"""Naive mean field on the whole model (both layers factorised).

    Alternating layer updates, each an exact block minimisation of the free energy (layers have no internal
    couplings): the visible layer by :func:`visible_update`, then :math:`m_h = \tanh(c + W^\top m_v)`. For the
    GRBM the combined hidden update carries the self-coupling :math:`\sum_i \sigma_i^2 W_{ij}^2 m_j` that the
    marginal model does not have. ``init`` are the initial hidden means (m,). ``_first`` (internal) is the run
    from ``init`` if it was already done, so that :func:`compare_routes` can keep it without running it twice.
    """
    return _best_of(lambda start: _mean_field(model, start, damping, tol, max_iter), model.W.shape[1], init,
                    n_restarts, generator, _first)


def _mean_field(model: RBM | GaussianRBM, init_h: Tensor | None, damping: float, tol: float,
                max_iter: int) -> MeanField:
    """One run of :func:`mean_field` from ``init_h`` (zeros if None)."""
    mh = torch.zeros_like(model.c) if init_h is None else init_h.clone()
    delta = float("inf")
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the sweep count returned)
        new = (1 - damping) * torch.tanh(model.c + model.W.T @ visible_update(model, mh)) + damping * mh
        delta = float((new - mh).abs().max())
        mh = new
        if delta < tol:
            break
    _check_converged(delta < tol, "mean_field", max_iter)
    mv = visible_update(model, mh)
    return MeanField(free_energy_full(model, mv, mh), mv, mh, it, delta < tol)


def kept_size(model: RBM | GaussianRBM) -> int:
    """Units of the layer :func:`marginal_mean_field` keeps: the GRBM's hidden layer, the binary RBM's visible."""
    return model.W.shape[1] if isinstance(model, GaussianRBM) else model.W.shape[0]


def marginal_mean_field(model: RBM | GaussianRBM, *, init: Tensor | None = None, n_restarts: int = 0,
                        generator: torch.Generator | None = None, damping: float = 0.0, tol: float = 1e-12,
                        max_iter: int = 10_000, _first: MeanField | None = None) -> MeanField:
    r"""Naive mean field after one layer is marginalised out exactly.

    GRBM: the Gaussian visible layer is integrated out (:func:`grbm_pairwise`) and mean field runs on the
    hidden spins; ``mean_v`` is then :math:`\sigma^2 (b + W m_h)`.
    Binary RBM: the hidden layer is summed out, leaving :math:`E(v) = -b^\top v - \sum_j \log 2\cosh(c_j +
    W_{:j}^\top v)`; coordinate updates :math:`m_i = \tanh\big(-\tfrac12 (\mathbb E[E \mid v_i{=}1] -
    \mathbb E[E \mid v_i{=}-1])\big)` use exact expectations over the visible states (n <= ~20), and
    ``mean_h`` is :math:`\mathbb{E}_q \tanh(c + W^\top v)`. To sum out the visible layer instead, pass
    ``RBM(W.T, c, b)``. ``init`` are the initial means of the kept layer (:func:`kept_size` units); ``_first``
    as in :func:`mean_field`.
    """
    return _best_of(lambda start: _marginal_mean_field(model, start, damping, tol, max_iter), kept_size(model),
                    init, n_restarts, generator, _first)


def _marginal_mean_field(model: RBM | GaussianRBM, init: Tensor | None, damping: float, tol: float,
                         max_iter: int) -> MeanField:
    """One run of :func:`marginal_mean_field` from ``init`` (zeros if None)."""
    if isinstance(model, GaussianRBM):
        J, f, _ = grbm_pairwise(model)
        mh, it, ok = ising_mean_field(J, f, init=init, damping=damping, tol=tol, max_iter=max_iter)
        _check_converged(ok, "marginal_mean_field", max_iter)
        return MeanField(free_energy_marginal(model, mh), visible_update(model, mh), mh, it, ok)
    v, energy = kept_energies(model)  # (2^n, n), (2^n,)
    # the coordinate sweep runs over small arrays one unit at a time, so numpy's lower per-call cost wins here
    vs, es = v.cpu().numpy(), energy.cpu().numpy()
    n = vs.shape[1]
    mv = np.zeros(n) if init is None else init.cpu().numpy().astype(np.float64, copy=True)
    logq_unit = np.log(np.maximum((1 + vs * mv) / 2, 1e-300))  # (2^n, n), as product_log_prob
    logq = logq_unit.sum(1)
    ok = False
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the sweep count returned)
        delta = 0.0
        for i in range(n):
            w = np.exp(logq - logq_unit[:, i])  # q of the other units, (2^n,)
            slope = 0.5 * (w * vs[:, i]) @ es  # (E[E|v_i=1] - E[E|v_i=-1]) / 2
            new = (1 - damping) * math.tanh(-slope) + damping * mv[i]
            delta = max(delta, abs(new - mv[i]))
            mv[i] = new
            col = np.log(np.maximum((1 + vs[:, i] * new) / 2, 1e-300))
            logq = logq - logq_unit[:, i] + col
            logq_unit[:, i] = col
        if delta < tol:
            ok = True
            break
    logq = torch.as_tensor(logq, device=v.device)
    mv = torch.as_tensor(mv, device=v.device)
    _check_converged(ok, "marginal_mean_field", max_iter)
    mh = torch.exp(logq) @ torch.tanh(model.c + v @ model.W)
    return MeanField(free_energy_marginal(model, mv), mv, mh, it, ok)


class Routes(NamedTuple):
    r"""Mean field on one model by both routes, against the exact values.

    ``neg_log_z`` is :math:`-\log Z`; ``f_full`` the whole model's mean-field free energy (best of a zero and
    random starts); ``f_marginal`` the marginal model's, from its own starts (independent of the full route);
    ``f_constructive`` the marginal model's, started from the full route's means of the kept layer, so that by
    the identity :math:`F_{\rm full} = F_{\rm m} + \mathbb E\,\mathrm{KL}` it cannot exceed ``f_full``. The
    ``err_*`` are mean absolute errors of the means of the kept and of the summed-out layer. The ``*_zero``
    fields are the same quantities for textbook naive mean field without restarts: each route run once from
    all-zero means (the first of its starts), the constructive route started from that full solution.
    """

    neg_log_z: float
    f_full: float
    f_marginal: float
    f_constructive: float
    err_kept_full: float
    err_kept_marginal: float
    err_summed_full: float
    err_summed_marginal: float
    f_full_zero: float = float("nan")
    f_marginal_zero: float = float("nan")
    f_constructive_zero: float = float("nan")
    err_kept_full_zero: float = float("nan")
    err_kept_marginal_zero: float = float("nan")
    err_summed_full_zero: float = float("nan")
    err_summed_marginal_zero: float = float("nan")


def compare_routes(model: RBM | GaussianRBM, *, n_restarts: int = 0,
                   generator: torch.Generator | None = None) -> Routes:
    """Exact enumeration, mean field on the whole model and on the marginal model, for one model.

    The kept layer is the GRBM's hidden layer and the binary RBM's visible layer (:func:`marginal_mean_field`).
    """
    ex = exact(model)
    full_zero, marginal_zero = mean_field(model), marginal_mean_field(model)
    full = mean_field(model, n_restarts=n_restarts, generator=generator, _first=full_zero)
    marginal = marginal_mean_field(model, n_restarts=n_restarts, generator=generator, _first=marginal_zero)
    gauss = isinstance(model, GaussianRBM)
    kept, summed = ("mean_h", "mean_v") if gauss else ("mean_v", "mean_h")
    constructive = marginal_mean_field(model, init=getattr(full, kept))
    constructive_zero = marginal_mean_field(model, init=getattr(full_zero, kept))

    def errors(mf: MeanField) -> tuple[float, float]:
        return tuple((getattr(mf, k) - getattr(ex, k)).abs().mean().item() for k in (kept, summed))

    (ekf, esf), (ekm, esm) = errors(full), errors(marginal)
    (ekf0, esf0), (ekm0, esm0) = errors(full_zero), errors(marginal_zero)
    return Routes(-ex.log_z.item(), full.free_energy.item(), marginal.free_energy.item(),
                  constructive.free_energy.item(), ekf, ekm, esf, esm, full_zero.free_energy.item(),
                  marginal_zero.free_energy.item(), constructive_zero.free_energy.item(), ekf0, ekm0, esf0, esm0)
