"""dltheory.causal: the meta-model's invariances, that it decides without updating, and that each direction score
finds the cause on easy pairs."""

import numpy as np
import pytest
import torch

from dltheory import causal, data, kernels


def _samples(b, n, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, n, generator=g) for _ in range(3))


def test_reci_score_is_zero_for_an_exact_polynomial_and_scale_free():
    rng = np.random.default_rng(2)
    x = rng.normal(size=50)
    y = x**3 - x + 0.1 * rng.normal(size=50)
    assert causal.reci_score(x, x**3 - 2 * x) < 1e-20
    np.testing.assert_allclose(causal.reci_score(3 * x + 1, -2 * y + 5), causal.reci_score(x, y), rtol=1e-9)


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
    torch.testing.assert_close(loss, kernels.joint_mmd2(x, y, model(x, model.embed(x, y), noise), causal.BANDWIDTHS))


def test_meta_cgnn_scores_compare_the_two_fits_without_updating():
    # the score is MMD²(b→a) − MMD²(a→b) of the fixed model; no parameter moves at test time
    model = causal.MetaCGNN(generator=torch.Generator().manual_seed(0))
    before = [p.clone() for p in model.parameters()]
    pairs = data.cause_effect_pairs(4, 30, np.random.default_rng(8))
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
    losses = causal.meta_train(model, data.cause_effect_pairs(64, 30, rng), steps=300, batch=16, generator=g)
    assert losses[-30:].mean() < 0.7 * losses[:30].mean()  # measured: 0.32 -> 0.17


def test_per_data_set_scores_find_the_cause_on_easy_pairs():
    # low-noise additive pairs: the per-data-set CGNN and the additive-noise model should both get most right
    # (at chance, 26 or more right of 40 has probability 0.04)
    rng = np.random.default_rng(11)
    pairs = data.cause_effect_pairs(40, 60, rng, noise="uniform", noise_scale=(0.2, 0.3))
    a, b = np.stack([p.a for p in pairs]), np.stack([p.b for p in pairs])
    truth = np.array([p.direction for p in pairs])
    cgnn = causal.cgnn_scores(a, b, generator=torch.Generator().manual_seed(11))
    anm = np.array([causal.anm_score(p.b, p.a) - causal.anm_score(p.a, p.b) for p in pairs])
    assert np.mean(np.sign(cgnn) == truth) >= 0.65
    assert np.mean(np.sign(anm) == truth) >= 0.65


def test_meta_cgnn_zeroed_embedding_is_one_generator_for_every_data_set():
    # embed=False: the loss is the MMD of a generator conditioned on z = 0, whatever the data set
    model = causal.MetaCGNN(width=12, embedding=5, generator=torch.Generator().manual_seed(0))
    x, y, _ = _samples(3, 20, seed=12)
    loss = model.loss(x, y, generator=torch.Generator().manual_seed(13), embed=False)
    noise = torch.randn(3, 20, 1, generator=torch.Generator().manual_seed(13))
    torch.testing.assert_close(loss, kernels.joint_mmd2(x, y, model(x, torch.zeros(3, 5), noise), causal.BANDWIDTHS))
    # with the embedding the generator differs (the FiLM layers are not trivial at initialisation)
    with_z = model.loss(x, y, generator=torch.Generator().manual_seed(13))
    assert (with_z - loss).abs().max() > 1e-4


def test_meta_cgnn_fixed_embedding_is_that_generator_for_every_data_set():
    # a tensor for embed: every data set meets the generator conditioned on that one z (its own embedding unused)
    model = causal.MetaCGNN(width=12, embedding=5, generator=torch.Generator().manual_seed(0))
    x, y, _ = _samples(3, 20, seed=15)
    z = torch.randn(5, generator=torch.Generator().manual_seed(16))
    loss = model.loss(x, y, generator=torch.Generator().manual_seed(17), embed=z)
    noise = torch.randn(3, 20, 1, generator=torch.Generator().manual_seed(17))
    want = kernels.joint_mmd2(x, y, model(x, z.expand(3, 5), noise), causal.BANDWIDTHS)
    torch.testing.assert_close(loss, want)
    # data set 0's own embedding, imposed on all three, gives data set 0 its unchanged loss and the others another
    own = model.loss(x, y, generator=torch.Generator().manual_seed(17))
    imposed = model.loss(x, y, generator=torch.Generator().manual_seed(17), embed=model.embed(x, y)[0])
    torch.testing.assert_close(imposed[0], own[0])
    assert (imposed[1:] - own[1:]).abs().min() > 1e-6
    # the mean embedding of pairs is the mean of their embeddings in causal order (both orders given here)
    pairs = ([data.Pair(x[i].numpy(), y[i].numpy(), 1, "test", "test") for i in range(3)]
             + [data.Pair(y[0].numpy(), x[0].numpy(), -1, "test", "test")])
    want = torch.cat([model.embed(x, y), model.embed(x[:1], y[:1])]).mean(0)
    torch.testing.assert_close(causal.mean_embedding(model, pairs), want)


def test_igci_reference_measures():
    # the uniform reference rescales each variable to [0, 1], so the score is invariant to affine maps of either;
    # for y = f(x) with x uniform and f a non-linear increasing bijection of [0, 1], IGCI finds x -> y
    rng = np.random.default_rng(14)
    x = rng.uniform(size=200)
    y = x**3
    s = causal.igci_score(x, y, reference="uniform")
    np.testing.assert_allclose(causal.igci_score(4 * x - 1, 0.5 * y + 3, reference="uniform"), s, rtol=1e-6)
    assert s > 0.3
    assert causal.igci_score(y, x, reference="uniform") == pytest.approx(-s, rel=1e-6)
    # against Daniusis et al.'s spacing estimate H = psi(m) - psi(1) + mean log(x_(i+1) - x_(i)) on data scaled to
    # [0, 1] (no ties here, so the psi terms cancel in the difference)
    u = rng.normal(size=80)
    v = np.tanh(u) + 0.05 * rng.normal(size=80)

    def spacing(w):
        w = np.sort((w - w.min()) / (w.max() - w.min()))
        return np.mean(np.log(np.diff(w)))

    np.testing.assert_allclose(causal.igci_score(u, v, reference="uniform"), spacing(u) - spacing(v), rtol=1e-6)
