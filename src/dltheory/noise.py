r"""Reading trained networks: noise robustness from a single pass.

A classifier :math:`f: \mathbb R^D \to \mathbb R^C` sees a test point :math:`x` of class :math:`y` corrupted by
:math:`\varepsilon \sim \mathcal N(0, \sigma^2 I)`. Linearising the logits,
:math:`f(x + \varepsilon) \approx f(x) + J\varepsilon`, each margin :math:`\mu_k = f_y - f_k` becomes Gaussian,
:math:`\mathcal N(\mu_k, \sigma^2 \lVert g_k \rVert^2)` with :math:`g_k = \nabla_x (f_y - f_k)`, and treating the
margins as independent gives

.. math:: P(\text{correct}) \approx \prod_{k \ne y} \Phi\big(\mu_k / (\sigma \lVert g_k \rVert)\big).

One forward pass and one Jacobian per test point then give the error rate at every noise level at once.
The margins share :math:`\nabla_x f_y` and are correlated, with covariance :math:`\sigma^2 G G^\top` (rows
:math:`g_k`); :func:`predicted_error_rate_joint` keeps that correlation and integrates the Gaussian numerically
in the :math:`(C-1)`-dimensional margin space, still with no further pass through the network.

Under the linear model the margins share :math:`-\nabla f_y` and are positively correlated, so by Slepian's
inequality the product is a lower bound on the probability of staying correct: the product formula overstates
the error rate, and the joint version removes that bias.

A rival that needs no Jacobian, :func:`predicted_error_rate_moments`, propagates the mean and the variance of
every unit through the layers as if the units of a layer were independent Gaussians (diagonal moment matching,
as in assumed-density filtering), and treats the logits as independent Gaussians at the end. It is exact for one
hidden unit and for a linear model with orthogonal rows, and wrong in general: it drops the correlations that the
shared noise induces between units.

References: yasuda2019noise, han2024characterizing.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

__all__ = ["Margins", "margins", "predicted_error_rate", "predicted_error_rate_joint", "monte_carlo_error_rate",
           "copies_for_error", "misordered_pairs", "Staircase", "staircase", "relu_moments", "diagonal_moments",
           "error_rate_independent_logits", "predicted_error_rate_moments", "clean_error_rate"]


class Margins(NamedTuple):
    """Margins ``value`` (N, C-1) of the true class over every other class, and their input gradients
    ``grad`` (N, C-1, D)."""

    value: torch.Tensor
    grad: torch.Tensor

    @property
    def grad_norm(self) -> torch.Tensor:
        """Norms of the margin gradients, shape (N, C-1)."""
        return self.grad.norm(dim=-1)


def margins(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Margins:
    """Margins :math:`f_y(x) - f_k(x)` and :math:`\\lVert \\nabla_x (f_y - f_k) \\rVert` for ``x`` (N, D), ``y`` (N,).

    Uses ``torch.func``: one forward pass and one Jacobian (a vectorised backward pass per class) per point.
    """
    from torch.func import jacrev, vmap

    def one(xi):
        out = model(xi[None])[0]
        return out, out

    jac, logits = vmap(jacrev(one, has_aux=True))(x)  # (N, C, D), (N, C)
    n, c = logits.shape
    rows = torch.arange(n, device=x.device)
    other = torch.ones(n, c, dtype=torch.bool, device=x.device)
    other[rows, y] = False
    value = (logits[rows, y][:, None] - logits)[other].reshape(n, c - 1)
    grad = (jac[rows, y][:, None, :] - jac)[other].reshape(n, c - 1, -1)  # (N, C-1, D)
    return Margins(value.detach(), grad.detach())


def predicted_error_rate(m: Margins, sigmas: torch.Tensor) -> torch.Tensor:
    """The single-pass estimate of the misclassification rate at each noise level.

    m : :class:`Margins` of N test points; sigmas : shape (S,), > 0. Returns shape (S,).
    """
    normal = torch.distributions.Normal(0.0, 1.0)
    z = m.value[None] / (sigmas[:, None, None] * m.grad_norm[None].clamp_min(1e-30))  # (S, N, C-1)
    log_correct = torch.log(normal.cdf(z).clamp_min(1e-300)).sum(-1)  # (S, N)
    return 1 - torch.exp(log_correct).mean(-1)


def predicted_error_rate_joint(m: Margins, sigmas: torch.Tensor, *, n_draws: int = 1000,
                               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The first-order estimate without the independence approximation.

    Under linearised logits the margins of a point are jointly Gaussian,
    :math:`\mathcal N(\mu, \sigma^2 G G^\top)`; the probability that all stay positive is integrated with
    ``n_draws`` standard normal draws :math:`w` in margin space, :math:`P = \Pr(L w > -\mu / \sigma)` with
    :math:`L L^\top = G G^\top`. The same draws serve every point and noise level (no network evaluation).

    m : :class:`Margins` of N test points; sigmas : shape (S,), > 0. Returns the rates (S,) and their standard
    errors from the finite number of draws (S,), computed as in :func:`monte_carlo_error_rate`.
    """
    g = m.grad.double()  # (N, K, D)
    cov = g @ g.transpose(1, 2)  # (N, K, K)
    k = cov.shape[-1]
    scale = cov.diagonal(dim1=1, dim2=2).mean(-1).clamp_min(1e-30)  # a flat network has zero covariance
    jitter = 1e-12 * scale[:, None, None] * torch.eye(k, dtype=cov.dtype, device=cov.device)
    chol = torch.linalg.cholesky(cov + jitter)  # (N, K, K)
    w = torch.randn(n_draws, k, generator=generator, dtype=cov.dtype, device=cov.device)  # (M, K)
    lw = torch.einsum("nkj,mj->nmk", chol, w)  # (N, M, K)
    mu = m.value.double()[:, None, :]  # (N, 1, K)
    rates, errors = [], []
    for s in sigmas.tolist():
        wrong = 1 - (lw > -mu / s).all(-1).double().mean(-1)  # (N,)
        rates.append(wrong.mean())
        errors.append((wrong * (1 - wrong)).sum().div(n_draws).sqrt() / wrong.numel())
    return torch.stack(rates).to(m.value.dtype), torch.stack(errors).to(m.value.dtype)


@torch.no_grad()
def monte_carlo_error_rate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, sigmas: torch.Tensor, *,
                           n_samples: int, generator: torch.Generator | None = None,
                           batch: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The reference: misclassification rate under noise by ``n_samples`` noisy copies of each test point.

    x : shape (N, D); y : shape (N,); sigmas : shape (S,). Returns the rates (S,) and their Monte Carlo standard
    errors (S,), :math:`\sqrt{\sum_i p_i (1 - p_i) / n}\,/\,N` for per-point rates :math:`p_i`.
    """
    rates, errors = [], []
    for s in sigmas.tolist():
        wrong = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
        for start in range(0, n_samples, batch):
            k = min(batch, n_samples - start)
            noise = torch.randn((k, *x.shape), generator=generator, dtype=x.dtype, device=x.device)
            pred = model((x[None] + s * noise).reshape(-1, x.shape[1])).argmax(-1).reshape(k, -1)  # (k, N)
            wrong += (pred != y[None]).double().sum(0)
        per_point = wrong / n_samples
        rates.append(per_point.mean())
        errors.append((per_point * (1 - per_point)).sum().div(n_samples).sqrt() / per_point.numel())
    return torch.stack(rates), torch.stack(errors)


def copies_for_error(se: torch.Tensor, n_samples: int, error: torch.Tensor) -> torch.Tensor:
    """Noisy copies per test point that a Monte Carlo test needs for its standard error to equal ``error``.

    se : the standard errors (S,) of a Monte Carlo run with ``n_samples`` copies (they fall as 1/sqrt(copies));
    error : the absolute errors (S,) to match. Returns at least one copy per level, shape (S,).
    """
    return torch.ceil(n_samples * (se / error.clamp_min(1e-12)) ** 2).clamp_min(1)


def misordered_pairs(estimate: torch.Tensor, reference: torch.Tensor, se: torch.Tensor, *, z: float = 2.0) -> int:
    """How many pairs of networks the ``estimate`` (M,) orders against a ``reference`` (M,) that resolves them:
    pairs whose reference rates differ by more than ``z`` combined standard errors ``se`` (M,)."""
    i, j = torch.triu_indices(len(reference), len(reference), 1)
    resolved = (reference[i] - reference[j]).abs() > z * (se[i] ** 2 + se[j] ** 2).sqrt()
    wrong = torch.sign(estimate[i] - estimate[j]) != torch.sign(reference[i] - reference[j])
    return int((resolved & wrong).sum())


class Staircase(nn.Module):
    """Rounds its input to multiples of ``step``: a piecewise-constant function, flat almost everywhere, whose
    first-order expansion sees no change at all while finite noise moves it across steps."""

    def __init__(self, step: float):
        super().__init__()
        self.step = step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.round(x / self.step) * self.step


def staircase(model: nn.Sequential, step: float) -> nn.Sequential:
    """``model`` with a :class:`Staircase` after every ReLU: nearly the same classifier, but its margins are
    constant between steps, so their gradients vanish and a first-order estimate cannot see the noise."""
    layers: list[nn.Module] = []
    for layer in model:
        layers.append(layer)
        if isinstance(layer, nn.ReLU):
            layers.append(Staircase(step))
    return nn.Sequential(*layers)


def relu_moments(mean: torch.Tensor, var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Mean and variance of :math:`\mathrm{relu}(z)` for :math:`z \sim \mathcal N(\text{mean}, \text{var})`,
    elementwise (any shape): :math:`E = m\Phi(m/s) + s\varphi(m/s)`,
    :math:`E_2 = (m^2 + s^2)\Phi(m/s) + m s\varphi(m/s)`, variance :math:`E_2 - E^2`."""
    s = var.clamp_min(0).sqrt().clamp_min(1e-30)
    a = mean / s
    cdf = 0.5 * torch.erfc(-a / 2**0.5)
    pdf = torch.exp(-0.5 * a**2) / (2 * torch.pi) ** 0.5
    first = mean * cdf + s * pdf
    second = (mean**2 + var) * cdf + mean * s * pdf
    return first, (second - first**2).clamp_min(0)


def diagonal_moments(model: nn.Sequential, x: torch.Tensor, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Means and variances (N, C) of the logits of ``model`` (``nn.Linear`` and ``nn.ReLU`` layers only) at inputs
    ``x + eps``, ``x`` of shape (N, D), :math:`\varepsilon \sim \mathcal N(0, \sigma^2 I)`, propagated with
    every unit of a layer treated as an independent Gaussian (covariances dropped)."""
    mean = x
    var = torch.full_like(x, float(sigma) ** 2)
    for layer in model:
        if isinstance(layer, nn.Linear):
            mean, var = layer(mean), var @ (layer.weight**2).T  # (N, out)
        elif isinstance(layer, nn.ReLU):
            mean, var = relu_moments(mean, var)
        else:
            raise TypeError(f"diagonal_moments handles nn.Linear and nn.ReLU layers, not {type(layer).__name__}")
    return mean, var


def error_rate_independent_logits(mean: torch.Tensor, var: torch.Tensor, y: torch.Tensor, *,
                                  n_nodes: int = 64) -> torch.Tensor:
    r"""Misclassification rate when the logits of each point are independent Gaussians ``mean``, ``var`` (N, C)
    and ``y`` (N,) the labels: :math:`1 - \frac1N\sum_n \int \varphi(z) \prod_{k \ne y}
    \Phi\big((m_y + s_y z - m_k)/s_k\big)\,dz`, by Gauss–Hermite quadrature with ``n_nodes`` nodes."""
    import numpy as np

    nodes, weights = np.polynomial.hermite_e.hermegauss(n_nodes)
    z = torch.as_tensor(nodes, dtype=mean.dtype, device=mean.device)  # (Q,)
    w = torch.as_tensor(weights / np.sqrt(2 * np.pi), dtype=mean.dtype, device=mean.device)
    rows = torch.arange(len(y), device=mean.device)
    sd = var.clamp_min(0).sqrt().clamp_min(1e-30)  # (N, C)
    top = mean[rows, y][:, None] + sd[rows, y][:, None] * z[None]  # (N, Q): the true class's logit
    cdf = 0.5 * torch.erfc(-(top[:, :, None] - mean[:, None, :]) / sd[:, None, :] / 2**0.5)  # (N, Q, C)
    cdf[rows, :, y] = 1.0  # the true class does not compete with itself
    correct = (cdf.prod(-1) * w[None]).sum(-1)  # (N,)
    return 1 - correct.mean()


@torch.no_grad()
def predicted_error_rate_moments(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor,
                                 sigmas: torch.Tensor) -> torch.Tensor:
    """The diagonal-moment estimate of the misclassification rate at each noise level: :func:`diagonal_moments`
    then :func:`error_rate_independent_logits`. x : shape (N, D); y : shape (N,); sigmas : shape (S,). Returns
    shape (S,)."""
    return torch.stack([error_rate_independent_logits(*diagonal_moments(model, x, s), y) for s in sigmas.tolist()])


def clean_error_rate(m: Margins) -> torch.Tensor:
    """The misclassification rate without noise, from the margins: the share of points with a margin <= 0 (a
    scalar tensor)."""
    return (m.value <= 0).any(-1).to(m.value.dtype).mean()
