"""dltheory.causal: MMD and HSIC against brute force and cdt, the pair generator's structure, the meta-model's
invariances, and that each direction score finds the cause on easy pairs."""

import warnings

import numpy as np
import pytest
import torch

from dltheory import causal

with warnings.catch_warnings():  # cdt warns at import when it finds no GPU
    warnings.simplefilter("ignore")
    from cdt.causality.pairwise.ANM import FastHsicTestGamma
    from cdt.utils.loss import MMDloss


def _samples(b, n, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, n, generator=g) for _ in range(3))


def test_joint_mmd2_matches_brute_force():
    # the V-statistic written out as a double sum over the joint points
    x, y, yh = _samples(2, 7, seed=0)
    bandwidths = (0.5, 2.0)
    got = causal.joint_mmd2(x, y, yh, bandwidths=bandwidths)

    def k(u, v):
        return sum(np.exp(-np.sum((u - v) ** 2) / (2 * s**2)) for s in bandwidths)

    for i in range(2):
        obs = torch.stack([x[i], y[i]], 1).double().numpy()
        gen = torch.stack([x[i], yh[i]], 1).double().numpy()
        want = (np.mean([[k(u, v) for v in obs] for u in obs]) + np.mean([[k(u, v) for v in gen] for u in gen])
                - 2 * np.mean([[k(u, v) for v in gen] for u in obs]))
        np.testing.assert_allclose(got[i].item(), want, rtol=1e-5, atol=1e-6)


def test_joint_mmd2_matches_cdt():
    # cdt's MMDloss uses exp(-gamma d^2); bandwidth s corresponds to gamma = 1 / (2 s^2)
    x, y, yh = _samples(1, 20, seed=1)
    gammas = torch.tensor([0.05, 0.5, 5.0])
    ours = causal.joint_mmd2(x, y, yh, bandwidths=tuple((1 / (2 * gammas)).sqrt().tolist()))
    theirs = MMDloss(20, bandwidths=gammas)(torch.stack([x[0], yh[0]], 1), torch.stack([x[0], y[0]], 1))
    torch.testing.assert_close(ours[0], theirs, rtol=1e-4, atol=1e-6)


def test_joint_mmd2_vanishes_on_identical_samples():
    x, y, _ = _samples(3, 10, seed=2)
    torch.testing.assert_close(causal.joint_mmd2(x, y, y.clone()), torch.zeros(3), rtol=0, atol=1e-6)


def test_hsic_matches_cdt():
    # same statistic, same median heuristic; integer data has ties, which the median must skip
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    y = np.round(x**2 + rng.normal(size=40))
    np.testing.assert_allclose(causal.hsic(x, y), FastHsicTestGamma(x, y), rtol=1e-10)


def test_hsic_separates_dependence_from_independence():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    independent = [causal.hsic(x, rng.normal(size=200)) for _ in range(5)]
    assert causal.hsic(x, np.cos(2 * x)) > 5 * max(independent)


def test_reci_score_is_zero_for_an_exact_polynomial_and_scale_free():
    rng = np.random.default_rng(2)
    x = rng.normal(size=50)
    y = x**3 - x + 0.1 * rng.normal(size=50)
    assert causal.reci_score(x, x**3 - 2 * x) < 1e-20
    np.testing.assert_allclose(causal.reci_score(3 * x + 1, -2 * y + 5), causal.reci_score(x, y), rtol=1e-9)


@pytest.mark.parametrize("mechanism", causal.MECHANISMS)
def test_sample_pair_is_standardised_and_labelled(mechanism):
    pair = causal.sample_pair(60, np.random.default_rng(3), mechanism=mechanism)
    for v in (pair.a, pair.b):
        np.testing.assert_allclose([v.mean(), v.std()], [0, 1], atol=1e-12)
    assert pair.direction in (1, -1) and pair.mechanism == mechanism and pair.noise in causal.NOISES


@pytest.mark.parametrize("seed", range(4))
def test_sample_pair_direction_points_from_cause(seed):
    # without noise a cubic effect is an exact cubic of its cause, and not the other way round
    pair = causal.sample_pair(80, np.random.default_rng(seed), mechanism="polynomial", noise="gaussian",
                              noise_scale=(0.0, 0.0))
    cause, effect = (pair.a, pair.b) if pair.direction == 1 else (pair.b, pair.a)
    residual = effect - np.polyval(np.polyfit(cause, effect, 3), cause)
    np.testing.assert_allclose(residual, 0, atol=1e-8)


def test_sample_pair_randomises_order():
    rng = np.random.default_rng(4)
    directions = [p.direction for p in causal.sample_pairs(400, 10, rng)]
    assert abs(np.mean(directions)) < 0.15  # 3.0 standard errors of a fair coin


def test_standardise_refuses_a_constant_sample():
    with pytest.raises(ValueError, match="constant"):
        causal.standardise(np.ones(5))


def test_sample_pair_rejects_unknown_families():
    with pytest.raises(ValueError, match="mechanism"):
        causal.sample_pair(10, np.random.default_rng(0), mechanism="linear")
    with pytest.raises(ValueError, match="noise"):
        causal.sample_pair(10, np.random.default_rng(0), noise="cauchy")


def test_meta_cgnn_embedding_ignores_the_order_of_points():
    # DeepSets: a data set is a set
    model = causal.MetaCGNN(generator=torch.Generator().manual_seed(0))
    x, y, _ = _samples(2, 15, seed=5)
    perm = torch.randperm(15, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(model.embed(x, y), model.embed(x[:, perm], y[:, perm]))


def test_meta_cgnn_loss_is_the_mmd_of_its_own_sample():
    model = causal.MetaCGNN(generator=torch.Generator().manual_seed(0))
    x, y, _ = _samples(2, 15, seed=6)
    loss = model.loss(x, y, generator=torch.Generator().manual_seed(7))
    noise = torch.randn(2, 15, 1, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(loss, causal.joint_mmd2(x, y, model(x, model.embed(x, y), noise)))


def test_meta_cgnn_scores_compare_the_two_fits_without_updating():
    # the score is MMD²(b→a) − MMD²(a→b) of the fixed model; no parameter moves at test time
    model = causal.MetaCGNN(generator=torch.Generator().manual_seed(0))
    before = [p.clone() for p in model.parameters()]
    pairs = causal.sample_pairs(4, 30, np.random.default_rng(8))
    a, b = np.stack([p.a for p in pairs]), np.stack([p.b for p in pairs])
    score = causal.meta_cgnn_scores(model, a, b, n_draws=3, generator=torch.Generator().manual_seed(9))
    g = torch.Generator().manual_seed(9)
    ta, tb = torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
    with torch.no_grad():
        ab = model.loss(ta, tb, n_draws=3, generator=g)
        ba = model.loss(tb, ta, n_draws=3, generator=g)
    np.testing.assert_allclose(score, (ba - ab).numpy(), rtol=1e-6, atol=1e-7)
    for p, q in zip(before, model.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_meta_train_lowers_the_loss():
    rng = np.random.default_rng(10)
    g = torch.Generator().manual_seed(10)
    model = causal.MetaCGNN(width=16, embedding=8, generator=g)
    losses = causal.meta_train(model, causal.sample_pairs(64, 30, rng), steps=300, batch=16, generator=g)
    assert losses[-30:].mean() < 0.7 * losses[:30].mean()  # measured: 0.32 -> 0.17


def test_per_data_set_scores_find_the_cause_on_easy_pairs():
    # low-noise additive pairs: the per-data-set CGNN and the additive-noise model should both get most right
    # (at chance, 26 or more right of 40 has probability 0.04)
    rng = np.random.default_rng(11)
    pairs = causal.sample_pairs(40, 60, rng, noise="uniform", noise_scale=(0.2, 0.3))
    a, b = np.stack([p.a for p in pairs]), np.stack([p.b for p in pairs])
    truth = np.array([p.direction for p in pairs])
    cgnn = causal.cgnn_scores(a, b, generator=torch.Generator().manual_seed(11))
    anm = np.array([causal.anm_score(p.b, p.a) - causal.anm_score(p.a, p.b) for p in pairs])
    assert np.mean(np.sign(cgnn) == truth) >= 0.65
    assert np.mean(np.sign(anm) == truth) >= 0.65
