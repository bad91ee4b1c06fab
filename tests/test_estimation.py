"""dltheory.estimation: estimators against exact cases, the rate fit against a known power law."""

import numpy as np
import pytest
import torch

from dltheory import data
from dltheory import estimation as est


def test_fourier_recovers_a_trigonometric_polynomial_exactly():
    # data from a degree-2 trigonometric polynomial, no noise: 5 terms fit it exactly
    x = np.linspace(0, 1, 50, endpoint=False)
    y = 0.3 + np.cos(2 * np.pi * x) - 2 * np.sin(4 * np.pi * x)
    np.testing.assert_allclose(est.fourier_fit(x, y, 5)(x), y, atol=1e-10)


def test_spline_reproduces_a_cubic_exactly():
    # a cubic polynomial lies in every cubic spline space
    x = np.sort(np.random.default_rng(0).uniform(0, 1, 200))
    y = 1 - 2 * x + 3 * x**3
    t = np.linspace(0, 1, 101)
    np.testing.assert_allclose(est.spline_fit(x, y, 6)(t), 1 - 2 * t + 3 * t**3, atol=1e-9)


def test_kernel_ridge_interpolates_as_ridge_vanishes():
    x = np.linspace(0, 1, 20)
    y = np.sin(5 * x)
    np.testing.assert_allclose(est.kernel_ridge_fit(x, y, (0.1, 1e-12))(x), y, atol=1e-5)


def test_fit_rate_recovers_a_power_law():
    # errors = 3 n^-0.7 with multiplicative noise: the fitted slope is within its 95% interval of -0.7
    n = np.array([100, 200, 400, 800, 1600])
    rng = np.random.default_rng(1)
    errors = 3 * n[None] ** -0.7 * np.exp(0.05 * rng.normal(size=(4, 5)))
    rate = est.fit_rate(n, errors)
    assert rate.low <= -0.7 <= rate.high and rate.high - rate.low < 0.1


def test_oracle_tuning_picks_the_setting_with_the_smallest_true_error():
    # spline knots on clean data of the target: more knots reduce the error; failing settings count as infinite
    x = np.sort(np.random.default_rng(2).uniform(0, 1, 400))
    grid = np.linspace(0, 1, 2001)
    err, best = est.oracle_tuned(est.spline_fit, x, data.jump_target(x), [2, 20, 60, 10_000], grid,
                                 data.jump_target(grid))
    assert best == 60 and np.isfinite(err)


def test_per_seed_slopes_match_a_regression_per_row():
    # each row's least-squares slope, against numpy's polyfit on that row
    n = np.array([64, 128, 256, 512])
    errors = np.exp(np.random.default_rng(4).normal(size=(3, 4))) * n[None] ** -0.5
    expected = [np.polyfit(np.log(n), np.log(e), 1)[0] for e in errors]
    np.testing.assert_allclose(est.slopes(n, errors), expected, rtol=1e-12)


@pytest.mark.slow
def test_relu_network_fits_the_jump_better_than_its_mean():
    # a short training run already explains most of the target's variance
    x, y = data.regression(data.jump_target, 256, 0.1, np.random.default_rng(3))
    grid = np.linspace(0, 1, 1001)
    f = est.relu_fit(x[None], y[None], steps=1500, generator=torch.Generator().manual_seed(0))
    truth = data.jump_target(grid)
    assert np.mean((f.predict(grid)[0] - truth) ** 2) < 0.05 * np.var(truth)


def test_batched_networks_train_as_if_alone():
    # network 0 of a batch ends the same whatever network 1 is trained on: the batch couples nothing
    rng = np.random.default_rng(5)
    x, y = (np.stack(v) for v in zip(*(data.regression(data.jump_target, 32, 0.1, rng) for _ in range(2))))
    other = y.copy()
    other[1] = -3 * y[1] + 5
    grid = np.linspace(0, 1, 11)
    fits = [est.relu_fit(x, t, width=8, depth=2, steps=50, generator=torch.Generator().manual_seed(0)).predict(grid)
            for t in (y, other)]
    np.testing.assert_array_equal(fits[0][0], fits[1][0])
    assert np.abs(fits[0][1] - fits[1][1]).max() > 1e-2  # while network 1 did see its own data
