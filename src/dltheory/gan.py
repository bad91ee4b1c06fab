r"""Generator dynamics under optimal discriminators, and small GANs with differently regularised critics.

A *particle generator* is a set of m points :math:`x_1, \dots, x_m` (the generated distribution
:math:`\mu = \frac1m \sum_i \delta_{x_i}`) moved by gradient descent on a divergence :math:`J(x) = D(\mu, \nu)` to a
target sample :math:`\nu`, with the discriminator at its optimum at every step:

* :func:`w1_loss`: Wasserstein-1. The optimal critic is 1-Lipschitz but not smooth; every particle not on its
  target feels a gradient of norm exactly :math:`1/m`.
* :func:`smoothed_w1_loss`: W1 with the critic inf-convolved with a quadratic (its Moreau envelope), which in the
  primal replaces the distance :math:`r` by the Huber cost :math:`r^2/2\lambda` (:math:`r \le \lambda`),
  :math:`r - \lambda/2` (else); the gradient is :math:`1/(m\lambda)`-Lipschitz per particle.
* :func:`mmd_loss`: squared MMD with a Gaussian kernel of bandwidth s, smooth with constant at most
  :math:`4/(m s^2)` (:func:`mmd_smoothness`).

References: chu2020smoothness, flamary2021pot.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import ot
import torch
from torch import nn

__all__ = ["w1_loss", "smoothed_w1_loss", "mmd_loss", "mmd_smoothness", "descend", "Critic", "Generator",
           "train_gan", "critic_constants", "w2_distance"]


def _plan(x: np.ndarray, y: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Optimal transport plan (POT's exact solver) between uniform weights on x (m,) and y (n,)."""
    return ot.emd(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), cost)


def w1_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """W1 between the particles ``x`` (m, d) and the target ``y`` (n, d), and its gradient in x (m, d)."""
    diff = x[:, None] - y[None]  # (m, n, d)
    dist = np.linalg.norm(diff, axis=-1)
    plan = _plan(x, y, dist)
    unit = diff / np.maximum(dist, 1e-300)[..., None]
    return float((plan * dist).sum()), np.einsum("mn,mnd->md", plan, unit)


def smoothed_w1_loss(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[float, np.ndarray]:
    """W1 with the critic inf-convolved with :math:`\\|\\cdot\\|^2 / 2\\lambda` (Huber transport cost); value and
    gradient (m, d)."""
    diff = x[:, None] - y[None]
    dist = np.linalg.norm(diff, axis=-1)
    cost = np.where(dist <= lam, dist**2 / (2 * lam), dist - lam / 2)
    plan = _plan(x, y, cost)
    return float((plan * cost).sum()), np.einsum("mn,mnd->md", plan, diff / np.maximum(dist, lam)[..., None])


def mmd_loss(x: np.ndarray, y: np.ndarray, bandwidth: float) -> tuple[float, np.ndarray]:
    """Squared MMD with :math:`k(a, b) = e^{-|a-b|^2 / 2s^2}` (V-statistic); value and gradient (m, d)."""
    def gram(a, b):
        d = a[:, None] - b[None]
        return np.exp(-(d**2).sum(-1) / (2 * bandwidth**2)), d

    kxx, dxx = gram(x, x)
    kxy, dxy = gram(x, y)
    kyy, _ = gram(y, y)
    m, n = len(x), len(y)
    value = kxx.mean() - 2 * kxy.mean() + kyy.mean()
    # d/dx_i of k(x_i, b) = -k (x_i - b) / s^2; the x-x term counts each pair twice
    grad = (-2 / m**2 * np.einsum("ij,ijd->id", kxx, dxx) + 2 / (m * n) * np.einsum("il,ild->id", kxy, dxy))
    return float(value), grad / bandwidth**2


def mmd_smoothness(m: int, bandwidth: float) -> float:
    """An upper bound :math:`L = 4/(m s^2)` on the Hessian norm of :func:`mmd_loss` in the particles.

    Derivation: :math:`\\|\\nabla^2 e^{-|u|^2/2s^2}\\| \\le 1/s^2`; the particle-particle term contributes at most
    :math:`2/(m s^2)` (a graph Laplacian of the m particles), the particle-target term at most :math:`2/(m s^2)`.
    """
    return 4 / (m * bandwidth**2)


def descend(loss_fn, x0: np.ndarray, step: float, n_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient descent of the particles; returns the final particles, the loss and the gradient norm per step."""
    x = x0.copy()
    values, norms = np.empty(n_steps), np.empty(n_steps)
    for t in range(n_steps):
        values[t], g = loss_fn(x)
        norms[t] = np.linalg.norm(g)
        x = x - step * g
    return x, values, norms


# ---------------------------------------------------------------------------------------------------------------
# Small torch GANs on 2-D data


class Critic(nn.Module):
    """A 2 -> width -> width -> 1 critic with ``relu`` or ``softplus`` activations."""

    def __init__(self, width: int = 64, activation: str = "relu"):
        super().__init__()
        act = nn.ReLU if activation == "relu" else nn.Softplus
        self.net = nn.Sequential(nn.Linear(2, width), act(), nn.Linear(width, width), act(), nn.Linear(width, 1))

    def forward(self, x):
        return self.net(x)[:, 0]


class Generator(nn.Module):
    """A 2 -> width -> width -> 2 generator of 2-D points from Gaussian noise."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                 nn.Linear(width, 2))

    def forward(self, z):
        return self.net(z)


def _gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor, generator) -> torch.Tensor:
    eps = torch.rand(real.shape[0], 1, generator=generator, device=real.device)
    mid = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(mid).sum(), mid, create_graph=True)
    return ((g.norm(dim=1) - 1) ** 2).mean()


def train_gan(target: torch.Tensor, variant: str, *, steps: int = 1500, critic_steps: int = 3, batch: int = 256,
              lr: float = 1e-3, generator: torch.Generator | None = None) -> tuple[Generator, Critic, np.ndarray]:
    """A Wasserstein GAN on 2-D ``target`` samples (N, 2) with one of three critics:

    ``"plain"``: ReLU critic, weights clipped to [-0.05, 0.05] (the original WGAN constraint);
    ``"gradient penalty"``: ReLU critic with the penalty :math:`(\\|\\nabla f\\| - 1)^2`, weight 1;
    ``"smooth"``: softplus critic with the gradient penalty and a squared-norm penalty on its weights (1e-3),
    standing in for the RKHS-norm penalty of the smooth construction.

    Returns the generator, the critic and the generator's parameter-gradient norm at every step.
    """
    gen, critic = Generator(), Critic(activation="softplus" if variant == "smooth" else "relu")
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.9))
    opt_c = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.9))
    norms = np.empty(steps)

    def sample(k):
        idx = torch.randint(0, target.shape[0], (k,), generator=generator)
        return target[idx], gen(torch.randn(k, 2, generator=generator))

    for t in range(steps):
        for _ in range(critic_steps):
            real, fake = sample(batch)
            fake = fake.detach()
            loss = critic(fake).mean() - critic(real).mean()
            if variant != "plain":
                loss = loss + _gradient_penalty(critic, real, fake, generator)
            if variant == "smooth":
                loss = loss + 1e-3 * sum((p**2).sum() for p in critic.parameters())
            opt_c.zero_grad()
            loss.backward()
            opt_c.step()
            if variant == "plain":
                with torch.no_grad():
                    for p in critic.parameters():
                        p.clamp_(-0.05, 0.05)
        _, fake = sample(batch)
        loss = -critic(fake).mean()
        opt_g.zero_grad()
        loss.backward()
        norms[t] = torch.sqrt(sum((p.grad**2).sum() for p in gen.parameters())).item()
        opt_g.step()
    return gen, critic, norms


class CriticConstants(NamedTuple):
    """Empirical constants of a critic near sample points: ``lipschitz`` = max gradient norm, ``smoothness`` =
    max :math:`\\|\nabla f(a) - \nabla f(b)\\| / \\|a - b\\|` over nearby pairs (a Hessian would read 0 between
    the kinks of a ReLU critic and miss them)."""

    lipschitz: float
    smoothness: float


def critic_constants(critic: Critic, x: torch.Tensor, *, radius: float = 1e-2,
                     generator: torch.Generator | None = None) -> CriticConstants:
    """Largest gradient norm and largest gradient-difference quotient of the critic, over the points ``x``
    (N, 2) and partners at distance ``radius`` in random directions."""
    grad = torch.func.vmap(torch.func.grad(lambda p: critic(p[None])[0]))
    u = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    partner = x + radius * u / u.norm(dim=1, keepdim=True)
    ga, gb = grad(x), grad(partner)
    return CriticConstants(ga.norm(dim=1).max().item(), ((ga - gb).norm(dim=1) / radius).max().item())


def w2_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Exact W2 between two equal-weight samples (POT, squared Euclidean cost)."""
    return float(np.sqrt(ot.emd2(np.full(len(a), 1 / len(a)), np.full(len(b), 1 / len(b)), ot.dist(a, b))))
