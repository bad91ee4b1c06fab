r"""Nonparametric regression of piecewise-smooth functions: fixed-basis estimators, a ReLU network, rates.

Fixed-basis (linear) estimators, Fourier series, cubic B-splines and Gaussian kernel ridge regression, are linear
in the targets; on a function with a jump their mean squared error cannot fall faster than about
:math:`n^{-1/2}`, while deep ReLU networks adapt to where the jump is and reach about :math:`n^{-1}` up to logs.

The fixed-basis estimators share one signature, ``fit(x, y, setting) -> predict`` on inputs in [0, 1]; the ReLU
networks take centred inputs and are fitted to many data sets at once (:func:`relu_fit`).

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

__all__ = ["fourier_fit", "spline_fit", "kernel_ridge_fit", "fourier_path", "kernel_ridge_path", "fit_path",
           "ReluEnsemble", "relu_init", "relu_fit", "oracle_tuned", "oracle_path", "slopes", "Rate", "fit_rate",
           "BASELINES", "at_edge", "Benchmark", "benchmark"]

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


def fourier_path(x: np.ndarray, y: np.ndarray, settings: list[int], grid: np.ndarray) -> np.ndarray:
    """Least-squares Fourier fits with every number of terms in ``settings`` at once, on ``grid``: shape (P, G).

    The terms are 1, cos 2πx, sin 2πx, cos 4πx, ... in that order; with an odd number of terms this is the
    fit of :func:`fourier_fit`. One QR factorisation of the largest design serves every prefix of its columns
    (the QR of a prefix is the prefix of the QR). A fit with more terms than points is unsupported: +inf.
    """
    from scipy.linalg import solve_triangular

    m_max = max(settings)

    def features(t):  # (N, m_max): 1, then cos and sin of each frequency in turn
        k = np.arange(1, m_max // 2 + 1)
        trig = np.stack([np.cos(2 * np.pi * np.outer(t, k)), np.sin(2 * np.pi * np.outer(t, k))], 2)
        return np.c_[np.ones_like(t), trig.reshape(len(t), -1)][:, :m_max]

    q, r = np.linalg.qr(features(x))  # (n, m), (m, m) with m = min(n, m_max)
    qy, fg = q.T @ y, features(grid)
    out = np.full((len(settings), len(grid)), np.inf)
    for i, m in enumerate(settings):
        if m <= len(x):
            out[i] = fg[:, :m] @ solve_triangular(r[:m, :m], qy[:m])
    return out


def kernel_ridge_path(x: np.ndarray, y: np.ndarray, settings: list[tuple[float, float]], grid: np.ndarray,
                      *, cutoff: float = 9.0) -> np.ndarray:
    """Gaussian kernel ridge fits (:func:`kernel_ridge_fit`) for every (bandwidth, ridge) in ``settings``, on
    ``grid``: shape (P, G).

    With the inputs sorted, kernel entries beyond ``cutoff`` bandwidths (below exp(-cutoff**2 / 2), 2.6e-18 at
    the default) are dropped and the banded system is solved by banded Cholesky (cost n b**2 for b points per
    window instead of n**3 / 3); a wide band falls back to the dense Cholesky. A fit whose system is not
    positive definite is +inf.
    """
    from scipy.linalg import LinAlgError, cho_factor, cho_solve, solveh_banded

    order = np.argsort(x)
    xs, ys, n = x[order], y[order], len(x)
    out = np.full((len(settings), len(grid)), np.inf)
    for width in sorted({w for w, _ in settings}):
        band = int(np.max(np.searchsorted(xs, xs + cutoff * width, side="right") - np.arange(n) - 1))
        cross = np.exp(-((grid[:, None] - xs[None]) ** 2) / (2 * width**2))  # (G, n)
        if band < n // 2:  # upper banded storage: row band - d holds the d-th superdiagonal
            ab = np.zeros((band + 1, n))
            for d in range(band + 1):
                ab[band - d, d:] = np.exp(-((xs[d:] - xs[:n - d]) ** 2) / (2 * width**2))
        else:
            gram = np.exp(-((xs[:, None] - xs[None]) ** 2) / (2 * width**2))
        for i, (w, ridge) in enumerate(settings):
            if w != width:
                continue
            try:
                if band < n // 2:
                    shifted = ab.copy()
                    shifted[band] += ridge * n
                    alpha = solveh_banded(shifted, ys)
                else:
                    alpha = cho_solve(cho_factor(gram + ridge * n * np.eye(n)), ys)
            except LinAlgError:
                continue
            out[i] = cross @ alpha
    return out


def fit_path(fit: Callable) -> Callable:
    """A path function ``(x, y, settings, grid) -> (P, G)`` from a fit function ``fit(x, y, setting) -> predict``,
    setting by setting; a setting the data cannot support is +inf."""
    def path(x, y, settings, grid):
        out = np.full((len(settings), len(grid)), np.inf)
        for i, s in enumerate(settings):
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    out[i] = fit(x, y, s)(grid)
            except (ValueError, np.linalg.LinAlgError):
                pass
        return out
    return path


class ReluEnsemble(NamedTuple):
    """``S`` independent ReLU networks of one input on [0, 1], trained as one batch. The input is centred,
    :math:`t = 2x - 1`, before the first layer; the output is rescaled, :math:`\\hat f = \\bar y + s_y\\,g(t)`.
    ``weights[l]`` (S, fan_in, fan_out), ``biases[l]`` (S, 1, fan_out), ``offset`` and ``scale`` (S, 1), and
    ``losses`` (S, R): the training mean squared error (original units) every ``log_every`` steps and at the end."""

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    offset: torch.Tensor
    scale: torch.Tensor
    losses: np.ndarray

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (S, N) at inputs ``x`` (S, N) or (N,) on [0, 1]."""
        t = 2 * x - 1  # centred inputs on [-1, 1]
        h = t.expand(len(self.weights[0]), -1)[..., None] if t.ndim == 1 else t[..., None]  # (S, N, 1)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)
            if i < len(self.weights) - 1:
                h = torch.relu(h)
        return self.offset + self.scale * h[..., 0]

    def predict(self, t: np.ndarray) -> np.ndarray:
        """Predictions (S, N) on a common grid ``t`` (N,)."""
        with torch.no_grad():
            return self(torch.as_tensor(t, dtype=torch.float32, device=self.offset.device)).cpu().numpy()


def relu_init(generators: list[torch.Generator], *, width: int = 32, depth: int = 3
              ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Initial weights (S, fan_in, fan_out) and biases (S, 1, fan_out) of S networks, network s drawn from
    ``generators[s]`` alone (so a network does not depend on which others share its batch). Weights are
    He-initialised; the first layer's biases are uniform on [-1, 1], so that the units' kinks start spread over
    the centred inputs; the other biases start at zero."""
    sizes = [1, *([width] * depth), 1]
    weights, biases = [], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        ws, bs = [], []
        for g in generators:
            dev = device_of(g)
            ws.append(torch.randn(a, b, generator=g, device=dev) * (2 / a) ** 0.5)
            bs.append(2 * torch.rand(1, b, generator=g, device=dev) - 1 if i == 0 else torch.zeros(1, b, device=dev))
        weights.append(torch.stack(ws))
        biases.append(torch.stack(bs))
    return weights, biases


def relu_fit(x: np.ndarray, y: np.ndarray, generators: list[torch.Generator], *, width: int = 32, depth: int = 3,
             steps: int = 1500, lr: float = 2e-2, log_every: int = 50) -> ReluEnsemble:
    """ReLU MLPs (``depth`` hidden layers of ``width``), one per data set, trained by full-batch Adam with cosine
    learning-rate decay to zero on the squared error of standardised targets; float32, on the generators' device.

    x, y : shape (S, n): S data sets of n points, x on [0, 1]; ``generators`` : S generators, network s
    initialised from ``generators[s]`` (:func:`relu_init`). The networks train as one batch; Adam acts
    elementwise and the loss is a sum of per-network losses, so this is training each alone.
    """
    device = device_of(generators[0])
    weights, biases = relu_init(generators, width=width, depth=depth)
    params = [p.requires_grad_() for p in (*weights, *biases)]
    xt, yt = (torch.as_tensor(v, dtype=torch.float32, device=device) for v in (x, y))
    offset, scale = yt.mean(1, keepdim=True), yt.std(1, keepdim=True)  # (S, 1)
    net = ReluEnsemble(weights, biases, offset, scale, np.empty(0))
    z = (yt - offset) / scale  # standardised targets (S, n)
    unit = ReluEnsemble(weights, biases, torch.zeros_like(offset), torch.ones_like(scale), np.empty(0))
    opt = torch.optim.Adam(params, lr=lr, fused=device.type in ("cpu", "cuda"))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    losses = []
    for step in range(steps + 1):
        per_net = ((unit(xt) - z) ** 2).mean(1)  # (S,)
        if step % log_every == 0 or step == steps:
            losses.append(per_net.detach() * scale[:, 0] ** 2)
        if step == steps:
            break
        opt.zero_grad()
        per_net.sum().backward()
        opt.step()
        sched.step()
    return net._replace(losses=torch.stack(losses, 1).cpu().numpy())


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


def oracle_path(path: Callable, x: np.ndarray, y: np.ndarray, settings: list, grid: np.ndarray,
                truth: np.ndarray) -> tuple[float, object, np.ndarray]:
    """:func:`oracle_tuned` over a path function ``path(x, y, settings, grid) -> (P, G)``: the smallest true
    mean squared error, its setting, and that setting's fit on the grid (G,)."""
    with np.errstate(over="ignore", invalid="ignore"):
        fits = path(x, y, settings, grid)
        errors = np.mean((fits - truth) ** 2, axis=1)
    errors[~np.isfinite(errors)] = np.inf
    best = int(np.argmin(errors))
    return float(errors[best]), settings[best], fits[best]


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


#: The fixed-basis estimators as path functions (:func:`oracle_path`) and the settings each is tuned over:
#: Fourier terms, uniform spline knots, and (bandwidth, ridge) pairs of the Gaussian kernel.
BASELINES: dict[str, tuple[Callable, list]] = {
    "Fourier": (fourier_path, list(range(3, 202, 4))),
    "cubic spline": (fit_path(spline_fit), list(range(2, 151, 2))),
    "kernel ridge": (kernel_ridge_path,
                     [(float(w), r) for w in np.geomspace(0.002, 0.1, 8) for r in (1e-6, 1e-3)]),
}


def at_edge(settings: list, best) -> bool:
    """Whether the tuned ``best`` setting sits at an end of its grid ``settings`` in the primary knob (the number
    of terms or knots, or the kernel's bandwidth, the first entry of a tuple): then the grid may have cut the
    tuning short."""
    knobs = [v[0] if isinstance(v, tuple) else v for v in settings]
    knob = best[0] if isinstance(best, tuple) else best
    return bool(knob == min(knobs) or knob == max(knobs))


class Benchmark(NamedTuple):
    """Squared errors ``errors[name]`` (S, K) of each estimator per data set and size; ``edge[name]`` (S, K),
    whether an oracle-tuned setting sat at an end of its grid (:func:`at_edge`); the networks' training losses
    ``losses`` (S, K, R) (:class:`ReluEnsemble`); and, at the largest size of the first data set, the data
    ``example_data`` (x, y) and each estimator's fit ``example_fits[name]`` on the grid."""

    errors: dict[str, np.ndarray]
    edge: dict[str, np.ndarray]
    losses: np.ndarray
    example_data: tuple[np.ndarray, np.ndarray]
    example_fits: dict[str, np.ndarray]


def benchmark(target: Callable[[np.ndarray], np.ndarray], sizes: list[int], *, noise: float, grid: np.ndarray,
              rngs: list[np.random.Generator], generators: list[list[torch.Generator]],
              baselines: dict[str, tuple[Callable, list]] = BASELINES, chunk_points: int = 2048,
              **relu) -> Benchmark:
    """Every estimator of ``baselines`` (path functions, oracle-tuned by :func:`oracle_path`) and a ReLU network
    (:func:`relu_fit` with settings ``relu``) on S = ``len(rngs)`` data sets of ``target`` at each size in
    ``sizes``; errors are mean squared errors against ``target`` on ``grid``.

    Data set s draws ``max(sizes)`` points from ``rngs[s]`` (:func:`dltheory.data.regression`) and its size-n
    sample is the first n of them (nested samples: a seed's errors along n then differ by n, not by a new
    draw). The network for data set s at size index k is initialised from ``generators[s][k]``; networks of one
    size train in batches of about ``chunk_points`` points in all (batching changes nothing but the speed).
    """
    S, K = len(rngs), len(sizes)
    truth = target(grid)  # (G,)
    draws = [regression(target, max(sizes), noise, r) for r in rngs]
    xs, ys = np.stack([d[0] for d in draws]), np.stack([d[1] for d in draws])  # (S, N)
    errors = {name: np.zeros((S, K)) for name in [*baselines, "ReLU network"]}
    edge = {name: np.zeros((S, K), dtype=bool) for name in baselines}
    losses, fits = [], {}
    for k, n in enumerate(sizes):
        x, y = xs[:, :n], ys[:, :n]
        for name, (path, settings) in baselines.items():
            for s in range(S):
                errors[name][s, k], best, fit = oracle_path(path, x[s], y[s], settings, grid, truth)
                edge[name][s, k] = at_edge(settings, best)
                if s == 0 and k == K - 1:
                    fits[name] = fit
        chunk = max(1, chunk_points // n)
        nets = [relu_fit(x[i:i + chunk], y[i:i + chunk], [generators[s][k] for s in range(i, min(i + chunk, S))],
                         **relu) for i in range(0, S, chunk)]
        predicted = np.concatenate([net.predict(grid) for net in nets])  # (S, G)
        errors["ReLU network"][:, k] = ((predicted - truth) ** 2).mean(1)
        losses.append(np.concatenate([net.losses for net in nets]))  # (S, R)
        if k == K - 1:
            fits["ReLU network"] = predicted[0]
    return Benchmark(errors, edge, np.stack(losses, 1), (xs[0], ys[0]), fits)
