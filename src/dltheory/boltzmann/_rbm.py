r"""Restricted Boltzmann machines: energies, exact enumeration, variational free energies, exact-gradient fitting.

Spins are :math:`\pm 1`. A binary RBM has energy :math:`E(v, h) = -b^\top v - c^\top h - v^\top W h`; a
Gaussian–Bernoulli RBM (GRBM) has real visible units,
:math:`E(v, h) = \sum_i \big(v_i^2 / (2\sigma_i^2) - b_i v_i\big) - c^\top h - v^\top W h`.
Free energies are variational (Gibbs) free energies :math:`F[q] = \mathbb{E}_q E - H(q)`, so that
:math:`-\log Z \le F[q]` for every :math:`q`. All functions take and return float64 tensors on the model's device.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from dltheory.nets import device_of

__all__ = ["RBM", "GaussianRBM", "Exact", "spin_states", "log2cosh", "product_log_prob", "binary_entropy",
           "transpose", "exact", "grbm_pairwise", "visible_update", "free_energy_full", "kept_energies",
           "free_energy_marginal", "expected_conditional_kl", "random_rbm", "random_grbm", "rbm_log_likelihood",
           "rbm_posterior", "fit_rbm"]

_LOG_2PI = math.log(2 * math.pi)


class RBM(NamedTuple):
    """Binary (:math:`\\pm 1`) RBM.

    W : Tensor, shape (n, m); b : Tensor, shape (n,) visible fields; c : Tensor, shape (m,) hidden fields.
    """

    W: Tensor
    b: Tensor
    c: Tensor


class GaussianRBM(NamedTuple):
    """Gaussian–Bernoulli RBM with real visible and :math:`\\pm 1` hidden units.

    W : Tensor, shape (n, m); b : Tensor, shape (n,); c : Tensor, shape (m,); sigma : Tensor, shape (n,), > 0.
    """

    W: Tensor
    b: Tensor
    c: Tensor
    sigma: Tensor


class Exact(NamedTuple):
    """Exact quantities: ``log_z`` (scalar), ``mean_v`` shape (n,), ``mean_h`` shape (m,)."""

    log_z: Tensor
    mean_v: Tensor
    mean_h: Tensor


def spin_states(k: int, *, start: int = 0, stop: int | None = None, device=None) -> Tensor:
    """Spin configurations number ``start`` to ``stop - 1`` of :math:`\\{-1, 1\\}^k` in binary order.

    Returns
    -------
    states : Tensor, shape (stop - start, k), float64
    """
    stop = 2**k if stop is None else stop
    idx = torch.arange(start, stop, device=device)
    bits = (idx[:, None] >> torch.arange(k - 1, -1, -1, device=device)) & 1  # (N, k)
    return (2 * bits - 1).to(torch.float64)


def log2cosh(x: Tensor) -> Tensor:
    """:math:`\\log(2\\cosh x)`, stable for large :math:`|x|`: the log-sum over one :math:`\\pm1` spin."""
    a = x.abs()
    return a + torch.log1p(torch.exp(-2 * a))


def product_log_prob(states: Tensor, mean: Tensor) -> Tensor:
    """Log-probability of each of ``states`` (N, k) under independent :math:`\\pm1` spins with means ``mean``
    (k,), per unit: shape (N, k) (sum over the last axis for the joint)."""
    return torch.log(((1 + states * mean) / 2).clamp_min(1e-300))


def binary_entropy(m: Tensor) -> Tensor:
    """Entropy of independent :math:`\\pm 1` spins with means ``m`` (any shape), summed over the last axis."""
    p = ((1 + m) / 2).clamp(0, 1)
    q = 1 - p
    return -(torch.special.xlogy(p, p) + torch.special.xlogy(q, q)).sum(-1)


def _hidden_log_weight(model: RBM | GaussianRBM, h: Tensor) -> tuple[Tensor, Tensor]:
    """Unnormalised log marginal of hidden states (N, m) and the conditional visible means (N, n), with
    :math:`\\log Z = \\operatorname{logsumexp} \\log w`."""
    field = model.b + h @ model.W.T  # (N, n)
    if isinstance(model, GaussianRBM):
        s2 = model.sigma**2
        logw = h @ model.c + (0.5 * s2 * field**2 + 0.5 * (_LOG_2PI + torch.log(s2))).sum(1)
        return logw, s2 * field
    return h @ model.c + log2cosh(field).sum(1), torch.tanh(field)


def transpose(model: RBM) -> RBM:
    """The same binary RBM with the roles of its layers swapped."""
    return RBM(model.W.T, model.c, model.b)


def exact(model: RBM | GaussianRBM, *, chunk: int = 2**16) -> Exact:
    """Exact :math:`\\log Z` and means by enumerating one layer and summing the other out analytically.

    The hidden layer is enumerated (for a binary RBM, the smaller layer), in chunks of ``chunk`` states, so
    memory stays :math:`O(\\mathrm{chunk}\\cdot n)`; :math:`2^{20}` states take about a second on a CPU.
    """
    if isinstance(model, RBM) and model.W.shape[0] < model.W.shape[1]:
        t = exact(transpose(model), chunk=chunk)
        return Exact(t.log_z, t.mean_h, t.mean_v)
    n, m = model.W.shape
    dev = model.W.device
    run_max = torch.tensor(-torch.inf, dtype=torch.float64, device=dev)
    total = torch.zeros((), dtype=torch.float64, device=dev)
    sum_v = torch.zeros(n, dtype=torch.float64, device=dev)
    sum_h = torch.zeros(m, dtype=torch.float64, device=dev)
    for start in range(0, 2**m, chunk):
        h = spin_states(m, start=start, stop=min(start + chunk, 2**m), device=dev)  # (N, m)
        logw, v_mean = _hidden_log_weight(model, h)
        new_max = torch.maximum(run_max, logw.max())
        scale = torch.exp(run_max - new_max)
        w = torch.exp(logw - new_max)  # (N,)
        total = total * scale + w.sum()
        sum_v = sum_v * scale + w @ v_mean
        sum_h = sum_h * scale + w @ h
        run_max = new_max
    return Exact(run_max + torch.log(total), sum_v / total, sum_h / total)


def grbm_pairwise(model: GaussianRBM) -> tuple[Tensor, Tensor, Tensor]:
    r"""The GRBM with its Gaussian layer integrated out, as a pairwise model on the hidden spins.

    :math:`P(h) \propto \exp(\tfrac12 h^\top J h + f^\top h)` with
    :math:`J = W^\top \operatorname{diag}(\sigma^2) W` (diagonal included), :math:`f = c + W^\top(\sigma^2 b)`.

    Returns
    -------
    J : Tensor, shape (m, m); f : Tensor, shape (m,); const : scalar, so that
    :math:`\log Z = \log \sum_h \exp(\tfrac12 h^\top J h + f^\top h) + \mathrm{const}`.
    """
    s2 = model.sigma**2
    J = model.W.T @ (s2[:, None] * model.W)
    f = model.c + model.W.T @ (s2 * model.b)
    const = (0.5 * s2 * model.b**2 + 0.5 * (_LOG_2PI + torch.log(s2))).sum()
    return J, f, const


def visible_update(model: RBM | GaussianRBM, mean_h: Tensor) -> Tensor:
    r"""The exact minimiser of the full free energy over the visible layer given hidden means ``mean_h`` (m,):
    binary :math:`\tanh(b + W m_h)`, GRBM :math:`\sigma^2 (b + W m_h)`. Shape (n,)."""
    field = model.b + model.W @ mean_h
    return model.sigma**2 * field if isinstance(model, GaussianRBM) else torch.tanh(field)


def free_energy_full(model: RBM | GaussianRBM, mean_v: Tensor, mean_h: Tensor) -> Tensor:
    r"""Variational free energy of the whole model for a factorised :math:`q(v)q(h)`.

    Binary RBM: :math:`q` are independent spins with means ``mean_v`` (n,), ``mean_h`` (m,).
    GRBM: :math:`q(v_i) = \mathcal N(\mu_i, \sigma_i^2)` (the optimal variance) with :math:`\mu` = ``mean_v``.
    """
    W, b, c = model.W, model.b, model.c
    energy = -b @ mean_v - c @ mean_h - mean_v @ W @ mean_h
    if isinstance(model, GaussianRBM):
        s2 = model.sigma**2
        energy = energy + ((mean_v**2 + s2) / (2 * s2)).sum()
        entropy_v = 0.5 * (_LOG_2PI + 1 + torch.log(s2)).sum()
    else:
        entropy_v = binary_entropy(mean_v)
    return energy - entropy_v - binary_entropy(mean_h)


def kept_energies(model: RBM) -> tuple[Tensor, Tensor]:
    """All visible states of a binary RBM (2^n, n) and their marginal energies (2^n,), hidden layer summed out."""
    v = spin_states(model.W.shape[0], device=model.W.device)
    return v, -(v @ model.b) - log2cosh(model.c + v @ model.W).sum(1)


def free_energy_marginal(model: RBM | GaussianRBM, mean: Tensor) -> Tensor:
    r"""Variational free energy of the marginal model for independent spins with means ``mean``.

    GRBM: the visible layer integrated out, ``mean`` = hidden means (m,).
    Binary RBM: the hidden layer summed out, ``mean`` = visible means (n,); the expectation of the marginal
    energy under :math:`q` is computed exactly over the :math:`2^n` visible states (n <= ~20).
    """
    if isinstance(model, GaussianRBM):
        J, f, const = grbm_pairwise(model)
        # E_q[h^T J h] = m^T J m + sum_j J_jj (1 - m_j^2) since h_j^2 = 1
        quad = mean @ J @ mean + (torch.diagonal(J) * (1 - mean**2)).sum()
        return -(0.5 * quad + f @ mean + const) - binary_entropy(mean)
    v, energy = kept_energies(model)
    return torch.exp(product_log_prob(v, mean).sum(1)) @ energy - binary_entropy(mean)


def expected_conditional_kl(model: RBM | GaussianRBM, mean_v: Tensor, mean_h: Tensor) -> Tensor:
    r"""The gap between the two free energies: the expected KL from :math:`q` of the summed-out layer to its
    exact conditional.

    GRBM (visible integrated out): :math:`\mathbb{E}_{q(h)} \mathrm{KL}(q(v) \,\|\, P(v \mid h))` with
    :math:`q(v_i) = \mathcal N(\mu_i, \sigma_i^2)`. Binary RBM (hidden summed out):
    :math:`\mathbb{E}_{q(v)} \mathrm{KL}(q(h) \,\|\, P(h \mid v))`. In both cases
    ``free_energy_full(model, mean_v, mean_h)`` equals
    ``free_energy_marginal(model, kept) + expected_conditional_kl(model, mean_v, mean_h)``.
    """
    W, b, c = model.W, model.b, model.c
    if isinstance(model, GaussianRBM):
        s2 = model.sigma**2
        # P(v|h) = N(s2 (b + W h), s2): KL = (mu - s2 (b + W h))^2 / (2 s2); average over h ~ q(h)
        mean_shift = (mean_v - s2 * (b + W @ mean_h)) ** 2
        var_shift = s2**2 * (W**2 @ (1 - mean_h**2))
        return ((mean_shift + var_shift) / (2 * s2)).sum()
    v, _ = kept_energies(model)
    qv = torch.exp(product_log_prob(v, mean_v).sum(1))  # (2^n,)
    # KL(q(h) || P(h|v)) = sum_j [log 2cosh(a_j) - m_j a_j] - H(q_h), a = c + W^T v
    return qv @ log2cosh(c + v @ W).sum(1) - mean_h @ (c + W.T @ mean_v) - binary_entropy(mean_h)


def random_rbm(n: int, m: int, coupling: float, *, field: float = 0.1,
               generator: torch.Generator | None = None) -> RBM:
    """Binary RBM with :math:`W_{ij} \\sim \\mathcal N(0, \\mathrm{coupling}^2/\\sqrt{nm})` and fields
    :math:`\\mathcal N(0, \\mathrm{field}^2)`, on ``generator``'s device."""
    kw = dict(generator=generator, dtype=torch.float64, device=device_of(generator))
    W = torch.randn(n, m, **kw) * coupling / (n * m) ** 0.25
    return RBM(W, field * torch.randn(n, **kw), field * torch.randn(m, **kw))


def random_grbm(n: int, m: int, coupling: float, *, field: float = 0.1, sigma: tuple[float, float] = (1.0, 1.0),
                generator: torch.Generator | None = None) -> GaussianRBM:
    """GRBM with :math:`W_{ij} \\sim \\mathcal N(0, \\mathrm{coupling}^2/n)` (so the hidden couplings :math:`J` are
    O(coupling^2) when the variances are near one), fields :math:`\\mathcal N(0, \\mathrm{field}^2)` and
    standard deviations :math:`\\sigma_i` uniform on ``sigma`` (all one by default)."""
    kw = dict(generator=generator, dtype=torch.float64, device=device_of(generator))
    W = torch.randn(n, m, **kw) * coupling / n**0.5
    b, c = field * torch.randn(n, **kw), field * torch.randn(m, **kw)
    lo, hi = sigma
    s = lo + (hi - lo) * torch.rand(n, **kw) if hi > lo else torch.full((n,), lo, dtype=W.dtype, device=W.device)
    return GaussianRBM(W, b, c, s)


def rbm_log_likelihood(model: RBM, v: Tensor) -> Tensor:
    r"""Exact :math:`\log P(v)` of a binary RBM for each row of ``v`` (N, n); differentiable. Returns (N,)."""
    free = v @ model.b + log2cosh(model.c + v @ model.W).sum(1)  # (N,)
    return free - exact(model).log_z


def rbm_posterior(model: RBM, v: Tensor) -> tuple[Tensor, Tensor]:
    r"""Every hidden state, shape (2^m, m), and its posterior :math:`P(h \mid v)` under each row of ``v`` (N, n),
    shape (2^m, N); the hidden units are independent given v, :math:`P(h_j = 1 \mid v) = \sigma(2 (c + W^\top v)_j)`.
    """
    h = spin_states(model.W.shape[1], device=v.device)
    logits = model.c + v @ model.W  # (N, m)
    return h, torch.exp(h @ logits.T - log2cosh(logits).sum(1))


def fit_rbm(model: RBM, v: Tensor, *, weights: Tensor | None = None, steps: int = 300, lr: float = 0.05) -> RBM:
    """Maximum likelihood by Adam on the exact log-likelihood (tiny models: gradients by enumeration).

    model : the initial RBM; v : shape (N, n), the data (or every visible state); weights : shape (N,), the
    probability of each row (default uniform), so a distribution over states can be fitted exactly.
    """
    w = torch.full((v.shape[0],), 1 / v.shape[0], dtype=v.dtype, device=v.device) if weights is None else weights
    params = [t.detach().clone().requires_grad_(True) for t in model]
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(steps):
        loss = -(w * rbm_log_likelihood(RBM(*params), v)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return RBM(*(t.detach() for t in params))
