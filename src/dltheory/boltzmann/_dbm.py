r"""Deep Boltzmann machines: exact likelihood by enumeration, assembly from layer-wise RBMs, and the
pretraining bound.

A DBM stacks :math:`\pm1` layers :math:`x_0 = v, x_1, \dots, x_L` with
:math:`-E = \sum_l b_l^\top x_l + \sum_l x_l^\top W_l x_{l+1}`; its exact likelihood enumerates the odd layers and
sums the even ones analytically (:func:`dbm_log_likelihood`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from dltheory.boltzmann._rbm import (
    RBM,
    binary_entropy,
    exact,
    fit_rbm,
    log2cosh,
    rbm_log_likelihood,
    rbm_posterior,
    spin_states,
    transpose,
)

__all__ = ["DBM", "dbm_log_partition", "dbm_log_likelihood", "compose_dbm", "PretrainingBound", "pretraining_bound",
           "aggregated_posterior", "Stage", "Pretraining", "evaluate", "first_stage", "independent_start", "dbn_start",
           "second_stage", "pretrain"]


class DBM(NamedTuple):
    r"""A DBM on :math:`\pm 1` layers :math:`x_0 = v, x_1, \dots, x_L`.

    weights : tuple of L tensors, ``weights[l]`` shape (n_l, n_{l+1}); biases : tuple of L + 1 tensors, (n_l,).
    """

    weights: tuple[Tensor, ...]
    biases: tuple[Tensor, ...]


def _odd_states(dbm: DBM) -> list[Tensor]:
    """Every joint state of the odd layers, split per odd layer: list of (M, n_l) for l = 1, 3, ..."""
    sizes = [b.numel() for b in dbm.biases[1::2]]
    states = spin_states(sum(sizes), device=dbm.biases[0].device)
    return list(torch.split(states, sizes, dim=1))


def _even_field(dbm: DBM, odd: list[Tensor], layer: int) -> Tensor:
    """Field on even ``layer`` from its odd neighbours (odd layer 2i+1 is ``odd[i]``), shape (M, n_layer)."""
    field = dbm.biases[layer].expand(odd[0].shape[0], -1)
    if layer > 0:  # the odd layer below
        field = field + odd[layer // 2 - 1] @ dbm.weights[layer - 1]
    if layer < len(dbm.weights):  # the odd layer above
        field = field + odd[layer // 2] @ dbm.weights[layer].T
    return field


def _odd_log_weights(dbm: DBM, v: Tensor | None) -> Tensor:
    """Log weight of each odd-layer state with every even layer summed out; with ``v`` (N, n_0) given, the
    visible layer is clamped instead. Returns (M,) or (N, M)."""
    odd = _odd_states(dbm)
    logw = sum(o @ b for o, b in zip(odd, dbm.biases[1::2], strict=True))  # (M,)
    for layer in range(2, len(dbm.biases), 2):
        logw = logw + log2cosh(_even_field(dbm, odd, layer)).sum(1)
    field0 = _even_field(dbm, odd, 0)  # (M, n_0)
    if v is None:
        return logw + log2cosh(field0).sum(1)
    return logw[None] + v @ field0.T  # (N, M)


def dbm_log_partition(dbm: DBM) -> Tensor:
    r"""Exact :math:`\log Z` of a DBM: enumerate the odd layers, sum the even layers analytically."""
    return torch.logsumexp(_odd_log_weights(dbm, None), 0)


def dbm_log_likelihood(dbm: DBM, v: Tensor) -> Tensor:
    r"""Exact :math:`\log P(v)` of a DBM for each row of ``v`` (N, n_0). Returns (N,)."""
    return torch.logsumexp(_odd_log_weights(dbm, v), 1) - dbm_log_partition(dbm)


def compose_dbm(first: RBM, second: RBM) -> DBM:
    r"""The three-layer DBM built from two layer-wise trained RBMs by halving their weights.

    ``first`` on :math:`(v, h_1)`, ``second`` on :math:`(h_1, h_2)`; the DBM has
    :math:`W_1 = W_A/2,\ W_2 = W_B/2`, visible and top biases halved, and middle bias the mean of the two RBMs'
    :math:`h_1` biases, so that :math:`-E_{\rm DBM} = \tfrac12(-E_A) + \tfrac12(-E_B)`.
    """
    return DBM((first.W / 2, second.W / 2), (first.b / 2, (first.c + second.b) / 2, second.c / 2))


class PretrainingBound(NamedTuple):
    """Per data point: the pretraining bound ``layerwise`` (N,) and the tighter ``cluster`` bound (N,), both
    below the exact DBM log-likelihood; ``log_z_upper`` is the cluster upper bound on the DBM's log Z."""

    layerwise: Tensor
    cluster: Tensor
    log_z_upper: Tensor


def pretraining_bound(first: RBM, second: RBM, v: Tensor) -> PretrainingBound:
    r"""Lower bounds of the log-likelihood of :func:`compose_dbm` ``(first, second)`` at data ``v`` (N, n_0).

    With :math:`-E_{\rm DBM} = \tfrac12(-E_A) + \tfrac12(-E_B)`, Hölder's inequality bounds the partition function
    by the two RBMs' (a two-cluster decomposition):
    :math:`\log Z \le U = \tfrac12(\log Z_A + n_2 \log 2) + \tfrac12(\log Z_B + n_0 \log 2)`, so
    :math:`\log P(v) \ge \log \sum_h e^{-E(v,h)} - U` (``cluster``). Replacing the posterior by the directed
    (Bayesian-network) recognition model :math:`Q_1(h_1\mid v) = P_A(h_1 \mid v)`,
    :math:`Q_2(h_2 \mid h_1)` optimal, and using :math:`\sum \sqrt{x} \ge \sqrt{\sum x}` gives

    .. math:: \mathcal L(v) = \tfrac12 \log P_A(v) + \tfrac12 H(Q_1) + \tfrac12 \mathbb E_{Q_1} \log P_B(h_1)
              - \tfrac12 (n_0 + n_2) \log 2 \;\le\; \text{cluster} \;\le\; \log P_{\rm DBM}(v)

    (``layerwise``). Only :math:`\mathbb E_{Q_1} \log P_B(h_1)` depends on the second RBM: training it by maximum
    likelihood on the aggregated posterior of the first raises :math:`\mathcal L` by half its own gain.
    """
    n0, n2 = first.W.shape[0], second.W.shape[1]
    log2 = torch.log(torch.tensor(2.0, dtype=v.dtype, device=v.device))
    log_z_a, log_z_b = exact(first).log_z, exact(second).log_z
    upper = 0.5 * (log_z_a + n2 * log2) + 0.5 * (log_z_b + n0 * log2)
    dbm = compose_dbm(first, second)
    cluster = torch.logsumexp(_odd_log_weights(dbm, v), 1) - upper
    h1, q1 = rbm_posterior(first, v)  # (M, n_1), (M, N)
    log_pb_h1 = h1 @ second.b + log2cosh(second.c + h1 @ second.W).sum(1) - log_z_b  # (M,)
    layerwise = (0.5 * rbm_log_likelihood(first, v) + 0.5 * binary_entropy(torch.tanh(first.c + v @ first.W))
                 + 0.5 * (q1.T @ log_pb_h1) - 0.5 * (n0 + n2) * log2)
    return PretrainingBound(layerwise, cluster, upper)


def aggregated_posterior(first: RBM, v: Tensor) -> tuple[Tensor, Tensor]:
    r"""The first RBM's aggregated posterior :math:`q(h_1) = \frac1N \sum_n P_A(h_1 \mid v_n)` over data ``v``
    (N, n_0): every middle state (2^n_1, n_1) and its probability (2^n_1,)."""
    h1, posterior = rbm_posterior(first, v)  # (2^n1, n1), (2^n1, N)
    return h1, posterior.mean(1)


class Stage(NamedTuple):
    """Means over the data after one pretraining stage: the layer-wise bound, the cluster bound, the exact DBM
    log-likelihood, and whether both bounds stayed below the exact value at every data point; the slacks are the
    smallest per-pattern gaps ``exact - layerwise`` and ``exact - cluster`` (>= 0 where the bounds hold)."""

    layerwise: float
    cluster: float
    exact: float
    bounds_hold: bool
    layerwise_slack: float = float("nan")
    cluster_slack: float = float("nan")


class Pretraining(NamedTuple):
    """One pretraining run: the :class:`Stage` before training, after stage 1 and after stage 2; the first RBM's
    own mean log-likelihood after stage 1; and the gain of the second RBM's objective (its mean log-likelihood
    under the target it was trained on) in stage 2. ``first`` and ``second`` are the trained RBMs."""

    untrained: Stage
    stage1: Stage
    stage2: Stage
    first_log_likelihood: float
    second_gain: float
    first: RBM
    second: RBM


def evaluate(first: RBM, second: RBM, v: Tensor) -> Stage:
    """Both bounds of :func:`pretraining_bound` and the exact log-likelihood of :func:`compose_dbm` at ``v``."""
    bound = pretraining_bound(first, second, v)
    exact_ll = dbm_log_likelihood(compose_dbm(first, second), v)
    slack = 1e-9 * (1 + exact_ll.abs())
    holds = bool(torch.all(bound.layerwise <= exact_ll + slack) and torch.all(bound.cluster <= exact_ll + slack))
    return Stage(bound.layerwise.mean().item(), bound.cluster.mean().item(), exact_ll.mean().item(), holds,
                 (exact_ll - bound.layerwise).min().item(), (exact_ll - bound.cluster).min().item())


def first_stage(v: Tensor, hidden: int, *, steps: int, lr: float, init_scale: float,
                generator: torch.Generator) -> tuple[RBM, RBM]:
    r"""Stage 1: the first RBM :math:`A` on :math:`(v, h_1)` at its random start (couplings of standard deviation
    ``init_scale``, zero biases) and after exact-gradient maximum likelihood on the data ``v`` (N, n_0)."""
    kw = dict(dtype=v.dtype, device=v.device)
    a0 = RBM(init_scale * torch.randn(v.shape[1], hidden, generator=generator, **kw), torch.zeros(v.shape[1], **kw),
             torch.zeros(hidden, **kw))
    return a0, fit_rbm(a0, v, steps=steps, lr=lr)


def independent_start(first: RBM, v: Tensor, top: int, *, init_scale: float, generator: torch.Generator) -> RBM:
    r"""A start for the second RBM :math:`B` on :math:`(h_1, h_2)` with ``top`` units: the best prior with
    independent middle units, :math:`b_B = \operatorname{artanh} \mathbb E_q[h_1]` under the aggregated posterior of
    ``first`` on ``v``, and couplings of standard deviation ``init_scale`` (zero couplings are a saddle)."""
    h1, q = aggregated_posterior(first, v)
    mean = (q @ h1).clamp(-0.999, 0.999)
    kw = dict(dtype=v.dtype, device=v.device)
    return RBM(init_scale * torch.randn(first.W.shape[1], top, generator=generator, **kw), torch.atanh(mean),
               torch.zeros(top, **kw))


def dbn_start(first: RBM) -> RBM:
    r"""The deep-belief-net start of the second RBM: :math:`B = A^\top` (weights transposed, biases swapped), so
    that :math:`P_B(h_1) = P_A(h_1)` and the top layer has as many units as the visible one."""
    return transpose(first)


def second_stage(untrained: RBM, first: RBM, v: Tensor, start: Callable[[RBM], RBM], *, steps: int, lr: float,
                 scramble: torch.Generator | None = None) -> Pretraining:
    r"""Stage 2 from ``start``, and the :class:`Stage` values of the whole run.

    ``untrained`` and ``first`` are the first RBM before and after stage 1 (:func:`first_stage`); ``start`` maps a
    first RBM to the second RBM's start (e.g. :func:`dbn_start`), applied to both. :math:`B` is fitted by
    exact-gradient maximum likelihood to ``first``'s aggregated posterior on ``v`` (N, n_0); with a ``scramble``
    generator, to its probabilities randomly reassigned among the middle states (the wrong target, without the
    guarantee). ``second_gain`` is the rise of :math:`B`'s objective on the target it was fitted to.
    """
    untrained_stage = evaluate(untrained, start(untrained), v)
    b0 = start(first)
    stage1 = evaluate(first, b0, v)
    h1, q = aggregated_posterior(first, v)
    if scramble is not None:
        q = q[torch.randperm(q.numel(), generator=scramble, device=scramble.device).to(q.device)]
    b = fit_rbm(b0, h1, weights=q, steps=steps, lr=lr)
    gain = ((q * rbm_log_likelihood(b, h1)).sum() - (q * rbm_log_likelihood(b0, h1)).sum()).item()
    return Pretraining(untrained_stage, stage1, evaluate(first, b, v), rbm_log_likelihood(first, v).mean().item(), gain,
                       first, b)


def pretrain(v: Tensor, hidden: int, top: int, *, steps: int, lr: float, init_scale: float,
             generator: torch.Generator, scramble_target: bool = False) -> Pretraining:
    r"""DBN-type pretraining of a ``v``-``hidden``-``top`` DBM on data ``v`` (N, n_0) of :math:`\pm1` patterns.

    Stage 1 fits an RBM :math:`A` on the data (:func:`first_stage`); stage 2 fits an RBM :math:`B` on :math:`A`'s
    aggregated posterior (:func:`aggregated_posterior`) from :func:`independent_start` (:func:`second_stage`),
    both by exact-gradient maximum likelihood (:func:`fit_rbm`), all draws from ``generator``. With
    ``scramble_target=True``, stage 2 instead fits :math:`B` to the aggregated posterior's probabilities randomly
    reassigned among the middle states: the wrong target, for which the bound carries no guarantee.
    """
    a0, a = first_stage(v, hidden, steps=steps, lr=lr, init_scale=init_scale, generator=generator)

    def start(first: RBM) -> RBM:
        return independent_start(first, v, top, init_scale=init_scale, generator=generator)

    return second_stage(a0, a, v, start, steps=steps, lr=lr, scramble=generator if scramble_target else None)
