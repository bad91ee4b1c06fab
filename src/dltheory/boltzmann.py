r"""Restricted Boltzmann machines: energies, exact enumeration and naive mean field.

Spins are :math:`\pm 1`. A binary RBM has energy
:math:`E(v, h) = -b^\top v - c^\top h - v^\top W h`; a Gaussian–Bernoulli RBM (GRBM) has real visible units,
:math:`E(v, h) = \sum_i \big(v_i^2 / (2\sigma_i^2) - b_i v_i\big) - c^\top h - v^\top W h`.
Free energies are variational (Gibbs) free energies :math:`F[q] = \mathbb{E}_q E - H(q)`, so that
:math:`-\log Z \le F[q]` for every :math:`q`.

All functions take and return float64 ``torch`` tensors on the model's device.

A deep Boltzmann machine (DBM) stacks such layers, :math:`-E = \sum_l b_l^\top x_l + \sum_l x_l^\top W_l x_{l+1}`;
its exact likelihood enumerates the odd layers and sums the even ones analytically (:func:`dbm_log_likelihood`),
and :func:`pretraining_bound` gives a lower bound of it built from two layer-wise trained RBMs.

References: takahashi2016meanfield, yasuda2016pretraining, hinton2006fast, salakhutdinov2012better.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "RBM",
    "GaussianRBM",
    "Exact",
    "MeanField",
    "spin_states",
    "exact",
    "binary_entropy",
    "grbm_pairwise",
    "free_energy_full",
    "free_energy_marginal",
    "expected_conditional_kl",
    "mean_field",
    "marginal_mean_field",
    "ising_mean_field",
    "random_rbm",
    "random_grbm",
    "DBM",
    "rbm_log_likelihood",
    "rbm_posterior",
    "fit_rbm",
    "dbm_log_partition",
    "dbm_log_likelihood",
    "compose_dbm",
    "PretrainingBound",
    "pretraining_bound",
]

_LOG_2PI = float(torch.log(torch.tensor(2 * torch.pi, dtype=torch.float64)))


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


class MeanField(NamedTuple):
    """A mean-field fixed point: its variational ``free_energy`` (scalar), the means ``mean_v`` (n,) and
    ``mean_h`` (m,), the number of sweeps ``n_iter`` and whether the tolerance was met."""

    free_energy: Tensor
    mean_v: Tensor
    mean_h: Tensor
    n_iter: int
    converged: bool


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


def _log2cosh(x: Tensor) -> Tensor:
    # log(2 cosh x) = |x| + log(1 + exp(-2|x|)), stable for large |x|
    a = x.abs()
    return a + torch.log1p(torch.exp(-2 * a))


def _hidden_log_weight(model: RBM | GaussianRBM, h: Tensor) -> tuple[Tensor, Tensor]:
    """Unnormalised log marginal of hidden states and the conditional visible means.

    h : shape (N, m). Returns log w(h) shape (N,) with :math:`\\log Z = \\operatorname{logsumexp} \\log w`, and
    :math:`\\mathbb{E}[v \\mid h]` shape (N, n).
    """
    field = model.b + h @ model.W.T  # (N, n)
    if isinstance(model, GaussianRBM):
        s2 = model.sigma**2
        logw = h @ model.c + (0.5 * s2 * field**2 + 0.5 * (_LOG_2PI + torch.log(s2))).sum(1)
        return logw, s2 * field
    return h @ model.c + _log2cosh(field).sum(1), torch.tanh(field)


def _transpose(model: RBM) -> RBM:
    return RBM(model.W.T, model.c, model.b)


def exact(model: RBM | GaussianRBM, *, chunk: int = 2**16) -> Exact:
    """Exact :math:`\\log Z` and means by enumerating one layer and summing the other out analytically.

    The hidden layer is enumerated (for a binary RBM, the smaller layer), in chunks of ``chunk`` states, so
    memory stays :math:`O(\\mathrm{chunk}\\cdot n)`; :math:`2^{20}` states take about a second on a CPU.
    """
    if isinstance(model, RBM) and model.W.shape[0] < model.W.shape[1]:
        t = exact(_transpose(model), chunk=chunk)
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


def binary_entropy(m: Tensor) -> Tensor:
    """Entropy of independent :math:`\\pm 1` spins with means ``m`` (any shape), summed over the last axis."""
    p = ((1 + m) / 2).clamp(0, 1)
    q = 1 - p
    return -(torch.special.xlogy(p, p) + torch.special.xlogy(q, q)).sum(-1)


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


def _kept_energies(model: RBM) -> tuple[Tensor, Tensor]:
    """All visible states of a binary RBM and their marginal energies with the hidden layer summed out."""
    v = spin_states(model.W.shape[0], device=model.W.device)  # (2^n, n)
    return v, -(v @ model.b) - _log2cosh(model.c + v @ model.W).sum(1)


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
    v, energy = _kept_energies(model)
    logq = torch.log(((1 + v * mean) / 2).clamp_min(1e-300)).sum(1)  # (2^n,)
    return torch.exp(logq) @ energy - binary_entropy(mean)


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
    v, _ = _kept_energies(model)
    qv = torch.exp(torch.log(((1 + v * mean_v) / 2).clamp_min(1e-300)).sum(1))  # (2^n,)
    # KL(q(h) || P(h|v)) = sum_j [log 2cosh(a_j) - m_j a_j] - H(q_h), a = c + W^T v
    return qv @ _log2cosh(c + v @ W).sum(1) - mean_h @ (c + W.T @ mean_v) - binary_entropy(mean_h)


def _check_converged(converged: bool, what: str, max_iter: int) -> None:
    if not converged:
        warnings.warn(f"{what} did not converge in max_iter={max_iter} sweeps; raise max_iter or damping",
                      RuntimeWarning, stacklevel=3)


def ising_mean_field(J: Tensor, f: Tensor, *, init: Tensor | None = None, damping: float = 0.0,
                     tol: float = 1e-12, max_iter: int = 10_000) -> tuple[Tensor, int, bool]:
    r"""Naive mean field for :math:`P(h) \propto \exp(\tfrac12 h^\top J h + f^\top h)` on :math:`\pm1` spins.

    Sequential updates :math:`m_j \leftarrow (1-d)\tanh(f_j + \sum_{k\ne j} J_{jk} m_k) + d\, m_j`; each is an
    exact (or, damped, a convex-combination) coordinate minimisation, so the free energy never rises.
    The diagonal of ``J`` only adds a constant (:math:`h_j^2 = 1`) and is ignored.

    J : shape (m, m), symmetric; f : shape (m,). Returns the means (m,), the sweeps and convergence.
    """
    m = torch.zeros_like(f) if init is None else init.clone()
    Joff = J - torch.diag(torch.diagonal(J))
    for it in range(1, max_iter + 1):
        delta = 0.0
        for j in range(m.shape[0]):
            new = (1 - damping) * torch.tanh(f[j] + Joff[j] @ m) + damping * m[j]
            delta = max(delta, float((new - m[j]).abs()))
            m[j] = new
        if delta < tol:
            return m, it, True
    return m, max_iter, False


def _best_of(run, size: int, n_restarts: int, generator: torch.Generator | None, device) -> MeanField:
    """Run from all-zero means and ``n_restarts`` uniform random means; keep the lowest free energy."""
    best = run(None)
    for _ in range(n_restarts):
        init = 2 * torch.rand(size, dtype=torch.float64, generator=generator, device=device) - 1
        cand = run(init)
        if cand.free_energy < best.free_energy:
            best = cand
    return best


def mean_field(model: RBM | GaussianRBM, *, n_restarts: int = 0, generator: torch.Generator | None = None,
               damping: float = 0.0, tol: float = 1e-12, max_iter: int = 10_000) -> MeanField:
    r"""Naive mean field on the whole model (both layers factorised).

    Alternating layer updates, each an exact block minimisation of the free energy (layers have no internal
    couplings): binary :math:`m_v = \tanh(b + W m_h)`, GRBM :math:`\mu = \sigma^2 (b + W m_h)`; then
    :math:`m_h = \tanh(c + W^\top m_v)`. For the GRBM the combined hidden update carries the self-coupling
    :math:`\sum_i \sigma_i^2 W_{ij}^2 m_j` that the marginal model does not have.

    Mean field has several fixed points when couplings are strong: it starts from all-zero hidden means and
    from ``n_restarts`` random ones (drawn with ``generator``) and returns the lowest free energy found.
    """
    return _best_of(lambda init: _mean_field(model, init, damping, tol, max_iter), model.W.shape[1],
                    n_restarts, generator, model.W.device)


def _mean_field(model: RBM | GaussianRBM, init_h: Tensor | None, damping: float, tol: float,
                max_iter: int) -> MeanField:
    """One run of :func:`mean_field` from ``init_h`` (zeros if None)."""
    W, b, c = model.W, model.b, model.c
    gauss = isinstance(model, GaussianRBM)
    mh = torch.zeros_like(c) if init_h is None else init_h.clone()
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the sweep count returned)
        mv = model.sigma**2 * (b + W @ mh) if gauss else torch.tanh(b + W @ mh)
        new = (1 - damping) * torch.tanh(c + W.T @ mv) + damping * mh
        delta = float((new - mh).abs().max())
        mh = new
        if delta < tol:
            break
    converged = delta < tol
    _check_converged(converged, "mean_field", max_iter)
    mv = model.sigma**2 * (b + W @ mh) if gauss else torch.tanh(b + W @ mh)
    return MeanField(free_energy_full(model, mv, mh), mv, mh, it, converged)


def marginal_mean_field(model: RBM | GaussianRBM, *, n_restarts: int = 0,
                        generator: torch.Generator | None = None, damping: float = 0.0, tol: float = 1e-12,
                        max_iter: int = 10_000) -> MeanField:
    r"""Naive mean field after one layer is marginalised out exactly.

    GRBM: the Gaussian visible layer is integrated out (:func:`grbm_pairwise`) and mean field runs on the
    hidden spins; ``mean_v`` is then :math:`\sigma^2 (b + W m_h)`.
    Binary RBM: the hidden layer is summed out, leaving :math:`E(v) = -b^\top v - \sum_j \log 2\cosh(c_j +
    W_{:j}^\top v)`; coordinate updates :math:`m_i = \tanh\big(-\tfrac12 (\mathbb E[E \mid v_i{=}1] -
    \mathbb E[E \mid v_i{=}-1])\big)` use exact expectations over the visible states (n <= ~20), and
    ``mean_h`` is :math:`\mathbb{E}_q \tanh(c + W^\top v)`. To sum out the visible layer instead, pass
    ``RBM(W.T, c, b)``.

    Restarts as in :func:`mean_field` (random initial means of the kept layer); the lowest free energy wins.
    """
    size = model.W.shape[1] if isinstance(model, GaussianRBM) else model.W.shape[0]
    return _best_of(lambda init: _marginal_mean_field(model, init, damping, tol, max_iter), size, n_restarts,
                    generator, model.W.device)


def _marginal_mean_field(model: RBM | GaussianRBM, init: Tensor | None, damping: float, tol: float,
                         max_iter: int) -> MeanField:
    """One run of :func:`marginal_mean_field` from ``init`` (zeros if None)."""
    if isinstance(model, GaussianRBM):
        J, f, _ = grbm_pairwise(model)
        mh, it, ok = ising_mean_field(J, f, init=init, damping=damping, tol=tol, max_iter=max_iter)
        _check_converged(ok, "marginal_mean_field", max_iter)
        mv = model.sigma**2 * (model.b + model.W @ mh)
        return MeanField(free_energy_marginal(model, mh), mv, mh, it, ok)
    v, energy = _kept_energies(model)  # (2^n, n), (2^n,)
    n = v.shape[1]
    mv = torch.zeros(n, dtype=torch.float64, device=v.device) if init is None else init.clone()
    logq_unit = torch.log(((1 + v * mv) / 2).clamp_min(1e-300))  # (2^n, n)
    logq = logq_unit.sum(1)
    ok = False
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the sweep count returned)
        delta = 0.0
        for i in range(n):
            w = torch.exp(logq - logq_unit[:, i])  # q of the other units, (2^n,)
            slope = 0.5 * (w * v[:, i]) @ energy  # (E[E|v_i=1] - E[E|v_i=-1]) / 2
            new = (1 - damping) * torch.tanh(-slope) + damping * mv[i]
            delta = max(delta, float((new - mv[i]).abs()))
            mv[i] = new
            col = torch.log(((1 + v[:, i] * new) / 2).clamp_min(1e-300))
            logq = logq - logq_unit[:, i] + col
            logq_unit[:, i] = col
        if delta < tol:
            ok = True
            break
    _check_converged(ok, "marginal_mean_field", max_iter)
    mh = torch.exp(logq) @ torch.tanh(model.c + v @ model.W)
    return MeanField(free_energy_marginal(model, mv), mv, mh, it, ok)


def random_rbm(n: int, m: int, coupling: float, *, field: float = 0.1,
               generator: torch.Generator | None = None, device=None) -> RBM:
    """Binary RBM with :math:`W_{ij} \\sim \\mathcal N(0, \\mathrm{coupling}^2/\\sqrt{nm})` and fields
    :math:`\\mathcal N(0, \\mathrm{field}^2)`."""
    kw = dict(generator=generator, dtype=torch.float64, device=device)
    W = torch.randn(n, m, **kw) * coupling / (n * m) ** 0.25
    return RBM(W, field * torch.randn(n, **kw), field * torch.randn(m, **kw))


def random_grbm(n: int, m: int, coupling: float, *, field: float = 0.1,
                generator: torch.Generator | None = None, device=None) -> GaussianRBM:
    """GRBM with unit variances, :math:`W_{ij} \\sim \\mathcal N(0, \\mathrm{coupling}^2/n)` (so the hidden
    couplings :math:`J` are O(coupling^2)) and fields :math:`\\mathcal N(0, \\mathrm{field}^2)`."""
    kw = dict(generator=generator, dtype=torch.float64, device=device)
    W = torch.randn(n, m, **kw) * coupling / n**0.5
    sigma = torch.ones(n, dtype=torch.float64, device=device)
    return GaussianRBM(W, field * torch.randn(n, **kw), field * torch.randn(m, **kw), sigma)


# ---------------------------------------------------------------------------------------------------------------
# Deep Boltzmann machines and layer-wise pretraining


class DBM(NamedTuple):
    r"""A DBM on :math:`\pm 1` layers :math:`x_0 = v, x_1, \dots, x_L`.

    weights : tuple of L tensors, ``weights[l]`` shape (n_l, n_{l+1}); biases : tuple of L + 1 tensors, (n_l,).
    """

    weights: tuple[Tensor, ...]
    biases: tuple[Tensor, ...]


def rbm_log_likelihood(model: RBM, v: Tensor) -> Tensor:
    r"""Exact :math:`\log P(v)` of a binary RBM for each row of ``v`` (N, n); differentiable. Returns (N,)."""
    free = v @ model.b + _log2cosh(model.c + v @ model.W).sum(1)  # (N,)
    return free - exact(model).log_z


def rbm_posterior(model: RBM, v: Tensor) -> tuple[Tensor, Tensor]:
    r"""Every hidden state, shape (2^m, m), and its posterior :math:`P(h \mid v)` under each row of ``v`` (N, n),
    shape (2^m, N); the hidden units are independent given v, :math:`P(h_j = 1 \mid v) = \sigma(2 (c + W^\top v)_j)`.
    """
    h = spin_states(model.W.shape[1], device=v.device)
    logits = model.c + v @ model.W  # (N, m)
    return h, torch.exp(h @ logits.T - _log2cosh(logits).sum(1))


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
        logw = logw + _log2cosh(_even_field(dbm, odd, layer)).sum(1)
    field0 = _even_field(dbm, odd, 0)  # (M, n_0)
    if v is None:
        return logw + _log2cosh(field0).sum(1)
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
    :math:`h_1` biases, so that :math:`-E_{
m DBM} = 	frac12(-E_A) + 	frac12(-E_B)`.
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

    With :math:`-E_{
m DBM} = 	frac12(-E_A) + 	frac12(-E_B)`, Hölder's inequality bounds the partition function
    by the two RBMs' (a two-cluster decomposition):
    :math:`\log Z \le U = 	frac12(\log Z_A + n_2 \log 2) + 	frac12(\log Z_B + n_0 \log 2)`, so
    :math:`\log P(v) \ge \log \sum_h e^{-E(v,h)} - U` (``cluster``). Replacing the posterior by the directed
    (Bayesian-network) recognition model :math:`Q_1(h_1\mid v) = P_A(h_1 \mid v)`,
    :math:`Q_2(h_2 \mid h_1)` optimal, and using :math:`\sum \sqrt{x} \ge \sqrt{\sum x}` gives

    .. math:: \mathcal L(v) = 	frac12 \log P_A(v) + 	frac12 H(Q_1) + 	frac12 \mathbb E_{Q_1} \log P_B(h_1)
              - 	frac12 (n_0 + n_2) \log 2 \;\le\; 	ext{cluster} \;\le\; \log P_{
m DBM}(v)

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
    log_pb_h1 = h1 @ second.b + _log2cosh(second.c + h1 @ second.W).sum(1) - log_z_b  # (M,)
    layerwise = (0.5 * rbm_log_likelihood(first, v) + 0.5 * binary_entropy(torch.tanh(first.c + v @ first.W))
                 + 0.5 * (q1.T @ log_pb_h1) - 0.5 * (n0 + n2) * log2)
    return PretrainingBound(layerwise, cluster, upper)
