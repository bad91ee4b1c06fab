r"""Training in :mod:`dltheory.fisher`: the squared loss, gradient descent and natural-gradient steps with the exact,
block-diagonal, K-FAC and unit-wise Fisher matrices, their one-step learning rates, and the checks of those
approximations (the linearised step, the unit-wise block structure).

Reference: karakida2020understanding.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from dltheory.fisher.network import Network, _act, _with_one, backward_signals, forward, ntk_gram

__all__ = ["loss", "gradient", "gd_step", "mean_residual_contraction", "METHODS", "ngd_step", "train",
           "one_step_rate", "linearised_step", "BlockNorms", "unit_block_norms"]


# --- training: squared loss, gradient descent, natural gradient --------------------------------------------------

def loss(net: Network, x: torch.Tensor, y: torch.Tensor) -> float:
    r""":math:`\frac1{2T}\sum_t |f(x_t) - y_t|^2` for inputs ``x`` (T, M_0) and targets ``y`` (T, C)."""
    return float(0.5 * ((forward(net, x)[0][-1] - y) ** 2).sum() / x.shape[0])


def _factors(net: Network, x: torch.Tensor, y: torch.Tensor):
    us, hs = forward(net, x)
    return us[-1] - y, backward_signals(net, us), [_with_one(h) for h in hs]  # r (T, C)


def _apply(net: Network, coefficients: list[torch.Tensor], deltas, hs, lr: float) -> Network:
    """theta_l <- theta_l - lr * J_l^T c_l for per-layer coefficients c_l (T, C)."""
    ws, bs = [], []
    for w, b, c, d, h in zip(net.weights, net.biases, coefficients, deltas, hs, strict=True):
        step = torch.einsum("tk,tki,tj->ij", c, d, h)  # (M_l, M_{l-1}+1)
        ws.append(w - lr * step[:, :-1])
        bs.append(b - lr * step[:, -1])
    return Network(ws, bs, net.activation)


def gradient(net: Network, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """The gradient of :func:`loss`, per layer as (M_l, M_{l-1}+1) (weights, then the bias as the last column),
    computed from the backward signals (no autograd)."""
    r, deltas, hs = _factors(net, x, y)
    return [torch.einsum("tk,tki,tj->ij", r / x.shape[0], d, h) for d, h in zip(deltas, hs, strict=True)]


def gd_step(net: Network, x: torch.Tensor, y: torch.Tensor, lr: float) -> Network:
    """One step of full-batch gradient descent on :func:`loss` with learning rate ``lr``: the residual itself is
    propagated backwards (one signal per layer, not one per output as for the Gram matrix)."""
    return _gd_update(net, *forward(net, x), y, lr)


def _gd_update(net: Network, us: list[torch.Tensor], hs: list[torch.Tensor], y: torch.Tensor, lr: float) -> Network:
    """:func:`gd_step` from the pre-activations ``us`` and layer inputs ``hs`` of :func:`forward`."""
    _, dphi = _act(net.activation)
    e = (us[-1] - y) / y.shape[0]  # (T, C): the loss's derivative in the outputs
    signals = [e]
    for w, u in zip(reversed(net.weights[1:]), reversed(us[:-1]), strict=True):
        e = (e @ w) * dphi(u)  # (T, M_{l-1})
        signals.append(e)
    ws = [w - lr * (e.T @ h) for w, e, h in zip(net.weights, signals[::-1], hs, strict=True)]
    bs = [b - lr * e.sum(0) for b, e in zip(net.biases, signals[::-1], strict=True)]
    return Network(ws, bs, net.activation)


def mean_residual_contraction(net: Network, x: torch.Tensor, y: torch.Tensor, lr: float, *,
                              steps: int = 10) -> tuple[float, np.ndarray]:
    r"""Run ``steps`` of gradient descent and return the per-step contraction factor of the mean residual,
    :math:`(|a_n| / |a_0|)^{1/n}`, and the losses (steps + 1,).

    The mean residual is the residual's component :math:`a = u^\top r` along the top eigenvector ``u`` (TC,) of the
    initial Gram matrix :math:`JJ^\top`, which is close to the uniform vector over inputs of one output (the mean of
    that output's residuals). Linearised, :math:`a` is multiplied by :math:`1 - \eta\lambda_{max}` each step, with
    no admixture of the slower bulk modes that the plain average over inputs carries."""
    u = torch.linalg.eigh(ntk_gram(net, x))[1][:, -1]  # (TC,)
    losses, comps = [], []
    for i in range(steps + 1):
        us, hs = forward(net, x)
        r = us[-1] - y
        losses.append(float(0.5 * (r**2).sum() / x.shape[0]))
        comps.append(abs(float(u @ r.reshape(-1))))
        if i < steps and math.isfinite(losses[-1]):
            net = _gd_update(net, us, hs, y, lr)
    factor = (comps[-1] / comps[0]) ** (1 / steps) if math.isfinite(comps[-1]) else math.inf
    return factor, np.array(losses)


#: natural-gradient variants of :func:`ngd_step`
METHODS = ("exact", "block", "kfac", "unit", "gd")


def _pinv(a: torch.Tensor, rtol: float) -> torch.Tensor:
    return torch.linalg.pinv(a, hermitian=True, rtol=rtol)


def ngd_step(net: Network, x: torch.Tensor, y: torch.Tensor, lr: float, *, method: str = "exact",
             rtol: float = 1e-10) -> Network:
    r"""One step :math:`\theta \leftarrow \theta - \eta \tilde F^{+} \nabla L` with the Fisher matrix
    :math:`F = J^\top J / T` (``"exact"``), its layer-wise block diagonal (``"block"``), K-FAC
    :math:`F_l \approx B_l \otimes A_{l-1}` (``"kfac"``) or its unit-wise block diagonal (``"unit"``); ``"gd"`` is
    plain gradient descent. Each is computed in its dual form on T x T or TC x TC matrices, with pseudo-inverses
    cutting eigenvalues below ``rtol`` times the largest:

    - exact: :math:`\Delta\theta = -\eta J^\top (J J^\top)^{+} r`; block: the same per layer with :math:`J_l`;
    - kfac: :math:`\Delta W_l = -\eta\,T\,D_l^\top (D_l D_l^\top)^{+} \tilde R (H H^\top)^{+} H` with backward
      signals :math:`D_l` (TC, M_l), layer inputs with a column of ones ``H`` (T, M_{l-1}+1) and
      :math:`\tilde R_{(t,k),s} = r_{tk}\delta_{ts}`;
    - unit: for each unit i, :math:`\Delta w_i = -\eta G_i^\top (G_i G_i^\top)^{+} (v_i / s_i)` with
      :math:`s_{i,t}^2 = \sum_k \delta_{tki}^2`, :math:`G_i = \mathrm{diag}(s_i) H`, :math:`v_{i,t} = \sum_k r_{tk}
      \delta_{tki}`; when :math:`H H^\top` is invertible (T <= M_{l-1} + 1) this is
      :math:`H^\top (H H^\top)^{-1} (v_i / s_i^2)`, computed so for every unit at once (with a pseudo-inverse in
      place of the inverse otherwise).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    r, deltas, hs = _factors(net, x, y)
    t, c = r.shape
    if method == "gd":
        return _apply(net, [r / t] * len(deltas), deltas, hs, lr)
    if method in ("exact", "block"):
        grams = []
        for d, h in zip(deltas, hs, strict=True):
            dd = d.reshape(t * c, -1) @ d.reshape(t * c, -1).T
            grams.append(dd * (h @ h.T).repeat_interleave(c, 0).repeat_interleave(c, 1))
        if method == "exact":
            coef = (_pinv(sum(grams), rtol) @ r.reshape(-1)).reshape(t, c)
            return _apply(net, [coef] * len(deltas), deltas, hs, lr)
        return _apply(net, [(_pinv(g, rtol) @ r.reshape(-1)).reshape(t, c) for g in grams], deltas, hs, lr)
    ws, bs = [], []
    for w, b, d, h in zip(net.weights, net.biases, deltas, hs, strict=True):
        if method == "kfac":
            dm = d.reshape(t * c, -1)  # (TC, M_l)
            rt = torch.zeros(t, c, t, dtype=r.dtype, device=r.device)
            rt[torch.arange(t), :, torch.arange(t)] = r
            mid = _pinv(dm @ dm.T, rtol) @ rt.reshape(t * c, t) @ _pinv(h @ h.T, rtol)  # (TC, T)
            step = t * dm.T @ mid @ h  # (M_l, M_{l-1}+1)
        else:
            s2 = d.pow(2).sum(1)  # (T, M_l)
            v = torch.einsum("tk,tki->ti", r, d)  # (T, M_l)
            step = (_pinv(h @ h.T, rtol) @ (v / s2)).T @ h  # (M_l, M_{l-1}+1)
        ws.append(w - lr * step[:, :-1])
        bs.append(b - lr * step[:, -1])
    return Network(ws, bs, net.activation)


def train(net: Network, x: torch.Tensor, y: torch.Tensor, lr: float, *, method: str = "exact",
          steps: int = 1) -> np.ndarray:
    """Losses (steps + 1,) divided by the starting loss over ``steps`` steps of :func:`ngd_step` with ``method``
    (``"gd"`` for gradient descent); once the loss is not finite, the rest are ``inf``."""
    out = [loss(net, x, y)]
    for _ in range(steps):
        if not math.isfinite(out[-1]):
            out.append(math.inf)
            continue
        net = ngd_step(net, x, y, lr, method=method)
        out.append(loss(net, x, y))
    return np.nan_to_num(np.array(out) / out[0], nan=np.inf, posinf=np.inf)


def one_step_rate(method: str, widths: list[int], n_inputs: int) -> float:
    r"""The learning rate at which one step of ``method`` zeroes the residual of the linearised network when every
    layer's dual Gram matrix is invertible (width >= T C, and T <= M_0 + 1 for K-FAC and the unit-wise blocks):
    exact 1; block :math:`1/L`; K-FAC :math:`1/((L-1)T + 1)` (each hidden layer moves f by :math:`T r`, the last by
    r); unit-wise :math:`1/\sum_{l=1}^L M_l` (each unit moves f by r)."""
    depth = len(widths) - 1
    rates = {"exact": 1.0, "block": 1.0 / depth, "kfac": 1.0 / ((depth - 1) * n_inputs + 1),
             "unit": 1.0 / sum(widths[1:])}
    if method not in rates:
        raise ValueError(f"no one-step rate for {method!r}; expected one of {tuple(rates)}")
    return rates[method]


# --- checks of the approximations: linearised step, unit-wise block structure -------------------------------------

def linearised_step(net: Network, new: Network, x: torch.Tensor) -> torch.Tensor:
    r"""The change :math:`J(\theta)(\theta' - \theta)` (T, C) of the outputs of the network linearised at ``net``'s
    parameters :math:`\theta`, for the step to ``new``'s :math:`\theta'`, on inputs ``x`` (T, M_0): a
    Jacobian-vector product (forward-mode autograd), exact up to rounding however large the step."""
    def outputs(ws, bs):
        return forward(Network(list(ws), list(bs), net.activation), x)[0][-1]

    tangents = (tuple(w1 - w0 for w0, w1 in zip(net.weights, new.weights, strict=True)),
                tuple(b1 - b0 for b0, b1 in zip(net.biases, new.biases, strict=True)))
    _, jvp = torch.func.jvp(outputs, (tuple(net.weights), tuple(net.biases)), tangents)
    return jvp


class BlockNorms(NamedTuple):
    r"""Frobenius norms of the unit blocks of one layer's Fisher matrix: ``diagonal`` (M,) :math:`\|F_{ii}\|`,
    ``off`` (M, M) :math:`\|F_{ij}\|` (its diagonal is ``diagonal``), and ``ratio``, the root mean square of the
    off-diagonal norms over that of the diagonal ones."""

    diagonal: np.ndarray
    off: np.ndarray
    ratio: float


def unit_block_norms(net: Network, x: torch.Tensor, layer: int) -> BlockNorms:
    r"""Norms of the unit blocks :math:`F_{ij}` ((M_{l-1}+1) x (M_{l-1}+1), unit i's incoming weights and bias
    against unit j's) of the Fisher matrix :math:`F = J^\top J / T` of layer ``layer`` (1..L) on inputs ``x``
    (T, M_0), without forming F: with backward signals :math:`\delta_{tki}` and layer inputs :math:`\tilde h(t)`,

    .. math:: \|F_{ij}\|^2 = T^{-2}\sum_{t,s} K_{ts}\,e_{t,ij}\,e_{s,ij},\quad e_{t,ij} = \textstyle\sum_k
              \delta_{tki}\delta_{tkj},\quad K_{ts} = (\tilde h(t)\cdot\tilde h(s))^2,

    summed through the eigenvectors of K (T of them, each an M x M product)."""
    us, hs = forward(net, x)
    d = backward_signals(net, us)[layer - 1]  # (T, C, M)
    h = _with_one(hs[layer - 1])  # (T, M_{l-1}+1)
    t = x.shape[0]
    lam, vec = torch.linalg.eigh((h @ h.T) ** 2)  # K = V diag(lam) V^T, lam >= 0
    sq = torch.zeros(d.shape[2], d.shape[2], dtype=d.dtype, device=d.device)
    for m in range(t):
        a = torch.einsum("t,tki,tkj->ij", vec[:, m], d, d)  # (M, M): sum_t V_tm e_{t,ij}
        sq += lam[m].clamp(min=0) * a * a
    off = sq.clamp(min=0).sqrt().cpu().numpy() / t
    diag = np.diag(off).copy()
    mask = ~np.eye(len(diag), dtype=bool)
    ratio = float(np.sqrt((off[mask] ** 2).mean() / (diag**2).mean()))
    return BlockNorms(diag, off, ratio)
