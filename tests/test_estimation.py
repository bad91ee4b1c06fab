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
    f = est.relu_fit(x[None], y[None], [torch.Generator().manual_seed(0)], steps=500)
    truth = data.jump_target(grid)
    assert np.mean((f.predict(grid)[0] - truth) ** 2) < 0.05 * np.var(truth)


def test_batched_networks_train_as_if_alone():
    # network 0 of a batch ends the same whatever network 1 is trained on: the batch couples nothing
    rng = np.random.default_rng(5)
    x, y = (np.stack(v) for v in zip(*(data.regression(data.jump_target, 32, 0.1, rng) for _ in range(2)), strict=True))
    other = y.copy()
    other[1] = -3 * y[1] + 5
    grid = np.linspace(0, 1, 11)
    fits = [est.relu_fit(x, t, [torch.Generator().manual_seed(i) for i in (0, 1)], width=8, depth=2,
                         steps=50).predict(grid) for t in (y, other)]
    np.testing.assert_array_equal(fits[0][0], fits[1][0])
    assert np.abs(fits[0][1] - fits[1][1]).max() > 1e-2  # while network 1 did see its own data


def test_relu_init_draws_each_network_from_its_own_generator():
    # network 1 of a batch of three is network 0 of a batch of one drawn from the same seed
    batch = est.relu_init([torch.Generator().manual_seed(s) for s in (7, 8, 9)], width=5, depth=2)
    alone = est.relu_init([torch.Generator().manual_seed(8)], width=5, depth=2)
    for part in (0, 1):
        for a, b in zip(batch[part], alone[part], strict=True):
            torch.testing.assert_close(a[1], b[0], rtol=0, atol=0)


def test_relu_ensemble_centres_inputs_and_rescales_outputs():
    # the ensemble's output is offset + scale * g(2x - 1), g the plain network, computed here by hand in float64
    weights, biases = est.relu_init([torch.Generator().manual_seed(3), torch.Generator().manual_seed(4)],
                                    width=6, depth=2)
    offset, scale = torch.tensor([[0.3], [-1.2]]), torch.tensor([[2.0], [0.5]])
    net = est.ReluEnsemble(weights, biases, offset, scale, np.empty(0))
    x = np.linspace(0, 1, 7)
    for s in range(2):
        h = (2 * x - 1)[:, None]
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            h = h @ w[s].double().numpy() + b[s].double().numpy()
            h = np.maximum(h, 0) if i < len(weights) - 1 else h
        np.testing.assert_allclose(net.predict(x)[s], offset[s].item() + scale[s].item() * h[:, 0], rtol=1e-5,
                                   atol=1e-5)


def test_relu_fit_reports_the_training_loss_it_reached():
    # the last logged loss is the ensemble's training mean squared error at the end, in the data's units
    rng = np.random.default_rng(6)
    x, y = data.regression(data.jump_target, 64, 0.3, rng)
    net = est.relu_fit(x[None], y[None], [torch.Generator().manual_seed(1)], width=8, depth=2, steps=30, lr=1e-2,
                       log_every=10)
    assert net.losses.shape == (1, 4)
    np.testing.assert_allclose(net.losses[0, -1], np.mean((net.predict(x)[0] - y) ** 2), rtol=1e-4)


def test_fourier_path_matches_the_fit_term_by_term():
    # every odd number of terms, from one QR factorisation, equals the separate least-squares fit; more terms
    # than points is unsupported (+inf)
    rng = np.random.default_rng(7)
    x, y = data.regression(data.jump_target, 60, 0.2, rng)
    grid = np.linspace(0, 1, 101)
    settings = [3, 9, 21, 45, 61]
    path = est.fourier_path(x, y, settings, grid)
    for m, row in zip(settings[:-1], path, strict=False):
        np.testing.assert_allclose(row, est.fourier_fit(x, y, m)(grid), rtol=1e-8, atol=1e-8)
    assert np.all(np.isinf(path[-1]))


def test_kernel_ridge_path_matches_the_dense_solve():
    # banded (narrow kernels) and dense (wide kernels) branches both equal the plain dense Cholesky solve
    rng = np.random.default_rng(8)
    x, y = data.regression(data.jump_target, 300, 0.2, rng)
    grid = np.linspace(0, 1, 201)
    settings = [(0.003, 1e-6), (0.003, 1e-2), (0.02, 1e-6), (0.3, 1e-3)]
    path = est.kernel_ridge_path(x, y, settings, grid)
    for setting, row in zip(settings, path, strict=True):
        np.testing.assert_allclose(row, est.kernel_ridge_fit(x, y, setting)(grid), rtol=1e-7, atol=1e-7)


def test_oracle_path_agrees_with_oracle_tuning_setting_by_setting():
    # the same smallest error and setting from a path function as from fitting each setting alone
    x, y = data.regression(data.jump_target, 200, 0.2, np.random.default_rng(9))
    grid = np.linspace(0, 1, 501)
    truth = data.jump_target(grid)
    settings = [2, 6, 12, 24, 300]
    err, best, fit = est.oracle_path(est.fit_path(est.spline_fit), x, y, settings, grid, truth)
    assert (err, best) == pytest.approx(est.oracle_tuned(est.spline_fit, x, y, settings, grid, truth))
    np.testing.assert_allclose(np.mean((fit - truth) ** 2), err, rtol=1e-12)


def test_at_edge_reads_the_primary_knob():
    assert est.at_edge([2, 4, 6], 2) and est.at_edge([2, 4, 6], 6) and not est.at_edge([2, 4, 6], 4)
    grid = [(w, r) for w in (0.1, 0.2, 0.3) for r in (1e-6, 1e-3)]
    assert est.at_edge(grid, (0.1, 1e-3)) and not est.at_edge(grid, (0.2, 1e-6))


def test_benchmark_scores_each_estimator_on_nested_samples_of_its_own_draw():
    # rebuilt by hand: each data set's draw, its first n points per size, the oracle-tuned Fourier error there,
    # and a ReLU network trained alone on the same points from the same generator
    sizes, grid, noise = [24, 48], np.linspace(0, 1, 201), 0.2
    gens = [[torch.Generator().manual_seed(10 * s + k) for k in range(2)] for s in range(2)]
    relu = dict(width=8, depth=2, steps=30, log_every=10)
    fourier = {"Fourier": (est.fourier_path, [3, 5, 7])}
    bench = est.benchmark(data.jump_target, sizes, noise=noise, grid=grid, rngs=[np.random.default_rng(s) for s in
                          range(2)], generators=gens, baselines=fourier, **relu)
    truth = data.jump_target(grid)
    for s in range(2):
        x, y = data.regression(data.jump_target, max(sizes), noise, np.random.default_rng(s))
        for k, n in enumerate(sizes):
            want = est.oracle_path(est.fourier_path, x[:n], y[:n], [3, 5, 7], grid, truth)[0]
            assert bench.errors["Fourier"][s, k] == pytest.approx(want, rel=1e-12)
            fresh = torch.Generator().manual_seed(10 * s + k)
            net = est.relu_fit(x[None, :n], y[None, :n], [fresh], **relu)
            mse = np.mean((net.predict(grid)[0] - truth) ** 2)
            assert bench.errors["ReLU network"][s, k] == pytest.approx(mse, rel=1e-4)
        if s == 0:
            np.testing.assert_array_equal(bench.example_data[0], x)
            np.testing.assert_array_equal(bench.example_data[1], y)
