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
  :math:`6/(m s^2)` (:func:`mmd_smoothness`).

References: chu2020smoothness, flamary2021pot.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import ot
import torch
from torch import nn

from dltheory import kernels, nets, repro

__all__ = ["w1_loss", "smoothed_w1_loss", "mmd_loss", "mmd_smoothness", "gradient_lipschitz", "descend", "critic",
           "generator_net", "VARIANTS", "GanRuns", "train_gans", "train_gan", "CriticConstants", "critic_constants",
           "w2_distance"]


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
    """Squared MMD (:func:`dltheory.kernels.mmd2`, Gaussian kernel of bandwidth s) between the particles ``x``
    (m, d) and the target ``y`` (n, d); value and gradient in x (m, d) by autograd, in float64."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    value = kernels.mmd2(xt, torch.as_tensor(y, dtype=torch.float64), bandwidth)
    (grad,) = torch.autograd.grad(value, xt)
    return value.item(), repro.to_numpy(grad)


def mmd_smoothness(m: int, bandwidth: float) -> float:
    """An upper bound :math:`L = 6/(m s^2)` on the Hessian norm of :func:`mmd_loss` in the particles.

    Derivation: :math:`\\|\\nabla^2 e^{-|u|^2/2s^2}\\| \\le 1/s^2`. The particle-particle term's Hessian is a block
    Laplacian over the m particles with weights :math:`2/m^2`, of norm at most
    :math:`2(m-1) \\cdot 2/(m^2 s^2) < 4/(m s^2)`; the particle-target term adds at most :math:`2/(m s^2)`.
    """
    return 6 / (m * bandwidth**2)


def gradient_lipschitz(loss, x: np.ndarray, radius: float, rng: np.random.Generator, *, probes: int = 20) -> float:
    r"""A measured smoothness constant of a particle loss at ``x`` (m, d): the largest
    :math:`\|\nabla J(x + \delta) - \nabla J(x)\| / \|\delta\|` over ``probes`` random perturbations of norm
    ``radius``. Bounded as the radius shrinks for a smooth loss; growing like 1/radius where the gradient jumps.
    Losses minimised over transport plans are smooth only between plan switches: probe with radii that keep the
    plan.

    loss : ``x -> (value, gradient)`` as :func:`w1_loss`.
    """
    g0 = loss(x)[1]
    worst = 0.0
    for _ in range(probes):
        delta = rng.normal(size=x.shape)
        delta *= radius / np.linalg.norm(delta)
        worst = max(worst, float(np.linalg.norm(loss(x + delta)[1] - g0) / radius))
    return worst


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


#: The three critics of :func:`train_gan`.
VARIANTS = ("plain", "gradient penalty", "smooth")


def critic(*, width: int = 64, activation: type[nn.Module] = nn.ReLU,
           generator: torch.Generator | None = None) -> nn.Sequential:
    """A 2 -> width -> width -> 1 critic (:func:`dltheory.nets.mlp`), drawn from ``generator`` on its device."""
    return nets.mlp([2, width, width, 1], activation=activation, generator=generator)


def generator_net(*, width: int = 64, generator: torch.Generator | None = None) -> nn.Sequential:
    """A 2 -> width -> width -> 2 ReLU generator of 2-D points from standard Gaussian noise."""
    return nets.mlp([2, width, width, 2], generator=generator)


def _gradient_penalty(f: nn.Module, real: torch.Tensor, fake: torch.Tensor, generator) -> torch.Tensor:
    eps = torch.rand(real.shape[0], 1, generator=generator, device=real.device)
    mid = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(f(mid).sum(), mid, create_graph=True)
    return ((g.norm(dim=1) - 1) ** 2).mean()


class GanRuns(NamedTuple):
    """Independent GAN runs trained side by side: per run, the generator network, the critic, and the generator's
    parameter-gradient norm at every step (``norms``, shape (S, steps))."""

    generators: list[nn.Sequential]
    critics: list[nn.Sequential]
    norms: np.ndarray


def _stack(modules: list[nn.Sequential]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The linear layers of S identical-shape MLPs as leaf tensors (S, out, in) and (S, out)."""
    layers = [[m for m in net if isinstance(m, nn.Linear)] for net in modules]
    return [(torch.stack([ls[k].weight.detach() for ls in layers]).requires_grad_(True),
             torch.stack([ls[k].bias.detach() for ls in layers]).requires_grad_(True)) for k in range(len(layers[0]))]


def _unstack(params: list[tuple[torch.Tensor, torch.Tensor]], modules: list[nn.Sequential]) -> None:
    """Copy stacked parameters back into the S modules they came from."""
    with torch.no_grad():
        for s, net in enumerate(modules):
            for (W, b), layer in zip(params, [m for m in net if isinstance(m, nn.Linear)], strict=True):
                layer.weight.copy_(W[s])
                layer.bias.copy_(b[s])


def _apply(params: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor, activation) -> torch.Tensor:
    """S MLPs on their own inputs: ``x`` (S, B, in) -> (S, B, out), ``activation`` between layers."""
    for k, (W, b) in enumerate(params):
        x = torch.baddbmm(b[:, None, :], x, W.transpose(1, 2))  # (S, B, out)
        if k < len(params) - 1:
            x = activation(x)
    return x


def train_gans(target: torch.Tensor, variant: str, generators: list[torch.Generator], *, steps: int = 1500,
               critic_steps: int = 3, batch: int = 256, lr: float = 1e-3) -> GanRuns:
    r"""Independent Wasserstein GANs on 2-D ``target`` samples (N, 2), one per torch generator in ``generators``,
    trained side by side (batched matrix products; every run draws its networks, noise, batches and penalty
    points from its own generator, so a run's result does not depend on which runs train beside it). Critics
    (:data:`VARIANTS`):

    ``"plain"``: ReLU critic, weights clipped to [-0.05, 0.05] (the original WGAN constraint);
    ``"gradient penalty"``: ReLU critic with the penalty :math:`(\|\nabla f\| - 1)^2`, weight 1;
    ``"smooth"``: softplus critic with the gradient penalty and a squared-norm penalty on its weights (1e-3),
    standing in for the RKHS-norm penalty of the smooth construction.

    Adam acts elementwise, so stacking the runs' parameters and summing their losses trains each run exactly as
    alone. Networks live on the generators' device (``target`` is moved there).
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    device = nets.device_of(generators[0])
    target = target.to(device)
    act = nn.functional.softplus if variant == "smooth" else torch.relu
    gen_nets = [generator_net(generator=g) for g in generators]
    critic_nets = [critic(activation=nn.Softplus if variant == "smooth" else nn.ReLU, generator=g)
                   for g in generators]
    G, F = _stack(gen_nets), _stack(critic_nets)
    opt_g = torch.optim.Adam([p for layer in G for p in layer], lr=lr, betas=(0.5, 0.9))
    opt_c = torch.optim.Adam([p for layer in F for p in layer], lr=lr, betas=(0.5, 0.9))
    norms = np.empty((len(generators), steps))

    def sample(k):  # real (S, k, 2) and generated (S, k, 2), each run from its own generator
        idx = torch.stack([torch.randint(0, target.shape[0], (k,), generator=g, device=device) for g in generators])
        z = torch.stack([torch.randn(k, 2, generator=g, device=device) for g in generators])
        return target[idx], _apply(G, z, torch.relu)

    for t in range(steps):
        for _ in range(critic_steps):
            real, fake = sample(batch)
            fake = fake.detach()
            loss = (_apply(F, fake, act).mean((1, 2)) - _apply(F, real, act).mean((1, 2))).sum()
            if variant != "plain":
                eps = torch.stack([torch.rand(batch, 1, generator=g, device=device) for g in generators])
                mid = (eps * real + (1 - eps) * fake).requires_grad_(True)  # (S, B, 2)
                (grad,) = torch.autograd.grad(_apply(F, mid, act).sum(), mid, create_graph=True)
                loss = loss + ((grad.norm(dim=-1) - 1) ** 2).mean(1).sum()
            if variant == "smooth":
                loss = loss + 1e-3 * sum((p**2).sum() for layer in F for p in layer)
            opt_c.zero_grad()
            loss.backward()
            opt_c.step()
            if variant == "plain":
                with torch.no_grad():
                    for layer in F:
                        for p in layer:
                            p.clamp_(-0.05, 0.05)
        _, fake = sample(batch)
        loss = -_apply(F, fake, act).mean((1, 2)).sum()
        opt_g.zero_grad()
        loss.backward()
        per_run = sum((p.grad**2).flatten(1).sum(1) for layer in G for p in layer)  # (S,)
        norms[:, t] = repro.to_numpy(per_run.sqrt())
        opt_g.step()
    _unstack(G, gen_nets)
    _unstack(F, critic_nets)
    return GanRuns(gen_nets, critic_nets, norms)


def train_gan(target: torch.Tensor, variant: str, *, steps: int = 1500, critic_steps: int = 3, batch: int = 256,
              lr: float = 1e-3, generator: torch.Generator | None = None
              ) -> tuple[nn.Sequential, nn.Sequential, np.ndarray]:
    """One run of :func:`train_gans`: the generator network, the critic and the generator's parameter-gradient
    norm at every step (steps,)."""
    g = generator if generator is not None else torch.default_generator  # None: torch's global generator
    runs = train_gans(target, variant, [g], steps=steps, critic_steps=critic_steps, batch=batch, lr=lr)
    return runs.generators[0], runs.critics[0], runs.norms[0]


class CriticConstants(NamedTuple):
    """Empirical constants of a critic near sample points: ``lipschitz`` = max gradient norm, ``smoothness`` =
    max :math:`\\|\\nabla f(a) - \\nabla f(b)\\| / \\|a - b\\|` over nearby pairs (a Hessian would read 0 between
    the kinks of a ReLU critic and miss them)."""

    lipschitz: float
    smoothness: float


def critic_constants(f: nn.Module, x: torch.Tensor, *, radius: float = 1e-2,
                     generator: torch.Generator | None = None) -> CriticConstants:
    """Largest gradient norm and largest gradient-difference quotient of the critic, over the points ``x``
    (N, 2) and partners at distance ``radius`` in random directions."""
    grad = torch.func.vmap(torch.func.grad(lambda p: f(p[None]).sum()))
    u = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    partner = x + radius * u / u.norm(dim=1, keepdim=True)
    ga, gb = grad(x), grad(partner)
    return CriticConstants(ga.norm(dim=1).max().item(), ((ga - gb).norm(dim=1) / radius).max().item())


def w2_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Exact W2 between two equal-weight samples (POT, squared Euclidean cost)."""
    return float(np.sqrt(ot.emd2(np.full(len(a), 1 / len(a)), np.full(len(b), 1 / len(b)), ot.dist(a, b))))
