r"""Cause and effect from two variables: synthetic pairs, a meta-learned CGNN, and an additive-noise baseline.

A *pair* is a sample :math:`(a_i, b_i)_{i \le n}` in which one variable causes the other; the task is to say
which. A CGNN-style model answers by fitting, in each hypothesised direction, a generator of the effect from
the cause and a noise input, :math:`\hat b = g(a, e)`, and preferring the direction whose generated joint sample
is closer to the observed one in maximum mean discrepancy (:func:`joint_mmd2`). Meta-CGNN amortises the fit: one
generator, conditioned by FiLM on a DeepSets embedding of the whole sample, is trained once across many pairs
and then applied to a new pair without any retraining (:class:`MetaCGNN`, :func:`meta_train`).

:func:`cgnn_scores` is the non-amortised baseline, a CGNN fitted to each data set. :func:`anm_score` is the
additive-noise model (Gaussian-process regression, then HSIC between the residual and the putative cause) and
:func:`reci_score` the regression-error comparison.

References: ton2021meta, goudet2018cgnn, zaheer2017deepsets, perez2018film, hoyer2009anm, gretton2012kernel,
gretton2008hsic, bloebaum2018reci.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from torch import nn

__all__ = ["MECHANISMS", "NOISES", "Pair", "sample_pair", "sample_pairs", "standardise", "joint_mmd2", "MetaCGNN",
           "meta_train", "meta_cgnn_scores", "cgnn_scores", "hsic", "reci_score", "anm_score"]

MECHANISMS = ("network", "polynomial", "sigmoid", "periodic")
NOISES = ("gaussian", "uniform", "laplace", "multiplicative")
BANDWIDTHS = (0.1, 0.3, 1.0, 3.0)


class Pair(NamedTuple):
    """One cause–effect sample: ``a``, ``b`` shape (n,), standardised; ``direction`` is +1 when a causes b, else
    -1; ``mechanism`` and ``noise`` name how it was made."""

    a: np.ndarray
    b: np.ndarray
    direction: int
    mechanism: str
    noise: str


def standardise(v: np.ndarray) -> np.ndarray:
    """``v`` shifted and scaled to mean 0 and standard deviation 1 (along the last axis)."""
    v = np.asarray(v, dtype=float)
    sd = v.std(-1, keepdims=True)
    if np.any(sd == 0):
        raise ValueError("cannot standardise a constant sample")
    return (v - v.mean(-1, keepdims=True)) / sd


def _cause(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of a cause: a Gaussian mixture with 1–3 components of random means, spreads and weights."""
    k = rng.integers(1, 4)
    means = rng.normal(0, 1.5, k)
    sds = rng.uniform(0.3, 1.0, k)
    comp = rng.choice(k, size=n, p=rng.dirichlet(np.ones(k)))
    return means[comp] + sds[comp] * rng.standard_normal(n)


def _mechanism(name: str, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random nonlinear function of the standardised cause ``x`` (n,), of the family ``name``."""
    if name == "network":  # a random one-hidden-layer tanh network with 8 units
        w, c, v = rng.normal(0, 1.5, 8), rng.normal(0, 1, 8), rng.normal(0, 1, 8)
        return np.tanh(np.outer(x, w) + c) @ v
    if name == "polynomial":  # a cubic with a random leading sign
        c = rng.normal(0, 1, 3)
        return c[0] * x + c[1] * x**2 + rng.choice([-1, 1]) * rng.uniform(0.3, 1) * x**3
    if name == "sigmoid":
        return rng.uniform(1, 4) / (1 + np.exp(-rng.uniform(1, 4) * (x - rng.normal(0, 0.5))))
    if name == "periodic":
        return np.sin(rng.uniform(1, 3) * x + rng.uniform(0, 2 * np.pi)) + rng.uniform(-1, 1) * x
    raise ValueError(f"unknown mechanism {name!r}; expected one of {MECHANISMS}")


def sample_pair(n: int, rng: np.random.Generator, *, mechanism: str | None = None, noise: str | None = None,
                noise_scale: tuple[float, float] = (0.1, 0.5)) -> Pair:
    r"""One synthetic cause–effect pair of ``n`` points, its order randomised.

    The cause :math:`x` is a Gaussian mixture; the effect is :math:`y = f(x) + \sigma e` (``noise`` one of
    ``gaussian``, ``uniform``, ``laplace``, each of unit variance) or :math:`y = \exp(f(x)/2 + \sigma e)`
    (``multiplicative``), with :math:`f` a random function of the family ``mechanism`` scaled to unit variance
    and :math:`\sigma` uniform on ``noise_scale``. Both variables are standardised; with probability 1/2 they are
    returned as (effect, cause) and ``direction`` is -1. Unset families are drawn uniformly.
    """
    mechanism = mechanism or MECHANISMS[rng.integers(len(MECHANISMS))]
    noise = noise or NOISES[rng.integers(len(NOISES))]
    if noise not in NOISES:
        raise ValueError(f"unknown noise {noise!r}; expected one of {NOISES}")
    x = standardise(_cause(n, rng))
    f = standardise(_mechanism(mechanism, x, rng))
    sigma = rng.uniform(*noise_scale)
    e = {"gaussian": lambda: rng.standard_normal(n), "multiplicative": lambda: rng.standard_normal(n),
         "uniform": lambda: rng.uniform(-np.sqrt(3), np.sqrt(3), n),
         "laplace": lambda: rng.laplace(0, 1 / np.sqrt(2), n)}[noise]()
    y = np.exp(f / 2 + sigma * e) if noise == "multiplicative" else f + sigma * e
    y = standardise(y)
    if rng.random() < 0.5:
        return Pair(x, y, 1, mechanism, noise)
    return Pair(y, x, -1, mechanism, noise)


def sample_pairs(count: int, n: int, rng: np.random.Generator, **kwargs) -> list[Pair]:
    """``count`` independent pairs from :func:`sample_pair` (keywords passed on)."""
    return [sample_pair(n, rng, **kwargs) for _ in range(count)]


def joint_mmd2(cause: torch.Tensor, effect: torch.Tensor, generated: torch.Tensor, *,
               bandwidths: tuple[float, ...] = BANDWIDTHS) -> torch.Tensor:
    r"""Biased (V-statistic) squared MMD between the joint samples :math:`(x_i, y_i)` and :math:`(x_i, \hat y_i)`.

    ``cause`` x, ``effect`` y and ``generated`` :math:`\hat y` have shape (B, n); the result has shape (B,). The
    kernel is :math:`\sum_s \exp(-\lVert u - v\rVert^2 / 2s^2)` over ``bandwidths``. Both samples share the
    cause, so each Gaussian factorises into a cause part, computed once, and an effect part.
    """
    gammas = [1 / (2 * s**2) for s in bandwidths]
    dx2 = (cause.unsqueeze(2) - cause.unsqueeze(1)).square()  # (B, n, n)
    kx = [torch.exp(-g * dx2) for g in gammas]

    def mean_kernel(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        dy2 = (u.unsqueeze(2) - v.unsqueeze(1)).square()  # (B, n, n)
        return sum((k * torch.exp(-g * dy2)).mean((1, 2)) for k, g in zip(kx, gammas, strict=True))

    return mean_kernel(effect, effect) + mean_kernel(generated, generated) - 2 * mean_kernel(effect, generated)


class MetaCGNN(nn.Module):
    r"""A conditional generator of an effect from its cause, adapted to each data set by FiLM.

    The encoder (DeepSets) embeds a whole sample, :math:`z = \rho(\frac1n \sum_i \phi(a_i, b_i))`; the generator
    maps (cause, noise) through ``depth`` hidden layers whose pre-activations are scaled and shifted by
    :math:`\gamma(z), \beta(z)` (FiLM) to the generated effect. The parameters live on ``generator``'s device.
    """

    def __init__(self, *, width: int = 32, embedding: int = 16, depth: int = 2, noise_dim: int = 1,
                 generator: torch.Generator | None = None):
        super().__init__()
        device = generator.device if generator is not None else None

        def linear(i: int, o: int) -> nn.Linear:  # PyTorch's default initialisation, drawn from ``generator``
            lin = nn.Linear(i, o, device=device)
            with torch.no_grad():
                lin.weight.uniform_(-(i**-0.5), i**-0.5, generator=generator)
                lin.bias.uniform_(-(i**-0.5), i**-0.5, generator=generator)
            return lin

        self.noise_dim = noise_dim
        self.phi = nn.Sequential(linear(2, width), nn.ReLU(), linear(width, width), nn.ReLU())
        self.rho = nn.Sequential(linear(width, width), nn.ReLU(), linear(width, embedding))
        sizes = [1 + noise_dim] + [width] * depth
        self.layers = nn.ModuleList(linear(i, o) for i, o in zip(sizes[:-1], sizes[1:], strict=True))
        self.film = nn.ModuleList(linear(embedding, 2 * width) for _ in range(depth))
        self.out = linear(width, 1)

    def embed(self, cause: torch.Tensor, effect: torch.Tensor) -> torch.Tensor:
        """Data-set embeddings, shape (B, embedding), of the samples ``cause``, ``effect`` (B, n)."""
        return self.rho(self.phi(torch.stack([cause, effect], -1)).mean(1))

    def forward(self, cause: torch.Tensor, z: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Generated effects (B, n) from ``cause`` (B, n), embeddings ``z`` (B, embedding), ``noise`` (B, n, k)."""
        h = torch.cat([cause.unsqueeze(-1), noise], -1)  # (B, n, 1+k)
        for layer, film in zip(self.layers, self.film, strict=True):
            gamma, beta = film(z).unsqueeze(1).chunk(2, -1)  # (B, 1, width) each
            h = torch.relu((1 + gamma) * layer(h) + beta)
        return self.out(h).squeeze(-1)

    def loss(self, cause: torch.Tensor, effect: torch.Tensor, *, generator: torch.Generator | None = None,
             n_draws: int = 1) -> torch.Tensor:
        """MMD² (B,) between the observed joint sample and one generated from the cause, averaged over
        ``n_draws`` noise draws, assuming ``cause`` (B, n) causes ``effect`` (B, n)."""
        z = self.embed(cause, effect)
        total = 0
        for _ in range(n_draws):
            noise = torch.randn(*cause.shape, self.noise_dim, generator=generator, device=cause.device)
            total = total + joint_mmd2(cause, effect, self(cause, z, noise))
        return total / n_draws


def _oriented(pairs: list[Pair], device) -> tuple[torch.Tensor, torch.Tensor]:
    """(cause, effect), each shape (B, n), of ``pairs`` put in their causal order."""
    causes = np.stack([p.a if p.direction == 1 else p.b for p in pairs])
    effects = np.stack([p.b if p.direction == 1 else p.a for p in pairs])
    return (torch.as_tensor(causes, dtype=torch.float32, device=device),
            torch.as_tensor(effects, dtype=torch.float32, device=device))


def meta_train(model: MetaCGNN, pairs: list[Pair], *, steps: int = 2000, batch: int = 32, lr: float = 2e-3,
               generator: torch.Generator | None = None) -> np.ndarray:
    """Adam on the mean MMD² of ``model`` over random batches of training ``pairs`` in their causal order.

    Returns the loss per step, shape (steps,).
    """
    device = next(model.parameters()).device
    cause, effect = _oriented(pairs, device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    losses = np.empty(steps)
    for t in range(steps):
        idx = torch.randint(len(pairs), (batch,), generator=generator, device=device)
        loss = model.loss(cause[idx], effect[idx], generator=generator).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses[t] = loss.item()
    return losses


@torch.no_grad()
def meta_cgnn_scores(model: MetaCGNN, a: np.ndarray, b: np.ndarray, *, n_draws: int = 16,
                     generator: torch.Generator | None = None) -> np.ndarray:
    """Direction scores of pairs ``a``, ``b`` (B, n): MMD²(b→a) − MMD²(a→b), positive when a→b fits better.

    No parameter is updated: the data set enters only through its embedding.
    """
    device = next(model.parameters()).device
    a, b = (torch.as_tensor(v, dtype=torch.float32, device=device) for v in (a, b))
    ab = model.loss(a, b, generator=generator, n_draws=n_draws)
    ba = model.loss(b, a, generator=generator, n_draws=n_draws)
    return (ba - ab).cpu().numpy()


def cgnn_scores(a: np.ndarray, b: np.ndarray, *, hidden: int = 20, steps: int = 300, lr: float = 1e-2,
                eval_draws: int = 50, generator: torch.Generator | None = None) -> np.ndarray:
    r"""Direction scores of pairs ``a``, ``b`` (B, n) by per-data-set CGNNs: MMD²(b→a) − MMD²(a→b).

    For every pair and both directions a fresh generator :math:`\hat y = W_2\,\mathrm{relu}(W_1 [x, e] + c_1) + c_2`
    with ``hidden`` units is fitted by ``steps`` of full-batch Adam on MMD², then scored by the MMD² averaged over
    ``eval_draws`` noise draws (Goudet et al.'s pairwise CGNN, one run). The 2B networks are trained as one batch:
    Adam acts elementwise, so this is the same as training each alone.
    """
    device = generator.device if generator is not None else torch.device("cpu")
    a, b = (torch.as_tensor(v, dtype=torch.float32, device=device) for v in (a, b))
    cause, effect = torch.cat([a, b]), torch.cat([b, a])  # (2B, n): first a→b, then b→a
    m, n = cause.shape

    def init(*shape: int, fan_in: int) -> torch.Tensor:
        bound = fan_in**-0.5
        return ((torch.rand(*shape, generator=generator, device=device) * 2 - 1) * bound).requires_grad_()

    w1, c1 = init(m, 2, hidden, fan_in=2), init(m, 1, hidden, fan_in=2)
    w2, c2 = init(m, hidden, 1, fan_in=hidden), init(m, 1, 1, fan_in=hidden)

    def fit() -> torch.Tensor:
        noise = torch.randn(m, n, 1, generator=generator, device=device)
        h = torch.relu(torch.cat([cause.unsqueeze(-1), noise], -1) @ w1 + c1)  # (2B, n, hidden)
        return joint_mmd2(cause, effect, (h @ w2 + c2).squeeze(-1))  # (2B,)

    opt = torch.optim.Adam([w1, c1, w2, c2], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        fit().sum().backward()
        opt.step()
    with torch.no_grad():
        score = sum(fit() for _ in range(eval_draws)) / eval_draws
    return (score[len(a):] - score[: len(a)]).cpu().numpy()


def _gram(x: np.ndarray) -> np.ndarray:
    """Gaussian Gram matrix (n, n) of ``x`` (n,) with the median-distance bandwidth."""
    d2 = np.subtract.outer(x, x) ** 2
    upper = d2[np.triu_indices(len(x), 1)]
    return np.exp(-d2 / np.median(upper[upper > 0]))


def hsic(x: np.ndarray, y: np.ndarray) -> float:
    r"""Biased HSIC statistic :math:`\frac1n \operatorname{tr}(K H L H)` of ``x``, ``y`` shape (n,).

    Gaussian kernels :math:`\exp(-(u - v)^2 / \mathrm{med})`, med the median of the nonzero squared distances
    (the median heuristic of Gretton et al.; ties, common in real data, are left out of the median).
    """
    n = len(x)
    h = np.eye(n) - 1 / n
    return float(np.sum((h @ _gram(x) @ h) * (h @ _gram(y) @ h)) / n)


def reci_score(cause: np.ndarray, effect: np.ndarray, *, degree: int = 3) -> float:
    """Mean squared error of a least-squares polynomial of ``degree`` fitted to ``effect`` on ``cause`` (n,), both
    first scaled to [0, 1]; RECI prefers the direction with the smaller error (Blöbaum et al.)."""
    x, y = ((v - v.min()) / (v.max() - v.min()) for v in (cause, effect))
    with warnings.catch_warnings():  # a cause with few distinct values makes the fit rank-deficient; lstsq copes
        warnings.simplefilter("ignore", np.exceptions.RankWarning)
        return float(np.mean((y - np.polyval(np.polyfit(x, y, degree), x)) ** 2))


def anm_score(cause: np.ndarray, effect: np.ndarray) -> float:
    """HSIC between ``cause`` (n,) and the residual of a Gaussian-process regression of ``effect`` on it; small
    when an additive noise model fits in this direction. Kernel hyper-parameters by marginal likelihood."""
    kernel = ConstantKernel(1.0, (1e-2, 1e2)) * RBF(1.0, (5e-2, 1e1)) + WhiteKernel(0.1, (1e-4, 1.0))
    with warnings.catch_warnings():  # a hyper-parameter at its bound is expected (e.g. no noise) and harmless
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp = GaussianProcessRegressor(kernel, normalize_y=True).fit(cause[:, None], effect)
    return hsic(cause, effect - gp.predict(cause[:, None]))
