r"""Nonparametric regression of piecewise-smooth functions: fixed-basis estimators, a ReLU network, rates.

Fixed-basis (linear) estimators, Fourier series, cubic B-splines and Gaussian kernel ridge regression, are linear
in the targets; on a function with a jump their mean squared error cannot fall faster than about
:math:`n^{-1/2}`, while deep ReLU networks adapt to where the jump is and reach about :math:`n^{-1}` up to logs.

The fixed-basis estimators share one signature, ``fit(x, y, setting) -> predict`` on inputs in [0, 1]; the ReLU
networks are fitted to many data sets at once (:func:`relu_fit`).

References: imaizumi2019deep, imaizumi2020advantage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from scipy.interpolate import make_lsq_spline

from dltheory.data import regression
from dltheory.nets import device_of

__all__ = ["fourier_fit", "spline_fit", "kernel_ridge_fit", "ReluEnsemble", "relu_fit", "oracle_tuned", "slopes",
           "Rate", "fit_rate", "BASELINES", "Benchmark", "benchmark"]

Predictor = Callable[[np.ndarray], np.ndarray]


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


class ReluEnsemble(NamedTuple):
    """``S`` independent ReLU networks on 1-D inputs, trained as one batch: ``weights[l]`` (S, fan_in, fan_out),
    ``biases[l]`` (S, 1, fan_out)."""

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        """Outputs (S, N) at inputs ``t`` (S, N) or (N,)."""
        h = t.expand(len(self.weights[0]), -1)[..., None] if t.ndim == 1 else t[..., None]  # (S, N, 1)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)
            if i < len(self.weights) - 1:
                h = torch.relu(h)
        return h[..., 0]

    def predict(self, t: np.ndarray) -> np.ndarray:
        """Predictions (S, N) on a common grid ``t`` (N,)."""
        with torch.no_grad():
            return self(torch.as_tensor(t, dtype=torch.float32, device=self.weights[0].device)).cpu().numpy()


def relu_fit(x: np.ndarray, y: np.ndarray, *, width: int = 32, depth: int = 3, steps: int = 6000, lr: float = 5e-3,
             generator: torch.Generator | None = None) -> ReluEnsemble:
    """ReLU MLPs (``depth`` hidden layers of ``width``), one per data set, trained by full-batch Adam with cosine
    learning-rate decay on the squared error; float32, on ``generator``'s device.

    x, y : shape (S, n): S data sets of n points on [0, 1]. The networks are trained as one batch; Adam acts
    elementwise and the loss is a sum of per-network losses, so this is exactly training each alone. Weights are
    He-initialised; the first layer's biases are uniform on [-1, 1] so that the units' kinks start spread over
    the inputs (with zero biases every kink would start at x = 0).
    """
    device = device_of(generator)
    S = x.shape[0]
    sizes = [1, *([width] * depth), 1]
    weights, biases = [], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        w = torch.randn(S, a, b, generator=generator, device=device) * (2 / a) ** 0.5
        bias = (2 * torch.rand(S, 1, b, generator=generator, device=device) - 1) if i == 0 else torch.zeros(
            S, 1, b, device=device)
        weights.append(w.requires_grad_())
        biases.append(bias.requires_grad_())
    net = ReluEnsemble(weights, biases)
    xt, yt = (torch.as_tensor(v, dtype=torch.float32, device=device) for v in (x, y))
    opt = torch.optim.Adam([*weights, *biases], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        loss = ((net(xt) - yt) ** 2).mean(1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return net


def oracle_tuned(fit: Callable, x: np.ndarray, y: np.ndarray, settings: list, grid: np.ndarray,
                 truth: np.ndarray) -> tuple[float, object]:
    """The smallest true mean squared error (against ``truth`` on the ``grid``) over ``settings``, and the setting.

    Tuning on the true error is the most favourable choice a fixed-basis estimator can get. A setting the data
    cannot support (say, more spline knots than the points allow) counts as an infinite error."""
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


def slopes(n: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """The least-squares slope of log(error) on log(n) of each seed: ``errors`` (S, K) at sizes ``n`` (K,) -> (S,)."""
    logn = np.log(n) - np.log(n).mean()
    return (np.log(errors) - np.log(errors).mean(1, keepdims=True)) @ logn / (logn @ logn)


def fit_rate(n: np.ndarray, errors: np.ndarray) -> Rate:
    """Least-squares slope of log(error) on log(n).

    n : shape (K,); errors : shape (S, K), one row per seed (every seed contributes a point at every n).
    """
    from scipy import stats

    logn = np.tile(np.log(n), errors.shape[0])
    res = stats.linregress(logn, np.log(errors).ravel())
    t = stats.t.ppf(0.975, len(logn) - 2)
    return Rate(res.slope, res.stderr, res.slope - t * res.stderr, res.slope + t * res.stderr)


#: The fixed-basis estimators and the settings each is tuned over: Fourier terms, uniform spline knots, and
#: (bandwidth, ridge) pairs of the Gaussian kernel.
BASELINES: dict[str, tuple[Callable, list]] = {
    "Fourier": (fourier_fit, list(range(3, 202, 4))),
    "cubic spline": (spline_fit, list(range(2, 151, 2))),
    "kernel ridge": (kernel_ridge_fit, [(w, r) for w in np.geomspace(0.003, 0.05, 5) for r in (1e-6, 1e-3)]),
}


class Benchmark(NamedTuple):
    """Squared errors ``errors[name]`` (S, K) of each estimator per data set and size, and, at the largest size of
    the first data set, the data ``example_data`` (x, y) and each estimator's fit ``example_fits[name]`` on the
    grid."""

    errors: dict[str, np.ndarray]
    example_data: tuple[np.ndarray, np.ndarray]
    example_fits: dict[str, np.ndarray]


def benchmark(targets: list[Callable[[np.ndarray], np.ndarray]], sizes: list[int], *, noise: float,
              grid: np.ndarray, rng: np.random.Generator, generator: torch.Generator,
              baselines: dict[str, tuple[Callable, list]] = BASELINES, **relu) -> Benchmark:
    """Every estimator of ``baselines`` (oracle-tuned, :func:`oracle_tuned`) and a ReLU network (:func:`relu_fit`
    with settings ``relu``) on S data sets of each size in ``sizes``, data set s drawn from ``targets[s]`` by
    :func:`dltheory.data.regression`; errors are mean squared errors against that target on ``grid``.

    The S networks of a size train as one batch (:func:`relu_fit`), so that a control target can ride along at
    little extra cost: the networks do not interact, each one's training is blind to the other data sets.
    """
    truths = np.stack([t(grid) for t in targets])  # (S, G)
    S = len(targets)
    errors = {name: np.zeros((S, len(sizes))) for name in [*baselines, "ReLU network"]}
    fits: dict[str, np.ndarray] = {}
    for k, n in enumerate(sizes):
        x, y = (np.stack(v) for v in zip(*(regression(t, n, noise, rng) for t in targets), strict=True))
        for name, (fit, settings) in baselines.items():
            for s in range(S):
                errors[name][s, k], best = oracle_tuned(fit, x[s], y[s], settings, grid, truths[s])
                if s == 0 and k == len(sizes) - 1:
                    fits[name] = fit(x[s], y[s], best)(grid)
        predicted = relu_fit(x, y, generator=generator, **relu).predict(grid)  # (S, G)
        errors["ReLU network"][:, k] = ((predicted - truths) ** 2).mean(1)
        if k == len(sizes) - 1:
            fits["ReLU network"], example = predicted[0], (x[0], y[0])
    return Benchmark(errors, example, fits)
