"""Every data set of the book: scikit-learn's bundled sets, the Tübingen pairs shipped in cdt's wheel, and the
synthetic sets, each drawn from an explicit random generator. Nothing is downloaded at run time.

References: mooij2016distinguishing, kalainathan2020cdt.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from dltheory.nets import device_of

__all__ = ["Split", "digits", "iris", "bars_and_stripes", "random_patterns", "jump_target", "smooth_target",
           "regression", "teacher_regression", "gaussian_ring", "MECHANISMS", "NOISES", "Pair", "standardise",
           "cause_effect_pair", "cause_effect_pairs", "tuebingen"]


class Split(NamedTuple):
    """Train and test tensors: ``x_*`` shape (N, D) float, ``y_*`` shape (N,) long."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def _split(x: np.ndarray, y: np.ndarray, test_size: float, seed: int, dtype, device) -> Split:
    from sklearn.model_selection import train_test_split

    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)

    def t(a, dt):
        return torch.as_tensor(np.asarray(a), dtype=dt, device=device)

    return Split(t(xtr, dtype), t(ytr, torch.long), t(xte, dtype), t(yte, torch.long))


def digits(*, test_size: float = 0.25, seed: int = 0, dtype=torch.float32, device=None) -> Split:
    """scikit-learn's 8x8 handwritten digits (1797 images, the bundled stand-in for MNIST), pixels scaled to
    [0, 1], split stratified by class."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return _split(x / 16.0, y, test_size, seed, dtype, device)


def iris(*, test_size: float = 0.25, seed: int = 0, dtype=torch.float32, device=None) -> Split:
    """scikit-learn's iris (150 flowers, 4 measurements in cm, 3 species), split stratified by species."""
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    return _split(x, y, test_size, seed, dtype, device)


def bars_and_stripes(side: int = 3) -> torch.Tensor:
    """Every ``side`` x ``side`` bars-and-stripes image as +-1 spins, shape (2**(side+1) - 2, side**2): any set of
    rows on (bars) or any set of columns on (stripes); all-off and all-on counted once. float64."""
    patterns = set()
    for mask in range(2**side):
        on = np.array([(mask >> i) & 1 for i in range(side)], dtype=bool)
        patterns.add(tuple(np.repeat(on[:, None], side, 1).ravel()))  # rows
        patterns.add(tuple(np.repeat(on[None, :], side, 0).ravel()))  # columns
    return torch.tensor(sorted(patterns), dtype=torch.float64) * 2 - 1


def random_patterns(count: int, size: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """``count`` independent uniformly random +-1 patterns of ``size`` units, shape (count, size), float64."""
    bits = torch.rand(count, size, generator=generator, dtype=torch.float64, device=device_of(generator))
    return (bits < 0.5).double() * 2 - 1


def jump_target(x: np.ndarray) -> np.ndarray:
    """A smooth function with one unit jump at 0.4: :math:`\\sin(2\\pi x) + x^2 + \\mathbf 1[x > 0.4]`."""
    return np.sin(2 * np.pi * x) + x**2 + (x > 0.4)


def smooth_target(x: np.ndarray) -> np.ndarray:
    """The same function without its jump, :math:`\\sin(2\\pi x) + x^2`: every estimator's smooth case."""
    return np.sin(2 * np.pi * x) + x**2


def regression(target, n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` inputs uniform on [0, 1] and targets ``target(x)`` plus Gaussian noise; shapes (n,), (n,)."""
    x = rng.uniform(0, 1, n)
    return x, target(x) + noise * rng.normal(size=n)


def teacher_regression(n: int, inputs: int, units: int, noise: float, *,
                       generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Standard Gaussian inputs (n, inputs) and targets (n,) of a random one-hidden-layer tanh teacher,
    :math:`y = \sum_j v_j \tanh(w_j^\top x + b_j) + c + \text{noise}\cdot\varepsilon`, every weight standard
    normal; float64."""
    kw = dict(generator=generator, dtype=torch.float64, device=device_of(generator))
    x = torch.randn(n, inputs, **kw)
    theta = torch.randn(units * (inputs + 2) + 1, **kw)  # [W (units*inputs), b (units), v (units), c]
    W = theta[: units * inputs].reshape(units, inputs)
    b, v, c = theta[units * inputs: units * (inputs + 1)], theta[units * (inputs + 1): -1], theta[-1]
    return x, torch.tanh(x @ W.T + b) @ v + c + noise * torch.randn(n, **kw)


def gaussian_ring(n: int, rng: np.random.Generator, *, modes: int = 8, radius: float = 2.0,
                  sd: float = 0.1) -> np.ndarray:
    """``n`` points (n, 2) of an equal mixture of ``modes`` Gaussians of standard deviation ``sd`` spaced on a
    circle of ``radius``."""
    angles = rng.integers(0, modes, n) * 2 * np.pi / modes
    return np.c_[radius * np.cos(angles), radius * np.sin(angles)] + sd * rng.normal(size=(n, 2))


# ---------------------------------------------------------------------------------------------------------------
# Cause–effect pairs

MECHANISMS = ("network", "polynomial", "sigmoid", "periodic")
NOISES = ("gaussian", "uniform", "laplace", "multiplicative")


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


def cause_effect_pair(n: int, rng: np.random.Generator, *, mechanism: str | tuple[str, ...] = MECHANISMS,
                      noise: str | tuple[str, ...] = NOISES, noise_scale: tuple[float, float] = (0.1, 0.5)) -> Pair:
    r"""One synthetic cause–effect pair of ``n`` points, its order randomised.

    The cause :math:`x` is a Gaussian mixture; the effect is :math:`y = f(x) + \sigma e` (``noise`` one of
    ``gaussian``, ``uniform``, ``laplace``, each of unit variance) or :math:`y = \exp(f(x)/2 + \sigma e)`
    (``multiplicative``), with :math:`f` a random function of the family ``mechanism`` scaled to unit variance
    and :math:`\sigma` uniform on ``noise_scale``. Both variables are standardised; with probability 1/2 they are
    returned as (effect, cause) and ``direction`` is -1. A tuple of families is drawn from uniformly (default:
    every family), so that a subset can be held out of training.
    """
    if not isinstance(mechanism, str):
        mechanism = mechanism[rng.integers(len(mechanism))]
    if not isinstance(noise, str):
        noise = noise[rng.integers(len(noise))]
    if noise not in NOISES:
        raise ValueError(f"unknown noise {noise!r}; expected one of {NOISES}")
    x = standardise(_cause(n, rng))
    f = standardise(_mechanism(mechanism, x, rng))
    sigma = rng.uniform(*noise_scale)
    e = {"gaussian": lambda: rng.standard_normal(n), "multiplicative": lambda: rng.standard_normal(n),
         "uniform": lambda: rng.uniform(-np.sqrt(3), np.sqrt(3), n),
         "laplace": lambda: rng.laplace(0, 1 / np.sqrt(2), n)}[noise]()
    y = standardise(np.exp(f / 2 + sigma * e) if noise == "multiplicative" else f + sigma * e)
    return Pair(x, y, 1, mechanism, noise) if rng.random() < 0.5 else Pair(y, x, -1, mechanism, noise)


def cause_effect_pairs(count: int, n: int, rng: np.random.Generator, **kwargs) -> list[Pair]:
    """``count`` independent pairs from :func:`cause_effect_pair` (keywords passed on)."""
    return [cause_effect_pair(n, rng, **kwargs) for _ in range(count)]


def tuebingen(n: int, rng: np.random.Generator) -> list[Pair]:
    """The 99 labelled Tübingen cause–effect pairs shipped in cdt's wheel (all stored cause first), each
    subsampled to ``n`` points without replacement, standardised, and shown in a random order."""
    import warnings

    with warnings.catch_warnings():  # cdt announces at import whether it found a GPU
        warnings.simplefilter("ignore")
        from cdt.data import load_dataset
    table, _ = load_dataset("tuebingen")
    pairs = []
    for x, y in zip(table["A"], table["B"], strict=True):
        keep = rng.choice(len(x), n, replace=False)
        x, y = standardise(x[keep]), standardise(y[keep])
        pairs.append(Pair(y, x, -1, "real", "real") if rng.random() < 0.5 else Pair(x, y, 1, "real", "real"))
    return pairs


def two_class_digits(classes: tuple[int, int], per_class: int, rng: np.random.Generator, *,
                     dtype=torch.float64, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``per_class`` training images of each of two digit ``classes`` from :func:`digits`, drawn by ``rng``; each
    image scaled to unit mean square. Returns x shape (2 per_class, 64) and targets y shape (2 per_class, 1): +1 for
    ``classes[0]``, -1 for ``classes[1]``."""
    split = digits(dtype=dtype, device=device)
    labels = split.y_train.cpu().numpy()
    idx = np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in classes])
    x = split.x_train[idx]
    x = x / x.pow(2).mean(1, keepdim=True).sqrt()
    y = torch.where(split.y_train[idx] == classes[0], 1.0, -1.0).to(dtype)[:, None]
    return x, y


__all__ += ["two_class_digits"]
