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

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from torch import nn

from dltheory import kernels, nets
from dltheory.data import Pair

__all__ = ["BANDWIDTHS", "MetaCGNN", "meta_train", "meta_cgnn_scores", "cgnn_scores", "reci_score", "anm_score",
           "igci_score", "cdt_reci_score", "peer_scores", "oriented"]

BANDWIDTHS = (0.1, 0.3, 1.0, 3.0)


class MetaCGNN(nn.Module):
    r"""A conditional generator of an effect from its cause, adapted to each data set by FiLM.

    The encoder (DeepSets) embeds a whole sample, :math:`z = \rho(\frac1n \sum_i \phi(a_i, b_i))`; the generator
    maps (cause, noise) through ``depth`` hidden layers whose pre-activations are scaled and shifted by
    :math:`\gamma(z), \beta(z)` (FiLM) to the generated effect. The parameters live on ``generator``'s device.
    """

    def __init__(self, *, width: int = 32, embedding: int = 16, depth: int = 2, noise_dim: int = 1,
                 generator: torch.Generator | None = None):
        super().__init__()

        def linear(i: int, o: int) -> nn.Linear:
            return nets.linear(i, o, generator=generator)

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
             n_draws: int = 1, embed: bool | torch.Tensor = True) -> torch.Tensor:
        """MMD² (B,) between the observed joint sample and one generated from the cause, averaged over
        ``n_draws`` noise draws, assuming ``cause`` (B, n) causes ``effect`` (B, n). ``embed=False`` zeroes the
        data-set embedding and a tensor (embedding,) replaces it: one fixed generator for every data set (the
        controls without meta-learning)."""
        z = self.embed(cause, effect)
        if isinstance(embed, torch.Tensor):
            z = embed.to(z).expand_as(z)
        elif not embed:
            z = torch.zeros_like(z)
        total = 0
        for _ in range(n_draws):
            noise = torch.randn(*cause.shape, self.noise_dim, generator=generator, device=cause.device)
            total = total + kernels.joint_mmd2(cause, effect, self(cause, z, noise), BANDWIDTHS)
        return total / n_draws


def oriented(pairs: list[Pair], device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(cause, effect), each shape (B, n), of ``pairs`` put in their causal order."""
    causes = np.stack([p.a if p.direction == 1 else p.b for p in pairs])
    effects = np.stack([p.b if p.direction == 1 else p.a for p in pairs])
    return (torch.as_tensor(causes, dtype=torch.float32, device=device),
            torch.as_tensor(effects, dtype=torch.float32, device=device))


@torch.no_grad()
def mean_embedding(model: MetaCGNN, pairs: list[Pair]) -> torch.Tensor:
    """The mean data-set embedding, shape (embedding,), of ``pairs`` in their causal order: with it for every data
    set (``embed=`` of :func:`meta_cgnn_scores`), the model is one typical generator that does not adapt."""
    return model.embed(*oriented(pairs, next(model.parameters()).device)).mean(0)


def meta_train(model: MetaCGNN, pairs: list[Pair], *, steps: int = 2000, batch: int = 32, lr: float = 2e-3,
               generator: torch.Generator | None = None) -> np.ndarray:
    """Adam on the mean MMD² of ``model`` over random batches of training ``pairs`` in their causal order.

    Returns the loss per step, shape (steps,).
    """
    device = next(model.parameters()).device
    cause, effect = oriented(pairs, device)
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
                     embed: bool | torch.Tensor = True, generator: torch.Generator | None = None) -> np.ndarray:
    """Direction scores of pairs ``a``, ``b`` (B, n): MMD²(b→a) − MMD²(a→b), positive when a→b fits better.

    No parameter is updated: the data set enters only through its embedding (zeroed with ``embed=False``, one
    fixed embedding (embedding,) for every data set when ``embed`` is a tensor).
    """
    device = next(model.parameters()).device
    a, b = (torch.as_tensor(v, dtype=torch.float32, device=device) for v in (a, b))
    ab = model.loss(a, b, generator=generator, n_draws=n_draws, embed=embed)
    ba = model.loss(b, a, generator=generator, n_draws=n_draws, embed=embed)
    return (ba - ab).cpu().numpy()


def cgnn_scores(a: np.ndarray, b: np.ndarray, *, hidden: int = 20, steps: int = 300, lr: float = 1e-2,
                eval_draws: int = 50, generator: torch.Generator | None = None) -> np.ndarray:
    r"""Direction scores of pairs ``a``, ``b`` (B, n) by per-data-set CGNNs: MMD²(b→a) − MMD²(a→b).

    For every pair and both directions a fresh generator :math:`\hat y = W_2\,\mathrm{relu}(W_1 [x, e] + c_1) + c_2`
    with ``hidden`` units is fitted by ``steps`` of full-batch Adam on MMD², then scored by the MMD² averaged over
    ``eval_draws`` noise draws (Goudet et al.'s pairwise CGNN, one run). The 2B networks are trained as one batch:
    Adam acts elementwise, so this is the same as training each alone.
    """
    device = nets.device_of(generator)
    a, b = (torch.as_tensor(v, dtype=torch.float32, device=device) for v in (a, b))
    cause, effect = torch.cat([a, b]), torch.cat([b, a])  # (2B, n): first a→b, then b→a
    m, n = cause.shape
    w1, c1 = nets.uniform(m, 2, hidden, fan_in=2, generator=generator), nets.uniform(m, 1, hidden, fan_in=2,
                                                                                     generator=generator)
    w2, c2 = (nets.uniform(m, hidden, 1, fan_in=hidden, generator=generator),
              nets.uniform(m, 1, 1, fan_in=hidden, generator=generator))

    mmd2_to_data = kernels.joint_mmd2_to(cause, effect, BANDWIDTHS)  # the parts that stay fixed, once

    def fit() -> torch.Tensor:
        noise = torch.randn(m, n, 1, generator=generator, device=device)
        h = torch.relu(torch.cat([cause.unsqueeze(-1), noise], -1) @ w1 + c1)  # (2B, n, hidden)
        return mmd2_to_data((h @ w2 + c2).squeeze(-1))  # (2B,)

    opt = torch.optim.Adam([w1, c1, w2, c2], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        fit().sum().backward()
        opt.step()
    with torch.no_grad():
        score = sum(fit() for _ in range(eval_draws)) / eval_draws
    return (score[len(a):] - score[: len(a)]).cpu().numpy()


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
    residual = effect - gp.predict(cause[:, None])
    return float(kernels.hsic(torch.as_tensor(cause), torch.as_tensor(residual)))


def _cdt():
    with warnings.catch_warnings():  # cdt announces at import whether it found a GPU
        warnings.simplefilter("ignore")
        from cdt.causality import pairwise
    return pairwise


def igci_score(a: np.ndarray, b: np.ndarray, *, reference: str = "gaussian") -> float:
    """cdt's IGCI with the entropy estimator and the ``reference`` measure (``"gaussian"``: each variable
    standardised; ``"uniform"``: each scaled to [0, 1], the setting Mooij et al. found best): positive when a -> b."""
    return float(_cdt().IGCI().predict_proba((a, b), ref_measure=reference))


def cdt_reci_score(a: np.ndarray, b: np.ndarray) -> float:
    """cdt's RECI as shipped (its regression keeps only the cubic feature): positive when a -> b."""
    return float(_cdt().RECI().predict_proba((a, b)))


def peer_scores(pairs: list[Pair]) -> dict[str, np.ndarray]:
    """Direction scores (positive: a -> b) of the peers on ``pairs``: our ANM and RECI, cdt's IGCI with both
    reference measures, and cdt's RECI."""
    return {
        "ANM": np.array([anm_score(p.b, p.a) - anm_score(p.a, p.b) for p in pairs]),
        "IGCI": np.array([igci_score(p.a, p.b) for p in pairs]),
        "IGCI (uniform)": np.array([igci_score(p.a, p.b, reference="uniform") for p in pairs]),
        "RECI": np.array([reci_score(p.b, p.a) - reci_score(p.a, p.b) for p in pairs]),
        "RECI (cdt)": np.array([cdt_reci_score(p.a, p.b) for p in pairs]),
    }
