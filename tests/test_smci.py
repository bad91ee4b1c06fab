"""Tests of dltheory.boltzmann._smci: SMCI pair statistics against exact enumeration, unbiasedness and variance
ordering over repeated exact samples, and the learning loops."""

import itertools

import numpy as np
import pytest
import torch

from dltheory import boltzmann as bz
from dltheory.boltzmann._smci import _pair_conditional


def _dbm(sizes, scale, seed, field=0.3):
    g = torch.Generator().manual_seed(seed)
    dbm = bz.random_dbm(sizes, scale, generator=g)
    return dbm._replace(biases=tuple(field * torch.randn(b.numel(), generator=g, dtype=torch.float64)
                                     for b in dbm.biases))


def _brute(dbm):
    """Every joint state of the DBM, split per layer, and its exact probability (independent of the module)."""
    sizes = [b.numel() for b in dbm.biases]
    states = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=sum(sizes))), dtype=torch.float64)
    parts = torch.split(states, sizes, dim=1)
    neg_e = sum(p @ b for p, b in zip(parts, dbm.biases, strict=True))
    neg_e = neg_e + sum(((parts[k] @ w) * parts[k + 1]).sum(1) for k, w in enumerate(dbm.weights))
    return parts, torch.softmax(neg_e, 0)


def _flat(stats):
    return torch.cat([s.flatten() for s in stats])


# exact moments by window enumeration equal brute-force enumeration of all 2^12 states (biases nonzero)
def test_exact_pair_stats_brute_force():
    dbm = _dbm([3, 4, 2, 3], 0.8, 0)
    parts, p = _brute(dbm)
    brute = [torch.einsum("m,mi,mj->ij", p, parts[k], parts[k + 1]) for k in range(3)]
    torch.testing.assert_close(_flat(bz.exact_pair_stats(dbm)), _flat(brute), rtol=0, atol=1e-12)


# the first-order conditional equals the pair's conditional expectation computed from the energy directly
def test_pair_conditional_closed_form():
    dbm = _dbm([3, 4, 2], 1.1, 1)
    layers = bz.dbm_exact_sample(dbm, 4, generator=torch.Generator().manual_seed(2))
    got = _pair_conditional(dbm, layers, 0, clamp_visible=False)  # (S, 3, 4)
    for s, i, j in itertools.product(range(4), range(3), range(4)):
        num = den = 0.0
        for a, b in itertools.product([-1.0, 1.0], repeat=2):
            x = [t[s].clone() for t in layers]
            x[0][i], x[1][j] = a, b
            neg_e = sum(float(xk @ bk) for xk, bk in zip(x, dbm.biases, strict=True))
            neg_e += sum(float(x[k] @ w @ x[k + 1]) for k, w in enumerate(dbm.weights))
            num += a * b * np.exp(neg_e)
            den += np.exp(neg_e)
        np.testing.assert_allclose(float(got[s, i, j]), num / den, rtol=0, atol=1e-12)


# exact samples have the exact moments (Monte Carlo, 5 standard errors)
def test_dbm_exact_sample_moments():
    dbm = _dbm([3, 4, 2, 3], 0.8, 3)
    layers = bz.dbm_exact_sample(dbm, 40000, generator=torch.Generator().manual_seed(4))
    mc = _flat(bz.mc_pair_stats(layers))
    exact = _flat(bz.exact_pair_stats(dbm))
    se = torch.sqrt((1 - exact**2) / 40000)
    assert torch.all((mc - exact).abs() < 5 * se + 1e-12)


# SMCI of both orders is unbiased, and variance orders as plain MC >= 1st order >= 2nd order
def test_smci_unbiased_and_variance_order():
    dbm = _dbm([3, 3, 3, 3], 0.9, 5)
    g = torch.Generator().manual_seed(6)
    reps = {"mc": [], "s1": [], "s2": []}
    for _ in range(250):
        layers = bz.dbm_exact_sample(dbm, 20, generator=g)
        reps["mc"].append(_flat(bz.mc_pair_stats(layers)))
        reps["s1"].append(_flat(bz.smci1_pair_stats(dbm, layers)))
        reps["s2"].append(_flat(bz.smci2_pair_stats(dbm, layers)))
    exact = _flat(bz.exact_pair_stats(dbm))
    var = {}
    for k, v in reps.items():
        v = torch.stack(v)
        var[k] = v.var(0)
        se = torch.sqrt(var[k] / len(v)).clamp_min(1e-9)
        assert torch.all((v.mean(0) - exact).abs() < 4.5 * se), k  # 27 pairs: 4.5 SE is a 1-in-10^4 event
    assert torch.all(var["s1"] < var["mc"])
    assert torch.all(var["s2"] <= var["s1"] + 1e-12)


# with a three-layer DBM the second-order window is the whole network: any samples give the exact moments
def test_smci2_exact_for_three_layers():
    dbm = _dbm([3, 4, 2], 1.0, 7)
    layers = bz.dbm_exact_sample(dbm, 5, generator=torch.Generator().manual_seed(8))
    torch.testing.assert_close(_flat(bz.smci2_pair_stats(dbm, layers)), _flat(bz.exact_pair_stats(dbm)),
                               rtol=0, atol=1e-12)


# with one hidden layer, mean field given v is exact: the data term equals the exact posterior moment
def test_mean_field_data_stats_exact_for_rbm():
    dbm = _dbm([4, 3], 1.2, 9)
    v = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=4)), dtype=torch.float64)
    got = bz.mean_field_data_stats(dbm, v, tol=1e-15, n_iter=200)[0]
    h = torch.tanh(dbm.biases[1] + v @ dbm.weights[0])
    torch.testing.assert_close(got, v.T @ h / len(v), rtol=0, atol=1e-10)


# KL between visible marginals matches brute force, is zero for equal models and positive otherwise
def test_dbm_visible_kl_brute_force():
    p, q = _dbm([3, 2, 2], 1.0, 10), _dbm([3, 2, 2], 0.7, 11)

    def visible(dbm):
        parts, prob = _brute(dbm)
        idx = ((parts[0] > 0).long() * torch.tensor([4, 2, 1])).sum(1)
        return torch.zeros(8, dtype=torch.float64).index_add_(0, idx, prob)

    pv, qv = visible(p), visible(q)
    np.testing.assert_allclose(bz.dbm_visible_kl(p, q), float((pv * torch.log(pv / qv)).sum()), rtol=1e-10)
    assert abs(bz.dbm_visible_kl(p, p)) < 1e-12


# shuffling keeps each unit's values (its marginal) but permutes them across samples
def test_shuffle_units_keeps_marginals():
    layers = bz.dbm_exact_sample(_dbm([3, 4], 1.0, 12), 50, generator=torch.Generator().manual_seed(13))
    shuffled = bz.shuffle_units(layers, generator=torch.Generator().manual_seed(14))
    for a, b in zip(layers, shuffled, strict=True):
        torch.testing.assert_close(a.sort(0).values, b.sort(0).values)
    assert not torch.equal(layers[0], shuffled[0])


# the learning loops (and the ablation) lower the exact KL from the generating model; bad method names are refused
def test_learn_dbm_lowers_kl():
    g = torch.Generator().manual_seed(15)
    truth = bz.random_dbm([4, 3, 3], 1.0, generator=g)
    v = bz.dbm_exact_sample(truth, 300, generator=g)[0]
    init = bz.random_dbm([4, 3, 3], 0.01, generator=g)
    for method in ("conventional", "smci", "mf_smci"):
        curve = bz.learn_dbm(v, init, truth, method=method, epochs=40, lr=0.15, n_chains=20,
                             generator=torch.Generator().manual_seed(16))
        assert curve.kl.shape == (41,) and curve.mf_unconverged >= 0
        assert curve.kl[-10:].mean() < 0.5 * curve.kl[0], method
    with pytest.raises(ValueError):
        bz.learn_dbm(v, init, truth, method="exact")
