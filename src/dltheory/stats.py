"""Intervals for figures that vary with the seed or the sample: means over seeds and counts of successes.

A figure that a different seed could move is reported with an interval from these functions, never as one draw.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats as _stats

__all__ = ["Interval", "Tally", "mean_interval", "bootstrap", "tally", "binomial_p_value", "count_tolerance"]


class Interval(NamedTuple):
    """A statistic of ``n`` independent runs (their mean, or a bootstrapped statistic), its standard error, and a
    two-sided interval."""

    value: float
    sem: float
    low: float
    high: float
    n: int

    def excludes(self, value: float) -> bool:
        """Whether ``value`` lies outside the interval."""
        return not (self.low <= value <= self.high)


class Tally(NamedTuple):
    """``right`` successes of ``total``, the proportion, and its exact (Clopper–Pearson) interval."""

    right: int
    total: int
    accuracy: float
    low: float
    high: float


def mean_interval(x: np.ndarray, *, level: float = 0.95) -> Interval:
    """Student-t interval for the mean of independent runs ``x`` (n,), n >= 2."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f"need at least two runs in a 1-D array, got shape {x.shape}")
    mean, sem = float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x)))
    half = float(_stats.t.ppf(0.5 + level / 2, len(x) - 1)) * sem
    return Interval(mean, sem, mean - half, mean + half, len(x))


def bootstrap(x: np.ndarray, statistic, rng: np.random.Generator, *, n_boot: int = 500,
              level: float = 0.95) -> Interval:
    """``statistic(x)`` of the samples ``x`` (n,) with its bootstrap standard error and percentile interval,
    resampling with ``rng``."""
    x = np.asarray(x, dtype=float)
    boot = np.array([statistic(x[rng.integers(0, len(x), len(x))]) for _ in range(n_boot)])
    low, high = np.quantile(boot, [0.5 - level / 2, 0.5 + level / 2])
    return Interval(float(statistic(x)), float(boot.std(ddof=1)), float(low), float(high), len(x))


def count_tolerance(count: int, total: int) -> float:
    """How far a count of successes may move in a rerun: two binomial standard deviations at the observed rate,
    plus one (so that a count of ``total``/``total`` may still move by one)."""
    return float(2 * np.sqrt(count * (total - count) / total) + 1)


def tally(score: np.ndarray, truth: np.ndarray, *, level: float = 0.95) -> Tally:
    """How often ``sign(score)`` (n,) equals ``truth`` (n,) of +-1 (a zero score counts as wrong), with the
    Clopper–Pearson interval (statsmodels' ``proportion_confint(method="beta")``)."""
    from statsmodels.stats.proportion import proportion_confint

    right = int(np.sum(np.sign(score) == truth))
    total = len(truth)
    low, high = proportion_confint(right, total, alpha=1 - level, method="beta")
    return Tally(right, total, right / total, float(low), float(high))


def binomial_p_value(right: int, total: int, p: float = 0.5) -> float:
    """One-sided exact binomial test: the probability of ``right`` or more successes in ``total`` at rate ``p``."""
    return float(_stats.binomtest(right, total, p, alternative="greater").pvalue)
