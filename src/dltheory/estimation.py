r"""Nonparametric regression of piecewise-smooth functions: fixed-basis estimators, a ReLU network, rates.

Fixed-basis (linear) estimators, Fourier series, cubic B-splines and Gaussian kernel ridge regression, are linear
in the targets; on a function with a jump their mean squared error cannot fall faster than about
:math:`n^{-1/2}`, while deep ReLU networks adapt to where the jump is and reach about :math:`n^{-1}` up to logs.

All estimators share one signature: ``fit(x, y, setting) -> predict`` on inputs in [0, 1].

References: imaizumi2019deep, imaizumi2020advantage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from scipy.interpolate import make_lsq_spline

__all__ = ["jump_target", "sample", "fourier_fit", "spline_fit", "kernel_ridge_fit", "relu_fit", "oracle_tuned",
           "Rate", "fit_rate"]

Predictor = Callable[[np.ndarray], np.ndarray]


def jump_target(x: np.ndarray) -> np.ndarray:
    """A smooth function with one unit jump at 0.4: :math:`\\sin(2\\pi x) + x^2 + \\mathbf 1[x > 0.4]`."""
    return np.sin(2 * np.pi * x) + x**2 + (x > 0.4)


def sample(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` inputs uniform on [0, 1] and noisy targets, shapes (n,), (n,)."""
    x = rng.uniform(0, 1, n)
    return x, jump_target(x) + noise * rng.normal(size=n)


def fourier_fit(x: np.ndarray, y: np.ndarray, n_terms: int) -> Predictor:
    """Least squares on the first ``n_terms`` functions of the basis 1, cos(2πkx), sin(2πkx)."""
    def features(t):
        k = np.arange(1, (n_terms - 1) // 2 + 1)
        cols = [np.ones_like(t), *np.cos(2 * np.pi * np.outer(k, t)), *np.sin(2 * np.pi * np.outer(k, t))]
        return np.stack(cols[:n_terms], 1)

    coef = np.linalg.lstsq(features(x), y, rcond=None)[0]
    return lambda t: features(t) @ coef


def spline_fit(x: np.ndarray, y: np.ndarray, n_knots: int) -> Predictor:
    """Least-squares cubic B-spline with ``n_knots`` uniform interior knots."""
    order = np.argsort(x)
    inner = np.linspace(0, 1, n_knots + 2)[1:-1]
    knots = np.r_[[0.0] * 4, inner, [1.0] * 4]
    spline = make_lsq_spline(x[order], y[order], knots, k=3)
    return spline


def kernel_ridge_fit(x: np.ndarray, y: np.ndarray, setting: tuple[float, float]) -> Predictor:
    """Gaussian kernel ridge regression with (bandwidth, ridge) = ``setting``, ridge scaled by n."""
    from scipy.linalg import cho_factor, cho_solve

    width, ridge = setting
    gram = np.exp(-((x[:, None] - x[None]) ** 2) / (2 * width**2))
    gram[np.diag_indices_from(gram)] += ridge * len(x)
    alpha = cho_solve(cho_factor(gram), y)  # symmetric positive definite: Cholesky
    return lambda t: np.exp(-((t[:, None] - x[None]) ** 2) / (2 * width**2)) @ alpha


def relu_fit(x: np.ndarray, y: np.ndarray, *, width: int = 32, depth: int = 3, steps: int = 6000,
             lr: float = 5e-3, generator: torch.Generator | None = None, device=None) -> Predictor:
    """A ReLU MLP (``depth`` hidden layers of ``width``) trained by full-batch Adam with cosine learning-rate
    decay on the squared error; float32, device-agnostic."""
    sizes = [1, *([width] * depth), 1]
    layers: list[torch.nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        lin = torch.nn.Linear(a, b, device=device)
        with torch.no_grad():
            lin.weight.normal_(0, (2 / a) ** 0.5, generator=generator)
            lin.bias.uniform_(-1, 1, generator=generator) if i == 0 else lin.bias.zero_()
        layers += [lin, torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    xt = torch.as_tensor(x, dtype=torch.float32, device=device)[:, None]
    yt = torch.as_tensor(y, dtype=torch.float32, device=device)[:, None]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        loss = ((net(xt) - yt) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()

    @torch.no_grad()
    def predict(t: np.ndarray) -> np.ndarray:
        return net(torch.as_tensor(t, dtype=torch.float32, device=device)[:, None])[:, 0].cpu().numpy()

    return predict


def oracle_tuned(fit: Callable, x: np.ndarray, y: np.ndarray, settings: list, grid: np.ndarray) -> tuple[float, object]:
    """The smallest true mean squared error (on the noiseless ``grid``) over ``settings``, and the setting.

    Tuning on the true error is the most favourable choice a fixed-basis estimator can get. A setting the data
    cannot support (say, more spline knots than the points allow) counts as an infinite error."""
    truth = jump_target(grid)
    errors = []
    for s in settings:
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging fit is scored as infinite below
                e = float(np.mean((fit(x, y, s)(grid) - truth) ** 2))
        except (ValueError, np.linalg.LinAlgError):  # scipy's LinAlgError is numpy's
            e = np.inf
        errors.append(e if np.isfinite(e) else np.inf)
    best = int(np.argmin(errors))
    return float(errors[best]), settings[best]


class Rate(NamedTuple):
    """Fitted log-log slope of error against n, its standard error, and a 95% interval ``(low, high)``."""

    slope: float
    stderr: float
    low: float
    high: float


def fit_rate(n: np.ndarray, errors: np.ndarray) -> Rate:
    """Least-squares slope of log(error) on log(n).

    n : shape (K,); errors : shape (S, K), one row per seed (every seed contributes a point at every n).
    """
    from scipy import stats

    logn = np.tile(np.log(n), errors.shape[0])
    res = stats.linregress(logn, np.log(errors).ravel())
    t = stats.t.ppf(0.975, len(logn) - 2)
    return Rate(res.slope, res.stderr, res.slope - t * res.stderr, res.slope + t * res.stderr)
