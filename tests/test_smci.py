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


# the first-order conditional stays accurate at strong couplings (weights of scale 3, up to |W| ~ 7, fields up to
# ~20), where its rational form in tanh W and tanh of the fields is most exposed to rounding: its error bound is
# ~1e-16 / (1 - tanh|W|) ~ 1e-10 here (the learned weights of the M3 page stay below |W| ~ 4, error < 1e-12)
def test_pair_conditional_strong_couplings():
    dbm = _dbm([3, 3, 2], 3.0, 17, field=1.0)
    layers = [torch.tensor(list(itertools.product([-1.0, 1.0], repeat=n)), dtype=torch.float64)[:4] for n in (3, 3, 2)]
    for layer in (0, 1):
        got = _pair_conditional(dbm, layers, layer, clamp_visible=False)
        for s, i, j in itertools.product(range(4), range(layers[layer].shape[1]), range(layers[layer + 1].shape[1])):
            w = {}
            for a, b in itertools.product([-1.0, 1.0], repeat=2):
                x = [t[s].clone() for t in layers]
                x[layer][i], x[layer + 1][j] = a, b
                w[a, b] = sum(float(xk @ bk) for xk, bk in zip(x, dbm.biases, strict=True)) + sum(
                    float(x[k] @ wk @ x[k + 1]) for k, wk in enumerate(dbm.weights))
            top = max(w.values())
            z = {k: np.exp(v - top) for k, v in w.items()}
            exact = sum(a * b * v for (a, b), v in z.items()) / sum(z.values())
            np.testing.assert_allclose(float(got[s, i, j]), exact, rtol=0, atol=1e-9)


def _batch(n, sizes, scale, seed):
    g = torch.Generator().manual_seed(seed)
    return [bz.random_dbm(sizes, scale, generator=g) for _ in range(n)]


# a batch of DBMs gives, element by element, what each DBM gives alone: Gibbs sweeps on the same uniforms, pair
# statistics of both estimators, and the mean field
def test_batched_equals_one_by_one():
    dbms = _batch(3, [3, 4, 2], 1.0, 18)
    batch = bz.stack_dbms(dbms)
    layers = [torch.stack(x) for x in zip(*[bz.dbm_exact_sample(d, 6, generator=torch.Generator().manual_seed(19))
                                            for d in dbms], strict=True)]  # (3, 6, n_l)
    for clamp in (False, True):
        got = bz.smci1_pair_stats(batch, layers, clamp_visible=clamp)
        for b, d in enumerate(dbms):
            want = bz.smci1_pair_stats(d, [x[b] for x in layers], clamp_visible=clamp)
            torch.testing.assert_close(_flat([x[b] for x in got]), _flat(want), rtol=0, atol=1e-14)
    for b in range(len(dbms)):
        torch.testing.assert_close(_flat([x[b] for x in bz.mc_pair_stats(layers)]),
                                   _flat(bz.mc_pair_stats([x[b] for x in layers])), rtol=0, atol=1e-14)
    # a sweep of the batch with uniforms u equals per-element sweeps with the same uniforms
    swept = bz.gibbs_sweep(batch, layers, generator=torch.Generator().manual_seed(20))
    g = torch.Generator().manual_seed(20)
    u = [torch.rand(x.shape, generator=g, dtype=torch.float64) for x in (layers[1], layers[0], layers[2])]
    for b, d in enumerate(dbms):
        x = [t[b] for t in layers]
        h1 = torch.sigmoid(2 * (x[0] @ d.weights[0] + x[2] @ d.weights[1].T))
        x[1] = torch.where(u[0][b] < h1, 1.0, -1.0).double()
        x[0] = torch.where(u[1][b] < torch.sigmoid(2 * (x[1] @ d.weights[0].T)), 1.0, -1.0).double()
        x[2] = torch.where(u[2][b] < torch.sigmoid(2 * (x[1] @ d.weights[1])), 1.0, -1.0).double()
        for got, want in zip(swept, x, strict=True):
            torch.testing.assert_close(got[b], want.to(torch.float64))


# the visible log-probabilities of a batch sum to one and give the KL of brute-force enumeration (biases nonzero)
def test_visible_kl_batched_brute_force():
    ps = [_dbm([3, 2, 2], 1.0, 21), _dbm([3, 2, 2], 1.3, 22)]
    qs = [_dbm([3, 2, 2], 0.7, 23), _dbm([3, 2, 2], 0.9, 24)]

    def visible(dbm):
        parts, prob = _brute(dbm)
        idx = ((parts[0] > 0).long() * torch.tensor([4, 2, 1])).sum(1)
        return torch.zeros(8, dtype=torch.float64).index_add_(0, idx, prob)

    got = bz.visible_kl(bz.stack_dbms(ps), bz.stack_dbms(qs))
    for b, (p, q) in enumerate(zip(ps, qs, strict=True)):
        pv, qv = visible(p), visible(q)
        np.testing.assert_allclose(float(got[b]), float((pv * torch.log(pv / qv)).sum()), rtol=1e-10)
        torch.testing.assert_close(bz.visible_log_prob(p), torch.log(pv), rtol=0, atol=1e-12)
    # four layers: even layers v and h2 enumerated, h1 and h3 summed
    p4 = _dbm([2, 2, 3, 2], 0.9, 25)
    parts, prob = _brute(p4)
    idx = ((parts[0] > 0).long() * torch.tensor([2, 1])).sum(1)
    pv = torch.zeros(4, dtype=torch.float64).index_add_(0, idx, prob)
    torch.testing.assert_close(bz.visible_log_prob(p4), torch.log(pv), rtol=0, atol=1e-12)


# Glorot-Bengio weights lie in +-sqrt(6 / (n_l + n_l+1)) with the uniform's variance r^2 / 3
def test_uniform_dbm_range():
    d = bz.uniform_dbm([40, 60, 20], generator=torch.Generator().manual_seed(26))
    for w, (a, b) in zip(d.weights, [(40, 60), (60, 20)], strict=True):
        r = (6 / (a + b)) ** 0.5
        assert w.abs().max() <= r
        assert float(w.var()) == pytest.approx(r**2 / 3, rel=0.1)


# every learner lowers the exact KL of a batch of models; the batch of one element learns exactly what that element
# learns in a larger batch; SMCI beats the conventional learner where the mean field is biased; bad settings refused
def test_learn_dbms():
    g = torch.Generator().manual_seed(27)
    truths = [bz.random_dbm([4, 3, 3], 1.0, generator=g) for _ in range(3)]
    data = torch.stack([bz.dbm_exact_sample(t, 200, generator=g)[0] for t in truths])
    start = bz.stack_dbms([bz.uniform_dbm([4, 3, 3], generator=g) for _ in range(3)])
    truth = bz.stack_dbms(truths)

    def gens():
        return dict(generator=torch.Generator().manual_seed(28), order_generator=torch.Generator().manual_seed(29),
                    aux_generator=torch.Generator().manual_seed(30))

    for method in ("conventional", "smci", "mf_smci"):
        run = bz.learn_dbms(data, start, truth, method=method, epochs=60, n_chains=50, lr=0.02, batch_size=50,
                            **gens())
        assert run.kl.shape == (3, 61)
        assert torch.all(run.kl[:, -10:].mean(1) < 0.5 * run.kl[:, 0]), method
        assert (run.mf_residual > 0) == (method != "smci")
    with pytest.raises(ValueError):
        bz.learn_dbms(data, start, truth, method="exact", epochs=1, n_chains=5, **gens())
    with pytest.raises(ValueError):
        bz.learn_dbms(data, start, truth, method="smci", epochs=1, n_chains=5, batch_size=70, **gens())


# the learner's warm-started layer-wise mean field (batched) reaches the fixed point of the naive mean-field
# equations m1 = tanh(b1 + v W0 + m2 W1^T), m2 = tanh(b2 + m1 W1), checked by evaluating them directly
def test_layerwise_mean_field_fixed_point():
    from dltheory.boltzmann._smci import _layerwise_mean_field

    dbms = [_dbm([4, 3, 2], 0.6, 31 + i) for i in range(2)]
    batch = bz.stack_dbms(dbms)
    v = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=4)), dtype=torch.float64).expand(2, -1, -1)
    start = [v, torch.zeros(2, 16, 3, dtype=torch.float64), torch.zeros(2, 16, 2, dtype=torch.float64)]
    m, step = _layerwise_mean_field(batch, start, 300)
    assert float(step) < 1e-12
    for b, d in enumerate(dbms):
        m1, m2 = m[1][b], m[2][b]
        torch.testing.assert_close(m1, torch.tanh(d.biases[1] + v[b] @ d.weights[0] + m2 @ d.weights[1].T),
                                   rtol=0, atol=1e-12)
        torch.testing.assert_close(m2, torch.tanh(d.biases[2] + m1 @ d.weights[1]), rtol=0, atol=1e-12)


def test_learn_dbms_routes_each_term_to_its_estimator(monkeypatch):
    # which estimator each method applies to the data term (minibatch rows) and the model term (the chains):
    # conventional = mean field + plain MC, smci = SMCI + SMCI, mf_smci = mean field + SMCI
    from dltheory.boltzmann import _smci

    calls = set()

    def spy(name, real):
        def wrapped(*args, **kw):
            layers = args[0] if name == "mc" else args[1]
            calls.add((name, "chains" if layers[0].shape[1] == 7 else "data"))
            return real(*args, **kw)
        return wrapped

    monkeypatch.setattr(_smci, "mc_pair_stats", spy("mc", _smci.mc_pair_stats))
    monkeypatch.setattr(_smci, "smci1_pair_stats", spy("smci", _smci.smci1_pair_stats))
    g = torch.Generator().manual_seed(31)
    truth = bz.random_dbm([4, 3, 3], 1.0, generator=g)
    data = bz.dbm_exact_sample(truth, 20, generator=g)[0][None]
    start, truth = bz.stack_dbms([bz.uniform_dbm([4, 3, 3], generator=g)]), bz.stack_dbms([truth])
    want = {"conventional": {("mc", "data"), ("mc", "chains")}, "smci": {("smci", "data"), ("smci", "chains")},
            "mf_smci": {("mc", "data"), ("smci", "chains")}}
    for method, expected in want.items():
        calls.clear()
        bz.learn_dbms(data, start, truth, method=method, epochs=1, n_chains=7, batch_size=10, burn_in=1,
                      mf_start=1, generator=torch.Generator().manual_seed(1),
                      order_generator=torch.Generator().manual_seed(2), aux_generator=torch.Generator().manual_seed(3))
        assert calls == expected, method
