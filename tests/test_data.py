"""dltheory.data: every data set's structure, labels and randomness, against direct constructions."""

import numpy as np
import pytest
import torch

from dltheory import data


def test_digits_and_iris_are_stratified_splits_of_the_bundled_sets():
    for split, n, d, classes in ((data.digits(), 1797, 64, 10), (data.iris(), 150, 4, 3)):
        assert split.x_train.shape[1] == split.x_test.shape[1] == d
        assert len(split.y_train) + len(split.y_test) == n
        assert set(split.y_test.tolist()) == set(range(classes))  # stratified: every class in the test set
    assert data.digits().x_train.max() <= 1.0


def test_bars_and_stripes_has_every_pattern_once():
    # 3x3: 2^3 row sets + 2^3 column sets, all-off and all-on shared: 14 patterns, each a set of rows or columns
    bs = data.bars_and_stripes(3)
    assert bs.shape == (14, 9) and len({tuple(r.tolist()) for r in bs}) == 14
    for r in bs.reshape(14, 3, 3):
        rows_const = bool(torch.all(r == r[:, :1]))
        cols_const = bool(torch.all(r == r[:1, :]))
        assert rows_const or cols_const


def test_random_patterns_are_fair_spins():
    p = data.random_patterns(2000, 8, generator=torch.Generator().manual_seed(0))
    assert set(p.unique().tolist()) == {-1.0, 1.0}
    assert abs(p.mean().item()) < 3 / np.sqrt(16000)


def test_regression_targets_are_the_function_plus_noise():
    x, y = data.regression(data.jump_target, 5000, 0.1, np.random.default_rng(1))
    residual = y - data.jump_target(x)
    np.testing.assert_allclose(residual.std(), 0.1, rtol=0.05)
    np.testing.assert_allclose(data.jump_target(np.array([0.4, 0.40001])) - data.smooth_target(
        np.array([0.4, 0.40001])), [0.0, 1.0])


def test_teacher_regression_is_a_tanh_network_of_its_draws():
    # the targets equal the network written out from the same generator's draws, plus the noise
    g = torch.Generator().manual_seed(2)
    x, y = data.teacher_regression(30, 2, 3, 0.0, generator=g)
    g = torch.Generator().manual_seed(2)
    x2 = torch.randn(30, 2, generator=g, dtype=torch.float64)
    theta = torch.randn(3 * 4 + 1, generator=g, dtype=torch.float64)
    W, b, v, c = theta[:6].reshape(3, 2), theta[6:9], theta[9:12], theta[12]
    torch.testing.assert_close(x, x2)
    torch.testing.assert_close(y, torch.tanh(x2 @ W.T + b) @ v + c)


def test_gaussian_ring_modes_sit_on_the_circle():
    pts = data.gaussian_ring(4000, np.random.default_rng(3), modes=8, radius=2.0, sd=0.01)
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 2.0, atol=0.05)
    angles = np.round(np.arctan2(pts[:, 1], pts[:, 0]) / (np.pi / 4)) % 8
    assert set(angles.astype(int)) == set(range(8))


@pytest.mark.parametrize("mechanism", data.MECHANISMS)
def test_cause_effect_pair_is_standardised_and_labelled(mechanism):
    pair = data.cause_effect_pair(60, np.random.default_rng(3), mechanism=mechanism)
    for v in (pair.a, pair.b):
        np.testing.assert_allclose([v.mean(), v.std()], [0, 1], atol=1e-12)
    assert pair.direction in (1, -1) and pair.mechanism == mechanism and pair.noise in data.NOISES


@pytest.mark.parametrize("seed", range(4))
def test_cause_effect_direction_points_from_cause(seed):
    # without noise a cubic effect is an exact cubic of its cause, and not the other way round
    pair = data.cause_effect_pair(80, np.random.default_rng(seed), mechanism="polynomial", noise="gaussian",
                                  noise_scale=(0.0, 0.0))
    cause, effect = (pair.a, pair.b) if pair.direction == 1 else (pair.b, pair.a)
    residual = effect - np.polyval(np.polyfit(cause, effect, 3), cause)
    np.testing.assert_allclose(residual, 0, atol=1e-8)


def test_cause_effect_pairs_randomise_order():
    directions = [p.direction for p in data.cause_effect_pairs(400, 10, np.random.default_rng(4))]
    assert abs(np.mean(directions)) < 0.15  # 3.0 standard errors of a fair coin


def test_standardise_refuses_a_constant_sample():
    with pytest.raises(ValueError, match="constant"):
        data.standardise(np.ones(5))


def test_cause_effect_pair_rejects_unknown_families():
    with pytest.raises(ValueError, match="mechanism"):
        data.cause_effect_pair(10, np.random.default_rng(0), mechanism="linear")
    with pytest.raises(ValueError, match="noise"):
        data.cause_effect_pair(10, np.random.default_rng(0), noise="cauchy")


def test_tuebingen_pairs_are_subsampled_standardised_and_shuffled():
    pairs = data.tuebingen(50, np.random.default_rng(5))
    assert len(pairs) == 99 and all(len(p.a) == len(p.b) == 50 for p in pairs)
    np.testing.assert_allclose([p.a.std() for p in pairs], 1, atol=1e-12)
    flips = sum(p.direction == -1 for p in pairs)
    assert 30 <= flips <= 69  # a fair coin: 99 tosses within 4 standard deviations
    assert {p.direction for p in pairs} == {-1, 1}


def test_families_drawn_only_from_the_subset_given():
    # holding families out of training: every pair comes from the tuples asked for, and both members appear
    pairs = data.cause_effect_pairs(60, 20, np.random.default_rng(7), mechanism=("sigmoid", "network"),
                                    noise=("uniform",))
    assert {p.mechanism for p in pairs} == {"sigmoid", "network"} and {p.noise for p in pairs} == {"uniform"}


def test_gaussian_ring_centres_are_equally_spaced_and_equally_weighted():
    # sd = 0: every point is exactly one of the centres radius * (cos 2 pi k / modes, sin 2 pi k / modes), built
    # here directly; each centre's count is binomial(n, 1/modes), within 4 standard deviations
    n, modes, radius = 6000, 5, 1.7
    pts = data.gaussian_ring(n, np.random.default_rng(8), modes=modes, radius=radius, sd=0.0)
    k = np.arange(modes)
    centres = radius * np.c_[np.cos(2 * np.pi * k / modes), np.sin(2 * np.pi * k / modes)]
    dist = np.linalg.norm(pts[:, None] - centres[None], axis=-1)  # (n, modes)
    np.testing.assert_allclose(dist.min(1), 0.0, atol=1e-12)
    counts = np.bincount(dist.argmin(1), minlength=modes)
    sd = np.sqrt(n * (1 / modes) * (1 - 1 / modes))
    assert np.all(np.abs(counts - n / modes) < 4 * sd), counts


def test_gaussian_ring_spread_around_each_centre_is_sd():
    # with sd > 0 the offsets from the nearest centre are isotropic Gaussian: per-coordinate std sd, mean 0
    n, modes, radius, sd = 8000, 6, 3.0, 0.07
    pts = data.gaussian_ring(n, np.random.default_rng(9), modes=modes, radius=radius, sd=sd)
    k = np.arange(modes)
    centres = radius * np.c_[np.cos(2 * np.pi * k / modes), np.sin(2 * np.pi * k / modes)]
    offsets = pts - centres[np.linalg.norm(pts[:, None] - centres[None], axis=-1).argmin(1)]
    np.testing.assert_allclose(offsets.std(0), sd, rtol=0.05)  # std error of a std: 1/sqrt(2n) = 0.8%
    np.testing.assert_allclose(offsets.mean(0), 0.0, atol=5 * sd / np.sqrt(n))


def test_two_class_digits_labels_each_image_by_its_own_class():
    # (used by K2) balanced +-1 targets, images of unit mean square, +1 exactly for the images of classes[0]: each
    # image is matched to the nearest of scikit-learn's own images (rescaled the same way) and takes its label
    from sklearn.datasets import load_digits

    x, y = data.two_class_digits((2, 7), 10, np.random.default_rng(0))
    assert x.shape == (20, 64) and y.shape == (20, 1)
    np.testing.assert_allclose(x.pow(2).mean(1).numpy(), 1.0, rtol=1e-12)
    raw, labels = load_digits(return_X_y=True)
    raw = raw / np.sqrt((raw**2).mean(1, keepdims=True))
    nearest = ((x.numpy()[:, None, :] - raw[None]) ** 2).sum(2).argmin(1)
    np.testing.assert_allclose(x.numpy(), raw[nearest], atol=1e-12)
    np.testing.assert_array_equal(np.where(labels[nearest] == 2, 1.0, -1.0), y[:, 0].numpy())
    assert (y == 1).sum().item() == 10
