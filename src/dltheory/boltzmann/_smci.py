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

__all__ = ["random_dbm", "dbm_exact_sample", "gibbs_sweep", "mc_pair_stats", "smci1_pair_stats",
           "smci2_pair_stats", "exact_pair_stats", "mean_field_data_stats", "dbm_visible_kl", "shuffle_units",
           "LearningCurve", "learn_dbm"]


def random_dbm(sizes: list[int], scale: float, *, generator: torch.Generator | None = None) -> DBM:
    r"""A DBM with layer sizes ``sizes`` and no biases, :math:`W_{l,ij} \sim \mathcal N(0, \mathrm{scale}^2)`,
    float64, on ``generator``'s device."""
    dev = generator.device if generator is not None else torch.device("cpu")
    kw = dict(generator=generator, dtype=torch.float64, device=dev)
    weights = tuple(scale * torch.randn(a, b, **kw) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    biases = tuple(torch.zeros(n, dtype=torch.float64, device=dev) for n in sizes)
    return DBM(weights, biases)


def _field(dbm: DBM, layers: list[Tensor], k: int) -> Tensor:
    """Field on layer ``k`` from its neighbours in ``layers`` (list of (S, n_j)), shape (S, n_k)."""
    f = dbm.biases[k].expand(layers[0].shape[0], -1)
    if k > 0:
        f = f + layers[k - 1] @ dbm.weights[k - 1]
    if k < len(dbm.weights):
        f = f + layers[k + 1] @ dbm.weights[k].T
    return f


def _spins(p_plus: Tensor, generator: torch.Generator | None) -> Tensor:
    u = torch.rand(p_plus.shape, generator=generator, dtype=p_plus.dtype, device=p_plus.device)
    return torch.where(u < p_plus, 1.0, -1.0).to(p_plus.dtype)


def _window_log_weights(weights: list[Tensor], biases: list[Tensor], enum: list[int]):
    """For a chain of layers with per-sample biases (list of (S, n_k)) and weights (list of (n_k, n_k+1)),
    enumerate the joint states of the layers ``enum`` (every other one) and sum the rest analytically.

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
        if k - 1 in st:
            f = f + (st[k - 1] @ weights[k - 1])[None]
        if k + 1 in st:
            f = f + (st[k + 1] @ weights[k].T)[None]
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
    when ``clamp_visible``). ``layers``: list of (S, n_l); returns the new list."""
    layers = list(layers)
    for parity in (1, 0):
        for k in range(parity, len(layers), 2):
            if k == 0 and clamp_visible:
                continue
            layers[k] = _spins(torch.sigmoid(2 * _field(dbm, layers, k)), generator)
    return layers


def mc_pair_stats(layers: list[Tensor]) -> list[Tensor]:
    r"""Plain Monte Carlo :math:`\frac1S \sum_s x_l^{(s)} x_{l+1}^{(s)\top}` for every adjacent pair of layers.
    ``layers``: list of (S, n_l); returns a list of (n_l, n_{l+1})."""
    S = layers[0].shape[0]
    return [a.T @ b / S for a, b in zip(layers[:-1], layers[1:], strict=True)]


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
        return x[:, :, None] * torch.tanh(fy)[:, None, :]
    a = fx[:, :, None] - W[None] * y[:, None, :]  # (S, n_l, n_l+1)
    b = fy[:, None, :] - W[None] * x[:, :, None]
    lc = log2cosh(a + b) - log2cosh(a - b)  # log cosh difference (the log 2 cancels)
    return torch.tanh(W[None] + 0.5 * lc)


def smci1_pair_stats(dbm: DBM, layers: list[Tensor], *, clamp_visible: bool = False) -> list[Tensor]:
    r"""First-order SMCI estimates of :math:`\langle x_l x_{l+1}^\top\rangle` from samples ``layers`` (list of
    (S, n_l)): the average over samples of each pair's exact conditional expectation given all other units.
    With ``clamp_visible`` the samples are from the data-clamped posterior and the visible layer is given.
    Returns a list of (n_l, n_{l+1})."""
    return [_pair_conditional(dbm, layers, k, clamp_visible).mean(0) for k in range(len(dbm.weights))]


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
    N = v.shape[0]
    m = [v] + [torch.zeros(N, b.numel(), dtype=v.dtype, device=v.device) for b in dbm.biases[1:]]
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
    configuration that SMCI conditions on is destroyed (a negative control). list of (S, n_l) -> same shapes."""
    out = []
    for x in layers:
        S, n = x.shape
        perm = torch.argsort(torch.rand(S, n, generator=generator, dtype=torch.float64, device=x.device), 0)
        out.append(torch.gather(x, 0, perm))
    return out


class LearningCurve(NamedTuple):
    """The learned ``dbm``; ``kl`` (epochs + 1,): :math:`\\mathrm{KL}(P_{\\rm true} \\,\\|\\, P_{\\rm model})`
    before training and after every epoch; ``mf_unconverged``: epochs whose mean field stopped at ``mf_iter``
    sweeps without converging (methods with the mean-field data term)."""

    dbm: DBM
    kl: Tensor
    mf_unconverged: int


def learn_dbm(data: Tensor, init: DBM, truth: DBM, *, method: str, epochs: int = 200, lr: float = 0.05,
              n_chains: int = 100, sweeps: int = 1, mf_iter: int = 200, shuffle: bool = False,
              generator: torch.Generator | None = None) -> LearningCurve:
    r"""Gradient ascent on the log-likelihood of ``data`` (N, n_0) for the weights of a bias-free DBM.

    The gradient of :math:`W_l` is :math:`\langle x_l x_{l+1}^\top\rangle_{\rm data} - \langle x_l
    x_{l+1}^\top\rangle_{\rm model}`; the model term comes from ``n_chains`` persistent Gibbs chains advanced
    ``sweeps`` sweeps per epoch. ``method``:

    * ``"conventional"``: data term by mean field (:func:`mean_field_data_stats`, at most ``mf_iter`` sweeps),
      model term the plain average
      over the chains (:func:`mc_pair_stats`);
    * ``"smci"``: both terms by first-order SMCI (:func:`smci1_pair_stats`), the data term on persistent
      clamped chains (one per data row, ``sweeps`` sweeps per epoch), the model term on the same persistent chains
      as the conventional method. ``shuffle`` permutes each unit across samples before SMCI (a control);
    * ``"mf_smci"``: the conventional data term and the SMCI model term (an ablation: with the same generator its
      chains use the conventional method's random numbers, identical in the first epoch and parting as the two
      models do).

    ``truth`` is the generating DBM, used only to record the exact KL after each epoch. Full-batch updates.
    """
    if method not in ("conventional", "smci", "mf_smci"):
        raise ValueError(f"method must be 'conventional', 'smci' or 'mf_smci', got {method!r}")
    dbm = DBM(tuple(w.clone() for w in init.weights), tuple(b.clone() for b in init.biases))
    dev, dt = data.device, data.dtype
    chains = [_spins(torch.full((n_chains, b.numel()), 0.5, dtype=dt, device=dev), generator) for b in dbm.biases]
    clamped = [data] + [_spins(torch.full((data.shape[0], b.numel()), 0.5, dtype=dt, device=dev), generator)
                        for b in dbm.biases[1:]]
    kl = [dbm_visible_kl(truth, dbm)]
    unconverged = 0
    rows, where = torch.unique(data, dim=0, return_inverse=True)  # mean field once per distinct data row
    for _ in range(epochs):
        for _ in range(sweeps):
            chains = gibbs_sweep(dbm, chains, generator=generator)
        if method != "smci":
            means, converged = _mean_field_hidden(dbm, rows, mf_iter, 0.5, 1e-8)
            unconverged += not converged
            pos = mc_pair_stats([data] + [m[where] for m in means[1:]])
            neg = mc_pair_stats(chains) if method == "conventional" else smci1_pair_stats(dbm, chains)
        else:
            for _ in range(sweeps):
                clamped = gibbs_sweep(dbm, clamped, clamp_visible=True, generator=generator)
            c_model = shuffle_units(chains, generator=generator) if shuffle else chains
            c_data = shuffle_units(clamped, generator=generator) if shuffle else clamped
            pos = smci1_pair_stats(dbm, c_data, clamp_visible=True)
            neg = smci1_pair_stats(dbm, c_model)
        dbm = DBM(tuple(w + lr * (p - n) for w, p, n in zip(dbm.weights, pos, neg, strict=True)), dbm.biases)
        kl.append(dbm_visible_kl(truth, dbm))
    return LearningCurve(dbm, torch.tensor(kl, dtype=torch.float64), unconverged)
