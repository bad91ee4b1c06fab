"""dltheory.stats: intervals against closed forms, scipy and statsmodels, and their coverage by simulation."""

import numpy as np
import pytest
from scipy import stats as sps

from dltheory import stats


def test_mean_interval_is_the_student_t_interval():
    # mean, standard error and half-width t_{0.975, n-1} * s / sqrt(n), written out by hand
    x = np.array([1.0, 2.5, 0.5, 3.0, 2.0])
    iv = stats.mean_interval(x)
    sem = x.std(ddof=1) / np.sqrt(5)
    half = sps.t.ppf(0.975, 4) * sem
    np.testing.assert_allclose([iv.value, iv.sem, iv.low, iv.high], [x.mean(), sem, x.mean() - half, x.mean() + half])
    assert iv.excludes(x.mean() + 1.01 * half) and not iv.excludes(x.mean())


def test_mean_interval_covers_the_true_mean_95_percent_of_the_time():
    # 2000 simulated samples of size 6: coverage within 3 binomial standard errors of 0.95
    rng = np.random.default_rng(0)
    hits = sum(not stats.mean_interval(rng.normal(1.0, 2.0, 6)).excludes(1.0) for _ in range(2000))
    assert abs(hits / 2000 - 0.95) < 3 * np.sqrt(0.95 * 0.05 / 2000)


def test_mean_interval_needs_two_runs():
    with pytest.raises(ValueError, match="at least two"):
        stats.mean_interval(np.array([1.0]))


def test_tally_counts_signs_and_matches_scipy_clopper_pearson():
    # a zero score counts as wrong; the interval is scipy's exact binomial interval
    score, truth = np.array([0.3, -1.0, 0.0, 2.0, -0.1]), np.array([1, -1, 1, -1, -1])
    t = stats.tally(score, truth)
    ci = sps.binomtest(3, 5).proportion_ci(method="exact")
    assert (t.right, t.total) == (3, 5)
    np.testing.assert_allclose([t.accuracy, t.low, t.high], [0.6, ci.low, ci.high], rtol=1e-10)


def test_bootstrap_standard_error_of_the_mean_is_sigma_over_root_n():
    # the bootstrap SE of a mean of n points approaches s / sqrt(n)
    rng = np.random.default_rng(1)
    x = rng.normal(size=400)
    iv = stats.bootstrap(x, np.mean, rng, n_boot=2000)
    np.testing.assert_allclose(iv.sem, x.std() / 20, rtol=0.1)
    assert iv.low < iv.value < iv.high


def test_binomial_p_value_is_the_upper_tail():
    np.testing.assert_allclose(stats.binomial_p_value(8, 10), sps.binom.sf(7, 10, 0.5), rtol=1e-12)


@pytest.mark.parametrize(("count", "expected"), [(100, 1.0), (50, 11.0), (0, 1.0)])
def test_count_tolerance_is_two_binomial_sds_plus_one(count, expected):
    np.testing.assert_allclose(stats.count_tolerance(count, 100), expected)
