r"""Spatial Monte Carlo integration (SMCI) for deep Boltzmann machines: pair-statistic estimators, exact sampling
and moments by enumeration, and two learning loops (conventional and SMCI).

A DBM (:class:`~dltheory.boltzmann.DBM`) has :math:`\pm 1` layers :math:`x_0 = v, \dots, x_L` and
:math:`-E = \sum_l b_l^\top x_l + \sum_l x_l^\top W_l x_{l+1}`. Learning needs the pair statistics
:math:`\langle x_l x_{l+1}^\top \rangle` under the model and under the data-clamped posterior. Given samples
:math:`x^{(1..S)}`, plain Monte Carlo averages :math:`x_{l,i} x_{l+1,j}`. SMCI (Yasuda 2015) averages instead the
*conditional* expectation of the pair given the samples' values outside a sum region around it, computed exactly:

* first order: the sum region is the pair :math:`C = \{i, j\}` itself, conditioned on everything else
  (:func:`smci1_pair_stats`, closed form);
* second order: the sum region is :math:`C` and its neighbours :math:`N_1(C)`, conditioned on
  :math:`N_2(C)`; in a DBM that is every unit of layers :math:`l-1 \dots l+2`, conditioned on layers
  :math:`l-2` and :math:`l+3` (:func:`smci2_pair_stats`, by enumeration of alternate layers).

Both are Rao–Blackwellisations of the plain estimator, so they are unbiased for exact samples and never have
larger variance. References: yasuda2015smci, yasuda2018smci, yasuda2020smci.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch
from torch import Tensor

from dltheory.boltzmann._dbm import DBM, dbm_log_likelihood
from dltheory.boltzmann._rbm import log2cosh, spin_states

__all__ = ["random_dbm", "uniform_dbm", "dbm_exact_sample", "gibbs_sweep", "mc_pair_stats", "smci1_pair_stats",
           "smci2_pair_stats", "exact_pair_stats", "mean_field_data_stats", "dbm_visible_kl", "shuffle_units",
           "stack_dbms", "visible_log_prob", "visible_kl", "LearningCurves", "learn_dbms"]


def random_dbm(sizes: list[int], scale: float, *, generator: torch.Generator | None = None) -> DBM:
    r"""A DBM with layer sizes ``sizes`` and no biases, :math:`W_{l,ij} \sim \mathcal N(0, \mathrm{scale}^2)`,
    float64, on ``generator``'s device."""
    dev = generator.device if generator is not None else torch.device("cpu")
    kw = dict(generator=generator, dtype=torch.float64, device=dev)
    weights = tuple(scale * torch.randn(a, b, **kw) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    biases = tuple(torch.zeros(n, dtype=torch.float64, device=dev) for n in sizes)
    return DBM(weights, biases)


def uniform_dbm(sizes: list[int], *, generator: torch.Generator | None = None) -> DBM:
    r"""A DBM with no biases and Glorot–Bengio ("Xavier") uniform weights,
    :math:`W_{l,ij} \sim U(-r_l, r_l)` with :math:`r_l = \sqrt{6 / (n_l + n_{l+1})}`, float64, on ``generator``'s
    device (the start used by Yasuda's group's public DBM code)."""
    dev = generator.device if generator is not None else torch.device("cpu")
    kw = dict(generator=generator, dtype=torch.float64, device=dev)
    weights = tuple((6 / (a + b)) ** 0.5 * (2 * torch.rand(a, b, **kw) - 1)
                    for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return DBM(weights, tuple(torch.zeros(n, dtype=torch.float64, device=dev) for n in sizes))


def _field(dbm: DBM, layers: list[Tensor], k: int) -> Tensor:
    """Field on layer ``k`` from its neighbours in ``layers`` (list of (..., S, n_j)), shape (..., S, n_k). A
    batched DBM (weights (B, n_l, n_{l+1}), biases (B, n_l)) takes layers (B, S, n_l)."""
    f = dbm.biases[k].unsqueeze(-2)  # (..., 1, n_k)
    if k > 0:
        f = f + layers[k - 1] @ dbm.weights[k - 1]
    if k < len(dbm.weights):
        f = f + layers[k + 1] @ dbm.weights[k].mT
    return f


def _spins(p_plus: Tensor, generator: torch.Generator | None) -> Tensor:
    u = torch.rand(p_plus.shape, generator=generator, dtype=p_plus.dtype, device=p_plus.device)
    return torch.where(u < p_plus, 1.0, -1.0).to(p_plus.dtype)


def _window_log_weights(weights: list[Tensor], biases: list[Tensor], enum: list[int]):
    """For a chain of layers with per-sample biases (list of (S, n_k)) and weights (list of (n_k, n_k+1), or of
    (S, n_k, n_k+1) for a batch of S models), enumerate the joint states of the layers ``enum`` (every other one) and sum the rest analytically.

    Returns the enumerated states per layer (dict k -> (M, n_k)), log weights (S, M) and the analytic layers'
    fields (dict k -> (S, M, n_k)).
    """
    sizes = [biases[k].shape[1] for k in enum]
    dev, dt = biases[0].device, biases[0].dtype
    states = torch.split(spin_states(sum(sizes), device=dev).to(dt), sizes, dim=1)
    st = dict(zip(enum, states, strict=True))
    logw = sum(biases[k] @ st[k].T for k in enum)  # (S, M)
    fields = {}
    for k in range(len(biases)):
        if k in st:
            continue
        f = biases[k][:, None, :]  # (S, 1, n_k)
        for g in ([st[k - 1] @ weights[k - 1]] if k - 1 in st else []) + (
                [st[k + 1] @ weights[k].mT] if k + 1 in st else []):
            f = f + (g if g.dim() == 3 else g[None])  # batched weights give (B, M, n_k) already
        fields[k] = f  # (S, M, n_k)
        logw = logw + log2cosh(f).sum(-1)
    return st, logw, fields


def dbm_exact_sample(dbm: DBM, n: int, *, generator: torch.Generator | None = None) -> list[Tensor]:
    """``n`` independent exact samples of every layer: the odd layers' joint state drawn from its exact
    marginal (even layers summed out), then the even layers from their conditionals. Returns a list of (n, n_l).
    """
    L1 = len(dbm.biases)
    biases = [b[None] for b in dbm.biases]
    odd = list(range(1, L1, 2))
    st, logw, _ = _window_log_weights(list(dbm.weights), biases, odd)
    idx = torch.multinomial(torch.softmax(logw[0], 0), n, replacement=True, generator=generator)
    layers: list[Tensor | None] = [None] * L1
    for k in odd:
        layers[k] = st[k][idx]
    for k in range(0, L1, 2):
        f = dbm.biases[k].expand(n, -1)
        if k > 0:
            f = f + layers[k - 1] @ dbm.weights[k - 1]
        if k < L1 - 1:
            f = f + layers[k + 1] @ dbm.weights[k].T
        layers[k] = _spins(torch.sigmoid(2 * f), generator)
    return layers


def gibbs_sweep(dbm: DBM, layers: list[Tensor], *, clamp_visible: bool = False,
                generator: torch.Generator | None = None) -> list[Tensor]:
    """One block-Gibbs sweep: odd layers given even, then even layers given odd (the visible layer kept fixed
    when ``clamp_visible``). ``layers``: list of (..., S, n_l) (a batched DBM: (B, S, n_l)); returns the new
    list."""
    layers = list(layers)
    for parity in (1, 0):
        for k in range(parity, len(layers), 2):
            if k == 0 and clamp_visible:
                continue
            layers[k] = _spins(torch.sigmoid(2 * _field(dbm, layers, k)), generator)
    return layers


def mc_pair_stats(layers: list[Tensor]) -> list[Tensor]:
    r"""Plain Monte Carlo :math:`\frac1S \sum_s x_l^{(s)} x_{l+1}^{(s)\top}` for every adjacent pair of layers.
    ``layers``: list of (..., S, n_l); returns a list of (..., n_l, n_{l+1})."""
    S = layers[0].shape[-2]
    return [a.mT @ b / S for a, b in zip(layers[:-1], layers[1:], strict=True)]


def _pair_conditional(dbm: DBM, layers: list[Tensor], layer: int, clamp_visible: bool) -> Tensor:
    r"""Per sample, :math:`\mathbb E[x_{l,i} x_{l+1,j} \mid \text{all other units}]`, shape (S, n_l, n_{l+1}).

    With fields :math:`a = h_{l,i} - W_{ij} x_{l+1,j}` and :math:`b = h_{l+1,j} - W_{ij} x_{l,i}` from the other
    units, the pair's conditional is :math:`\propto e^{a s + b t + W_{ij} s t}`, whose correlation is
    :math:`\tanh\!\big(W_{ij} + \tfrac12[\log\cosh(a+b) - \log\cosh(a-b)]\big)`. A clamped visible unit is not
    summed: the conditional is then :math:`x_{0,i}\tanh(\text{field on } x_{1,j})`.
    """
    W = dbm.weights[layer]
    x, y = layers[layer], layers[layer + 1]
    fx, fy = _field(dbm, layers, layer), _field(dbm, layers, layer + 1)
    if layer == 0 and clamp_visible:
        return x[..., :, None] * torch.tanh(fy)[..., None, :]
    # (1/2)[log cosh(a+b) - log cosh(a-b)] = artanh(tanh a tanh b), and tanh(W + artanh u) = (t + u) / (1 + t u)
    # with t = tanh W. As the spins are +-1, tanh a = tanh(f_x - W y) = (T_x - y t) / (1 - T_x y t) with
    # T_x = tanh f_x: one tanh per unit instead of one per pair and sample (exact to ~1e-16 / (1 - tanh|W|)).
    t = torch.tanh(W).unsqueeze(-3)  # (..., 1, n_l, n_l+1)
    tx, ty = torch.tanh(fx)[..., :, None], torch.tanh(fy)[..., None, :]  # (..., S, n_l, 1), (..., S, 1, n_l+1)
    yt, xt = y[..., None, :] * t, x[..., :, None] * t  # (..., S, n_l, n_l+1)
    u = (tx - yt) / (1 - tx * yt) * (ty - xt) / (1 - ty * xt)
    return (t + u) / (1 + t * u)


def smci1_pair_stats(dbm: DBM, layers: list[Tensor], *, clamp_visible: bool = False) -> list[Tensor]:
    r"""First-order SMCI estimates of :math:`\langle x_l x_{l+1}^\top\rangle` from samples ``layers`` (list of
    (..., S, n_l)): the average over samples of each pair's exact conditional expectation given all other
    units. With ``clamp_visible`` the samples are from the data-clamped posterior and the visible layer is given.
    A batched DBM (weights (B, n_l, n_{l+1})) takes layers (B, S, n_l). Returns a list of (..., n_l, n_{l+1})."""
    return [_pair_conditional(dbm, layers, k, clamp_visible).mean(-3) for k in range(len(dbm.weights))]


def smci2_pair_stats(dbm: DBM, layers: list[Tensor]) -> list[Tensor]:
    r"""Second-order SMCI estimates of :math:`\langle x_l x_{l+1}^\top\rangle` from model samples ``layers``
    (list of (S, n_l)).

    For a pair :math:`C` between layers :math:`l` and :math:`l+1`, :math:`C \cup N_1(C)` is all of layers
    :math:`l-1 \dots l+2` and :math:`N_2(C)` is layers :math:`l-2` and :math:`l+3`. Given each sample's values on
    :math:`N_2`, the window is a small DBM (with extra fields from the boundary), and its pair moment is exact:
    enumerate every other layer of the window, sum the rest analytically. When the window is the whole network
    the estimate is the exact moment. Returns a list of (n_l, n_{l+1}).
    """
    L = len(dbm.weights)
    out = []
    for layer in range(L):
        lo, hi = max(0, layer - 1), min(L, layer + 2)
        biases = []
        for k in range(lo, hi + 1):
            b = dbm.biases[k].expand(layers[0].shape[0], -1)
            if k == lo and k > 0:
                b = b + layers[k - 1] @ dbm.weights[k - 1]
            if k == hi and k < L:
                b = b + layers[k + 1] @ dbm.weights[k].T
            biases.append(b)
        weights = list(dbm.weights[lo:hi])
        local = layer - lo
        sizes = [b.shape[1] for b in biases]
        parity = min((0, 1), key=lambda p: sum(sizes[p::2]))
        enum = list(range(parity, len(biases), 2))
        st, logw, fields = _window_log_weights(weights, biases, enum)
        p = torch.softmax(logw, 1)  # (S, M)
        if local in st:  # layer l enumerated, l+1 analytic
            moment = torch.einsum("sm,mi,smj->ij", p, st[local], torch.tanh(fields[local + 1]))
        else:
            moment = torch.einsum("sm,smi,mj->ij", p, torch.tanh(fields[local]), st[local + 1])
        out.append(moment / layers[0].shape[0])
    return out


def exact_pair_stats(dbm: DBM) -> list[Tensor]:
    r"""Exact :math:`\langle x_l x_{l+1}^\top \rangle` of the model by enumeration (second-order SMCI with the
    whole network as its window, which needs no samples). Returns a list of (n_l, n_{l+1})."""
    L1 = len(dbm.biases)
    enum = list(range(1, L1, 2))
    st, logw, fields = _window_log_weights(list(dbm.weights), [b[None] for b in dbm.biases], enum)
    p = torch.softmax(logw[0], 0)  # (M,)
    mean = {k: st[k] for k in enum}
    mean.update({k: torch.tanh(f[0]) for k, f in fields.items()})  # (M, n_k): conditional means
    # adjacent layers always have opposite parity: one enumerated, one analytic, independent given the former
    return [torch.einsum("m,mi,mj->ij", p, mean[k], mean[k + 1]) for k in range(L1 - 1)]


def _mean_field_hidden(dbm: DBM, v: Tensor, n_iter: int, damping: float, tol: float) -> tuple[list[Tensor], bool]:
    """Damped layer-by-layer mean field of the hidden layers given ``v`` (N, n_0); the means per layer and whether
    the largest update fell below ``tol``."""
    m = [v] + [torch.zeros(*v.shape[:-1], b.shape[-1], dtype=v.dtype, device=v.device) for b in dbm.biases[1:]]
    for _ in range(n_iter):
        step = 0.0
        for k in range(1, len(m)):
            new = (1 - damping) * m[k] + damping * torch.tanh(_field(dbm, m, k))
            step = max(step, (new - m[k]).abs().max().item())
            m[k] = new
        if step < tol:
            return m, True
    return m, False


def mean_field_data_stats(dbm: DBM, v: Tensor, *, n_iter: int = 50, damping: float = 0.5,
                          tol: float = 1e-8) -> list[Tensor]:
    r"""Data-term pair statistics by naive mean field: for each data row of ``v`` (N, n_0) the hidden means solve
    :math:`m_l = \tanh(b_l + W_{l-1}^\top m_{l-1} + W_l m_{l+1})` with :math:`m_0 = v` (damped), and
    :math:`\langle x_l x_{l+1}^\top\rangle \approx \frac1N\sum m_l m_{l+1}^\top`. Returns a list of
    (n_l, n_{l+1}); warns if ``n_iter`` sweeps do not reach ``tol``."""
    m, converged = _mean_field_hidden(dbm, v, n_iter, damping, tol)
    if not converged:
        warnings.warn(f"mean_field_data_stats: no convergence in {n_iter} sweeps (raise n_iter)", RuntimeWarning,
                      stacklevel=2)
    return mc_pair_stats(m)


def dbm_visible_kl(p: DBM, q: DBM) -> float:
    r""":math:`\mathrm{KL}(P_v \,\|\, Q_v)` between the visible marginals of two DBMs, by enumerating every
    visible state."""
    v = spin_states(p.biases[0].numel(), device=p.biases[0].device)
    lp, lq = dbm_log_likelihood(p, v), dbm_log_likelihood(q, v)
    return float((torch.exp(lp) * (lp - lq)).sum())


def shuffle_units(layers: list[Tensor], *, generator: torch.Generator | None = None) -> list[Tensor]:
    """Each unit's values permuted across samples independently: every unit keeps its marginal, but the joint
    configuration that SMCI conditions on is destroyed (a negative control). list of (..., S, n_l) -> same
    shapes."""
    out = []
    for x in layers:
        perm = torch.argsort(torch.rand(x.shape, generator=generator, dtype=torch.float64, device=x.device), -2)
        out.append(torch.gather(x, -2, perm))
    return out


def stack_dbms(dbms: list[DBM]) -> DBM:
    """Stack DBMs of equal layer sizes into one batched DBM: weights (B, n_l, n_{l+1}), biases (B, n_l)."""
    return DBM(tuple(torch.stack(w) for w in zip(*(d.weights for d in dbms), strict=True)),
               tuple(torch.stack(b) for b in zip(*(d.biases for d in dbms), strict=True)))


def visible_log_prob(dbm: DBM) -> Tensor:
    r"""Exact :math:`\log P(v)` of every visible state (in :func:`spin_states` order) of a DBM, batched or not:
    the even layers are enumerated jointly, the odd ones summed analytically. Returns (..., 2^{n_0})."""
    L1 = len(dbm.biases)
    even = list(range(0, L1, 2))
    biases = [b.unsqueeze(-2) if b.dim() == 1 else b for b in dbm.biases]  # (B or 1, n_k)
    _, logw, _ = _window_log_weights(list(dbm.weights), biases, even)  # (B or 1, M), v the leading block
    logw = logw.reshape(logw.shape[0], 2 ** dbm.biases[0].shape[-1], -1)
    lp = torch.logsumexp(logw, -1) - torch.logsumexp(logw.flatten(1), -1)[:, None]
    return lp if dbm.biases[0].dim() > 1 else lp[0]


def visible_kl(p: DBM, q: DBM) -> Tensor:
    r""":math:`\mathrm{KL}(P_v \,\|\, Q_v)` between the visible marginals of two (batched) DBMs by enumeration,
    shape (...,) (one per batch element)."""
    lp, lq = visible_log_prob(p), visible_log_prob(q)
    return (torch.exp(lp) * (lp - lq)).sum(-1)


class LearningCurves(NamedTuple):
    r"""The learned batched ``dbm``; ``kl`` (B, epochs + 1): :math:`\mathrm{KL}(P_{\rm true} \,\|\,
    P_{\rm model})` of each batch element before training and after every epoch; ``mf_residual``: the largest
    change of a mean-field mean in the last sweep of any update (0 without the mean-field data term): how far the
    warm-started means are from a fixed point."""

    dbm: DBM
    kl: Tensor
    mf_residual: float


def _rows(x: Tensor, idx: Tensor) -> Tensor:
    """Rows ``idx`` (B, b) of each batch element of ``x`` (B, N, n): (B, b, n)."""
    return torch.gather(x, 1, idx[..., None].expand(-1, -1, x.shape[-1]))


def learn_dbms(data: Tensor, init: DBM, truth: DBM, *, method: str, epochs: int, n_chains: int,
               batch_size: int = 100, lr: float = 0.002, burn_in: int = 100, mf_start: int = 100,
               mf_sweeps: int = 1, shuffle: bool = False, generator: torch.Generator,
               order_generator: torch.Generator, aux_generator: torch.Generator) -> LearningCurves:
    r"""Learn B bias-free DBMs at once, each from its own ``data`` (B, N, n_0) (:math:`\pm1`), by Adamax ascent
    on the log-likelihood with minibatches of ``batch_size`` rows (each epoch a fresh permutation).

    The gradient of :math:`W_l` is :math:`\langle x_l x_{l+1}^\top\rangle_{\rm data} - \langle x_l
    x_{l+1}^\top\rangle_{\rm model}`; the model term comes from ``n_chains`` persistent Gibbs chains per
    element (B, S, n_l), advanced one sweep per update after ``burn_in`` sweeps at the start. ``method``:

    * ``"conventional"``: data term by naive mean field given each data row (persistent means: ``mf_start``
      layer-by-layer sweeps at the start, then ``mf_sweeps`` per update from the last means, as the weights move
      little between updates), model term the plain average over the chains (:func:`mc_pair_stats`);
    * ``"smci"``: both terms by first-order SMCI (:func:`smci1_pair_stats`), the data term on persistent chains
      clamped to the data (one per data row, one sweep per update), the model term on the chains;
    * ``"mf_smci"``: the conventional data term and the SMCI model term (an ablation).

    ``shuffle`` permutes each unit across samples before SMCI (a control). Random streams: ``generator`` drives
    the model chains, ``order_generator`` the minibatch order, ``aux_generator`` the clamped chains and the
    shuffles, so that learners given generators of equal seeds share their chains' and minibatches' random
    numbers (common random numbers). ``init`` and ``truth`` are batched DBMs (:func:`stack_dbms`); ``truth`` is
    used only for the exact KL after each epoch. The optimiser is :class:`torch.optim.Adamax` with rate ``lr``.
    """
    if method not in ("conventional", "smci", "mf_smci"):
        raise ValueError(f"method must be 'conventional', 'smci' or 'mf_smci', got {method!r}")
    B, N, _ = data.shape
    if N % batch_size:
        raise ValueError(f"batch_size {batch_size} must divide the {N} data rows")
    dev, dt = data.device, data.dtype
    weights = [w.clone().requires_grad_(False) for w in init.weights]
    opt = torch.optim.Adamax(weights, lr=lr, maximize=True)
    dbm = DBM(tuple(weights), init.biases)
    chains = [_spins(torch.full((B, n_chains, b.shape[-1]), 0.5, dtype=dt, device=dev), generator)
              for b in init.biases]  # (B, S, n_l)
    for _ in range(burn_in):
        chains = gibbs_sweep(dbm, chains, generator=generator)
    clamped, means = None, None
    if method == "smci":
        clamped = [data] + [_spins(torch.full((B, N, b.shape[-1]), 0.5, dtype=dt, device=dev), aux_generator)
                            for b in init.biases[1:]]
    else:
        means = [data] + [torch.zeros(B, N, b.shape[-1], dtype=dt, device=dev) for b in init.biases[1:]]
        means, _ = _layerwise_mean_field(dbm, means, mf_start)
    residual = torch.zeros((), dtype=dt, device=dev)
    kl = [visible_kl(truth, dbm)]
    for _ in range(epochs):
        order = torch.argsort(torch.rand(B, N, generator=order_generator, dtype=torch.float64, device=dev), 1)
        for idx in order.split(batch_size, dim=1):  # (B, b)
            chains = gibbs_sweep(dbm, chains, generator=generator)
            if method == "smci":
                clamped = gibbs_sweep(dbm, clamped, clamp_visible=True, generator=aux_generator)
                rows = [_rows(x, idx) for x in clamped]
                rows = shuffle_units(rows, generator=aux_generator) if shuffle else rows
                pos = smci1_pair_stats(dbm, rows, clamp_visible=True)
            else:
                means, step = _layerwise_mean_field(dbm, means, mf_sweeps)
                residual = torch.maximum(residual, step)
                pos = mc_pair_stats([_rows(x, idx) for x in means])
            if method == "conventional":
                neg = mc_pair_stats(chains)
            else:
                neg = smci1_pair_stats(dbm, shuffle_units(chains, generator=aux_generator) if shuffle else chains)
            for w, p_, n_ in zip(weights, pos, neg, strict=True):
                w.grad = p_ - n_
            opt.step()
        kl.append(visible_kl(truth, dbm))
    return LearningCurves(DBM(tuple(w.detach().clone() for w in weights), init.biases), torch.stack(kl, -1),
                          float(residual))


def _layerwise_mean_field(dbm: DBM, means: list[Tensor], sweeps: int) -> tuple[list[Tensor], Tensor]:
    """``sweeps`` layer-by-layer mean-field sweeps of the hidden layers, :math:`m_l \\leftarrow \\tanh(\\text{field
    from } m_{l-1}, m_{l+1})`, from ``means`` (list of (..., N, n_l), the first the clamped data). Each layer's
    update minimises the naive mean-field free energy given the others (units of a layer do not interact), so the
    sweeps descend it. Returns the means and the largest change in the last sweep."""
    m = list(means)
    step = torch.zeros((), dtype=m[0].dtype, device=m[0].device)
    for _ in range(sweeps):
        step = torch.zeros((), dtype=m[0].dtype, device=m[0].device)
        for k in range(1, len(m)):
            new = torch.tanh(_field(dbm, m, k))
            step = torch.maximum(step, (new - m[k]).abs().max())
            m[k] = new
    return m, step
