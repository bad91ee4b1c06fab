"""dltheory.boltzmann against independent routes: brute-force loops, numerical integration, direct minimisation."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import integrate, optimize

from dltheory import boltzmann as bz

SIGMA = (0.4, 1.8)  # GRBM standard deviations away from 1: a dropped sigma^2 must not go unnoticed


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _spins(k):
    return [torch.tensor(s, dtype=torch.float64) for s in itertools.product((-1.0, 1.0), repeat=k)]


def _binary_brute(model):
    """log Z and means of a binary RBM by a double loop over every (v, h)."""
    weights, vs, hs = [], [], []
    for v in _spins(model.W.shape[0]):
        for h in _spins(model.W.shape[1]):
            weights.append(float(model.b @ v + model.c @ h + v @ model.W @ h))
            vs.append(v)
            hs.append(h)
    w = np.exp(np.array(weights))
    z = w.sum()
    return math.log(z), (w @ torch.stack(vs).numpy()) / z, (w @ torch.stack(hs).numpy()) / z


@pytest.mark.parametrize("shape", [(3, 2), (2, 4), (4, 4)])
def test_exact_binary_matches_brute_force(shape):
    # enumeration of one layer with the other summed out == the plain double loop over all states
    model = bz.random_rbm(*shape, 1.2, field=0.5, generator=_gen(1))
    ex = bz.exact(model)
    log_z, mv, mh = _binary_brute(model)
    np.testing.assert_allclose(ex.log_z.item(), log_z, rtol=1e-12)
    np.testing.assert_allclose(ex.mean_v.numpy(), mv, atol=1e-12)
    np.testing.assert_allclose(ex.mean_h.numpy(), mh, atol=1e-12)


def test_exact_chunking_does_not_change_the_result():
    # summing 2^10 hidden states in chunks of 7 gives the same numbers as one chunk
    model = bz.random_grbm(6, 10, 1.5, field=0.3, generator=_gen(2))
    a, b = bz.exact(model), bz.exact(model, chunk=7)
    torch.testing.assert_close(a.log_z, b.log_z, rtol=1e-12, atol=0)
    torch.testing.assert_close(a.mean_h, b.mean_h, rtol=0, atol=1e-12)


def test_exact_grbm_matches_numerical_integration():
    # one Gaussian visible unit: log Z = log sum_h int exp(-E(v, h)) dv by quadrature
    model = bz.random_grbm(1, 3, 1.0, field=0.4, generator=_gen(3))
    model = model._replace(sigma=torch.tensor([0.7], dtype=torch.float64))
    W, b, c, s = (t.numpy() for t in model)
    z, zv = 0.0, 0.0
    for h in itertools.product((-1.0, 1.0), repeat=3):
        h = np.array(h)

        def density(v, h=h):
            return math.exp(-(v**2 / (2 * s[0] ** 2) - b[0] * v - c @ h - v * (W[0] @ h)))

        z += integrate.quad(density, -30, 30, epsabs=0, epsrel=1e-12)[0]
        zv += integrate.quad(lambda v, h=h: v * density(v, h), -30, 30, epsabs=0, epsrel=1e-12)[0]
    ex = bz.exact(model)
    np.testing.assert_allclose(ex.log_z.item(), math.log(z), rtol=1e-10)
    np.testing.assert_allclose(ex.mean_v.item(), zv / z, rtol=1e-8)


def test_grbm_pairwise_reproduces_the_marginal():
    # exp(h^T J h / 2 + f^T h + const) summed over h gives the same log Z as exact(), at unequal variances
    model = bz.random_grbm(5, 4, 1.3, field=0.3, sigma=SIGMA, generator=_gen(4))
    J, f, const = bz.grbm_pairwise(model)
    logw = torch.stack([0.5 * h @ J @ h + f @ h for h in _spins(4)])
    np.testing.assert_allclose((torch.logsumexp(logw, 0) + const).item(), bz.exact(model).log_z.item(), rtol=1e-12)


def _brute_free_energy(model, mean_v, mean_h):
    """E_q E - H(q) for independent spins, by explicit sums over every (v, h) of a binary RBM."""
    total = 0.0
    for v in _spins(model.W.shape[0]):
        for h in _spins(model.W.shape[1]):
            q = torch.prod((1 + v * mean_v) / 2) * torch.prod((1 + h * mean_h) / 2)
            energy = -(model.b @ v + model.c @ h + v @ model.W @ h)
            total += float(q * (energy + torch.log(q)))
    return total


def test_free_energy_full_binary_matches_brute_force():
    # the closed form of F_full equals the explicit sum over all states of q (E + log q)
    g = _gen(5)
    model = bz.random_rbm(3, 3, 1.0, field=0.5, generator=g)
    mv, mh = (torch.rand(3, dtype=torch.float64, generator=g) * 1.6 - 0.8 for _ in range(2))
    np.testing.assert_allclose(bz.free_energy_full(model, mv, mh).item(), _brute_free_energy(model, mv, mh),
                               rtol=1e-12)


def _grbm(*args, **kwargs):
    return bz.random_grbm(*args, sigma=SIGMA, **kwargs)


@pytest.mark.parametrize("make", [_grbm, bz.random_rbm])
def test_identity_full_equals_marginal_plus_expected_kl(make):
    # F_full[q_v q_h] = F_m[q_kept] + E KL(q_summed || P(summed | kept)) at arbitrary product distributions
    g = _gen(6)
    for _ in range(5):
        model = make(5, 4, 1.5, field=0.4, generator=g)
        mv = torch.rand(5, dtype=torch.float64, generator=g) * 1.8 - 0.9
        mh = torch.rand(4, dtype=torch.float64, generator=g) * 1.8 - 0.9
        kept = mh if make is _grbm else mv
        lhs = bz.free_energy_full(model, mv, mh)
        rhs = bz.free_energy_marginal(model, kept) + bz.expected_conditional_kl(model, mv, mh)
        torch.testing.assert_close(lhs, rhs, rtol=1e-12, atol=1e-12)
        assert bz.expected_conditional_kl(model, mv, mh) >= 0


def test_free_energy_full_grbm_matches_quadrature():
    # one Gaussian visible unit with sigma != 1: E_q E - H(q) by quadrature over v and a sum over h, with
    # q(v) = N(mu, sigma^2) and independent hidden spins
    model = bz.random_grbm(1, 3, 1.2, field=0.4, sigma=(0.6, 0.6), generator=_gen(15))
    W, b, c, s = (t.numpy() for t in model)
    mu, mh = 0.37, np.array([0.2, -0.6, 0.5])
    total = 0.0
    for spins in itertools.product((-1.0, 1.0), repeat=3):
        h = np.array(spins)
        qh = np.prod((1 + h * mh) / 2)

        def integrand(v, h=h):
            qv = math.exp(-((v - mu) ** 2) / (2 * s[0] ** 2)) / math.sqrt(2 * math.pi * s[0] ** 2)
            energy = v**2 / (2 * s[0] ** 2) - b[0] * v - c @ h - v * (W[0] @ h)
            return qv * (energy + math.log(qv))

        total += qh * (integrate.quad(integrand, mu - 12 * s[0], mu + 12 * s[0], epsabs=0, epsrel=1e-12)[0]
                       + math.log(qh))
    got = bz.free_energy_full(model, torch.tensor([mu], dtype=torch.float64), torch.tensor(mh))
    np.testing.assert_allclose(got.item(), total, rtol=1e-10)


def test_compare_routes_orders_the_constructive_route():
    # the constructive marginal route is never above the full route and never below -log Z; with no couplings
    # every route is exact
    g = _gen(16)
    for make in (_grbm, bz.random_rbm):
        for coupling in (0.5, 2.5):
            r = bz.compare_routes(make(6, 5, coupling, field=0.3, generator=g), n_restarts=2, generator=g)
            assert r.neg_log_z <= r.f_constructive + 1e-10 <= r.f_full + 2e-10
            assert r.neg_log_z <= r.f_marginal + 1e-10
        r = bz.compare_routes(make(6, 5, 0.0, field=0.3, generator=g))
        np.testing.assert_allclose([r.f_full, r.f_marginal, r.err_kept_full, r.err_kept_marginal],
                                   [r.neg_log_z, r.neg_log_z, 0, 0], atol=1e-10)


def test_expected_kl_binary_matches_brute_force():
    # E_{q(v)} KL(q(h) || P(h|v)) by explicit sums over v and h
    g = _gen(7)
    model = bz.random_rbm(3, 2, 1.2, field=0.4, generator=g)
    mv, mh = torch.tensor([0.3, -0.5, 0.1], dtype=torch.float64), torch.tensor([0.6, -0.2], dtype=torch.float64)
    total = 0.0
    for v in _spins(3):
        qv = float(torch.prod((1 + v * mv) / 2))
        a = model.c + model.W.T @ v
        for h in _spins(2):
            qh = float(torch.prod((1 + h * mh) / 2))
            p = float(torch.prod(torch.exp(h * a) / (2 * torch.cosh(a))))
            total += qv * qh * math.log(qh / p)
    np.testing.assert_allclose(bz.expected_conditional_kl(model, mv, mh).item(), total, rtol=1e-12)


@pytest.mark.parametrize("make", [_grbm, bz.random_rbm])
def test_gibbs_inequality_on_random_models(make):
    # -log Z <= F_m[q] <= F_full[q] for any product q (here: the mean-field fixed points and random q)
    g = _gen(8)
    for coupling in (0.3, 1.0, 2.0):
        model = make(6, 5, coupling, field=0.3, generator=g)
        neg_log_z = -bz.exact(model).log_z
        full = bz.mean_field(model)
        kept = full.mean_h if make is _grbm else full.mean_v
        f_marg = bz.free_energy_marginal(model, kept)
        assert neg_log_z <= f_marg + 1e-12 <= full.free_energy + 2e-12


def test_mean_field_exact_without_couplings():
    # W = 0: mean field is exact, m = tanh(field), and F = -log Z
    model = bz.random_rbm(4, 3, 0.0, field=0.7, generator=_gen(9))
    ex, mf, mm = bz.exact(model), bz.mean_field(model), bz.marginal_mean_field(model)
    for r in (mf, mm):
        torch.testing.assert_close(r.mean_v, torch.tanh(model.b), rtol=0, atol=1e-12)
        torch.testing.assert_close(r.free_energy, -ex.log_z, rtol=0, atol=1e-12)


@pytest.mark.parametrize("which", ["full", "marginal"])
@pytest.mark.parametrize("make", [_grbm, bz.random_rbm])
def test_mean_field_is_a_minimum_of_the_free_energy(make, which):
    # the fixed point is where L-BFGS, started there over atanh(means), finds no lower free energy,
    # and L-BFGS from zero (weak coupling: one minimum) lands on the same means
    model = make(5, 4, 0.5, field=0.3, generator=_gen(10))
    gauss = make is _grbm
    if which == "full":
        res = bz.mean_field(model)
        x0, size = res.mean_h, 4

        def objective(mh):  # the visible block at its exact minimiser given mh, as at the fixed point
            field = model.b + model.W @ mh
            return bz.free_energy_full(model, model.sigma**2 * field if gauss else torch.tanh(field), mh)
    else:
        res = bz.marginal_mean_field(model)
        x0, size = (res.mean_h, 4) if gauss else (res.mean_v, 5)

        def objective(m):
            return bz.free_energy_marginal(model, m)

    def f(x):
        return objective(torch.tanh(torch.tensor(x, dtype=torch.float64))).item()

    direct = optimize.minimize(f, np.zeros(size), method="L-BFGS-B", options=dict(ftol=1e-15, gtol=1e-12))
    np.testing.assert_allclose(np.tanh(direct.x), x0.numpy(), atol=1e-5)
    assert res.free_energy.item() <= direct.fun + 1e-12


@pytest.mark.parametrize("make", [bz.random_grbm, bz.random_rbm])
def test_damping_reaches_the_same_fixed_point(make):
    # damping changes the path, not the fixed point; both runs meet the tolerance before max_iter, and damping
    # takes more sweeps (the binary RBM's marginal route has its own coordinate sweep, the Gaussian one Ising's)
    model = make(6, 5, 0.6, field=0.3, generator=_gen(11))
    a, b = bz.marginal_mean_field(model), bz.marginal_mean_field(model, damping=0.5)
    torch.testing.assert_close(a.mean_v, b.mean_v, rtol=0, atol=1e-9)
    torch.testing.assert_close(a.mean_h, b.mean_h, rtol=0, atol=1e-9)
    assert a.converged and b.converged
    assert a.n_iter < b.n_iter < 1000


def test_non_convergence_warns_naming_the_setting():
    model = bz.random_grbm(6, 5, 1.5, field=0.3, generator=_gen(12))
    with pytest.warns(RuntimeWarning, match="max_iter"):
        bz.mean_field(model, max_iter=1)


def test_restarts_never_raise_the_free_energy():
    # the best of zero + random starts is at most the zero start
    g = _gen(13)
    model = bz.random_rbm(6, 4, 2.0, field=0.3, generator=g)
    single, multi = bz.marginal_mean_field(model), bz.marginal_mean_field(model, n_restarts=5, generator=g)
    assert multi.free_energy <= single.free_energy


@pytest.mark.slow
def test_exact_two_to_the_twenty_states_in_seconds():
    # 2^20 hidden states: finite, and mean_h inside [-1, 1]
    import time

    model = bz.random_grbm(8, 20, 0.5, generator=_gen(14))
    t = time.perf_counter()
    ex = bz.exact(model)
    assert time.perf_counter() - t < 20
    assert torch.isfinite(ex.log_z) and ex.mean_h.abs().max() <= 1


# ---- deep Boltzmann machines and the pretraining bound ----


def _random_dbm(sizes, seed, scale=0.7):
    g = _gen(seed)
    w = tuple(scale * torch.randn(a, b, generator=g, dtype=torch.float64) for a, b in itertools.pairwise(sizes))
    return bz.DBM(w, tuple(scale * torch.randn(n, generator=g, dtype=torch.float64) for n in sizes))


def _dbm_brute(dbm):
    """log P(v) for every v by a loop over every joint state of every layer."""
    sizes = [b.numel() for b in dbm.biases]
    unnorm = {}
    for v in _spins(sizes[0]):
        terms = []
        for rest in itertools.product(*(_spins(n) for n in sizes[1:])):
            xs = [v, *rest]
            e = sum(b @ x for b, x in zip(dbm.biases, xs, strict=True)) + sum(
                xs[i] @ dbm.weights[i] @ xs[i + 1] for i in range(len(dbm.weights)))
            terms.append(e)
        unnorm[tuple(v.tolist())] = torch.logsumexp(torch.stack(terms), 0)
    log_z = torch.logsumexp(torch.stack(list(unnorm.values())), 0)
    return {k: u - log_z for k, u in unnorm.items()}, log_z


@pytest.mark.parametrize("sizes", [(3, 2, 3), (2, 3, 2, 2), (3, 2, 2, 2, 2)])
def test_dbm_exact_matches_brute_force(sizes):
    # odd layers enumerated, even layers summed analytically == a loop over every state of every layer
    dbm = _random_dbm(sizes, seed=20)
    brute, log_z = _dbm_brute(dbm)
    torch.testing.assert_close(bz.dbm_log_partition(dbm), log_z, rtol=1e-12, atol=0)
    v = bz.spin_states(sizes[0])
    expected = torch.stack([brute[tuple(x.tolist())] for x in v])
    torch.testing.assert_close(bz.dbm_log_likelihood(dbm, v), expected, rtol=1e-12, atol=1e-12)


def test_rbm_posterior_is_the_joint_over_the_marginal():
    # P(h | v) = P(v, h) / P(v), by brute force over every (v, h) of a small RBM
    model = bz.random_rbm(3, 2, 1.3, field=0.5, generator=_gen(23))
    v = bz.spin_states(3)
    states, post = bz.rbm_posterior(model, v)
    for i, vi in enumerate(v):
        joint = torch.stack([torch.exp(model.b @ vi + model.c @ h + vi @ model.W @ h) for h in states])
        torch.testing.assert_close(post[:, i], joint / joint.sum(), rtol=1e-12, atol=1e-14)


def test_two_layer_dbm_is_an_rbm():
    # a DBM with one hidden layer is an RBM: same log-likelihood
    model = bz.random_rbm(4, 3, 1.0, field=0.4, generator=_gen(21))
    dbm = bz.DBM((model.W,), (model.b, model.c))
    v = bz.spin_states(4)
    torch.testing.assert_close(bz.dbm_log_likelihood(dbm, v), bz.rbm_log_likelihood(model, v), rtol=1e-12, atol=1e-12)


def test_compose_dbm_energy_is_the_mean_of_the_two_rbm_energies():
    # -E_DBM(v, h1, h2) = (-E_A(v, h1) - E_B(h1, h2)) / 2 on random states
    g = _gen(22)
    a, b = bz.random_rbm(4, 3, 1.0, field=0.5, generator=g), bz.random_rbm(3, 2, 1.0, field=0.5, generator=g)
    dbm = bz.compose_dbm(a, b)
    for v, h1, h2 in zip(_spins(4)[:5], _spins(3)[:5], _spins(2) * 2, strict=False):
        e_dbm = (dbm.biases[0] @ v + dbm.biases[1] @ h1 + dbm.biases[2] @ h2
                 + v @ dbm.weights[0] @ h1 + h1 @ dbm.weights[1] @ h2)
        e_a = a.b @ v + a.c @ h1 + v @ a.W @ h1
        e_b = b.b @ h1 + b.c @ h2 + h1 @ b.W @ h2
        torch.testing.assert_close(e_dbm, (e_a + e_b) / 2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_pretraining_bounds_never_exceed_the_exact_likelihood(seed):
    # layerwise <= cluster <= exact log P_DBM(v) for every v, and log Z <= its cluster upper bound
    g = _gen(30 + seed)
    a, b = bz.random_rbm(5, 4, 1.5, field=0.5, generator=g), bz.random_rbm(4, 3, 1.5, field=0.5, generator=g)
    v = bz.spin_states(5)
    bound = bz.pretraining_bound(a, b, v)
    dbm = bz.compose_dbm(a, b)
    exact_ll = bz.dbm_log_likelihood(dbm, v)
    assert bz.dbm_log_partition(dbm) <= bound.log_z_upper + 1e-12
    assert torch.all(bound.layerwise <= bound.cluster + 1e-12)
    assert torch.all(bound.cluster <= exact_ll + 1e-12)


def test_layerwise_bound_rises_by_half_the_second_rbm_objective():
    # changing only the second RBM changes the bound by exactly half the change in E_{Q1} log P_B(h1)
    g = _gen(40)
    a = bz.random_rbm(5, 3, 1.0, field=0.3, generator=g)
    b0, b1 = (bz.random_rbm(3, 2, 1.0, field=0.3, generator=g) for _ in range(2))
    v = bz.spin_states(5)[:7]
    h1 = bz.spin_states(3)
    q = torch.exp(h1 @ (a.c + v @ a.W).T - torch.log(2 * torch.cosh(a.c + v @ a.W)).sum(1))  # (8, 7)

    def objective(b):
        return (q.mean(1) * bz.rbm_log_likelihood(b, h1)).sum()

    delta = bz.pretraining_bound(a, b1, v).layerwise.mean() - bz.pretraining_bound(a, b0, v).layerwise.mean()
    torch.testing.assert_close(delta, 0.5 * (objective(b1) - objective(b0)), rtol=1e-10, atol=1e-12)


def test_fit_rbm_raises_the_likelihood_of_weighted_states():
    # exact-gradient training on a distribution over states increases its expected log-likelihood
    g = _gen(41)
    states = bz.spin_states(4)
    w = torch.rand(16, generator=g, dtype=torch.float64) ** 4
    w = w / w.sum()
    start = bz.random_rbm(4, 3, 0.1, field=0.0, generator=g)
    fitted = bz.fit_rbm(start, states, weights=w, steps=200)
    assert (w * bz.rbm_log_likelihood(fitted, states)).sum() > (w * bz.rbm_log_likelihood(start, states)).sum() + 0.05


def test_pretraining_bound_closed_form_at_zero_coupling():
    # all couplings and biases zero: the DBM is uniform (log P = -n0 log 2) and, with Q1 uniform and P_B uniform,
    # the layer-wise bound is -(n0 + n2/2 + n1/2 - n1/2) log 2 = -(n0 + n2/2) log 2 exactly; cluster bound exact
    n0, n1, n2 = 4, 3, 2
    z = torch.zeros
    a = bz.RBM(z(n0, n1, dtype=torch.float64), z(n0, dtype=torch.float64), z(n1, dtype=torch.float64))
    b = bz.RBM(z(n1, n2, dtype=torch.float64), z(n1, dtype=torch.float64), z(n2, dtype=torch.float64))
    v = bz.spin_states(n0)
    bound = bz.pretraining_bound(a, b, v)
    log2 = torch.log(torch.tensor(2.0, dtype=torch.float64))
    torch.testing.assert_close(bound.cluster, torch.full((2**n0,), -n0 * log2.item(), dtype=torch.float64))
    torch.testing.assert_close(bound.layerwise, torch.full((2**n0,), -(n0 + n2 / 2) * log2.item(),
                                                           dtype=torch.float64))


def test_aggregated_posterior_is_the_mean_of_brute_force_posteriors():
    # q(h1) = mean_n P_A(h1 | v_n), each posterior from the joint by enumeration over h1
    g = _gen(42)
    a = bz.random_rbm(4, 3, 0.8, field=0.4, generator=g)
    v = bz.spin_states(4)[[0, 5, 9]]
    h1, q = bz.aggregated_posterior(a, v)
    joint = torch.exp(v @ a.b[:, None] + (h1 @ a.c)[None] + v @ a.W @ h1.T)  # (3, 8), unnormalised
    torch.testing.assert_close(q, (joint / joint.sum(1, keepdim=True)).mean(0), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(q.sum(), torch.tensor(1.0, dtype=torch.float64))


def test_pretraining_stage_two_gains_half_and_a_scrambled_target_loses_the_guarantee():
    # stage 2 raises the bound by half of B's gain on its target; on a scrambled target the identity ties the bound
    # to the wrong objective, so over a few seeds the bound falls at least once
    v = bz.spin_states(5)[::3]
    run = bz.pretrain(v, 3, 2, steps=60, lr=0.05, init_scale=0.01, generator=_gen(43))
    assert run.stage2.layerwise - run.stage1.layerwise == pytest.approx(run.second_gain / 2, abs=1e-9)
    assert run.second_gain > 0 and run.stage2.bounds_hold
    g = _gen(44)
    scrambled = [bz.pretrain(v, 3, 2, steps=60, lr=0.05, init_scale=0.01, generator=g, scramble_target=True)
                 for _ in range(4)]
    assert any(r.stage2.layerwise < r.stage1.layerwise for r in scrambled)


def test_dbn_start_has_the_first_rbm_marginal_on_the_middle_layer():
    # B = A^T: P_B(h1) = P_A(h1), both marginals by a double loop over every (v, h1) and (h1, h2)
    a = bz.random_rbm(4, 3, 1.3, field=0.6, generator=_gen(50))
    b = bz.dbn_start(a)

    def middle_marginal(weight):  # weight(x, h1) unnormalised -> P(h1)
        m = torch.stack([torch.stack([weight(x, h) for x in _spins(4)]).sum() for h in _spins(3)])
        return m / m.sum()

    p_a = middle_marginal(lambda v, h: torch.exp(a.b @ v + a.c @ h + v @ a.W @ h))
    p_b = middle_marginal(lambda h2, h: torch.exp(b.b @ h + b.c @ h2 + h @ b.W @ h2))
    torch.testing.assert_close(p_b, p_a, rtol=1e-12, atol=1e-14)


def test_stage_slacks_are_the_smallest_gaps_to_brute_force_likelihood():
    # layerwise_slack and cluster_slack = min over patterns of (exact - bound), exact by a loop over every state
    g = _gen(51)
    a, b = bz.random_rbm(4, 3, 1.5, field=0.5, generator=g), bz.random_rbm(3, 2, 1.5, field=0.5, generator=g)
    v = bz.spin_states(4)[[1, 6, 11, 14]]
    brute, _ = _dbm_brute(bz.compose_dbm(a, b))
    exact_ll = torch.stack([brute[tuple(x.tolist())] for x in v])
    bound = bz.pretraining_bound(a, b, v)
    stage = bz.evaluate(a, b, v)
    np.testing.assert_allclose(stage.layerwise_slack, (exact_ll - bound.layerwise).min().item(), rtol=1e-10)
    np.testing.assert_allclose(stage.cluster_slack, (exact_ll - bound.cluster).min().item(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(stage.exact, exact_ll.mean().item(), rtol=1e-12)
    assert stage.bounds_hold and stage.layerwise_slack >= stage.cluster_slack >= 0


def test_second_stage_from_the_dbn_start_gains_half_and_pretrain_composes_the_stages():
    # the bound rises by half of B's gain from the DBN start too; pretrain == first_stage then second_stage from
    # independent_start on the same stream
    v = bz.spin_states(5)[::3]
    kw = dict(steps=40, lr=0.05)
    a0, a = bz.first_stage(v, 3, init_scale=0.01, generator=_gen(52), **kw)
    run = bz.second_stage(a0, a, v, bz.dbn_start, **kw)
    assert run.stage2.layerwise - run.stage1.layerwise == pytest.approx(run.second_gain / 2, abs=1e-9)
    assert run.second.W.shape == (3, 5) and run.stage2.bounds_hold
    g = _gen(53)
    direct = bz.pretrain(v, 3, 2, init_scale=0.01, generator=_gen(53), **kw)
    a0, a = bz.first_stage(v, 3, init_scale=0.01, generator=g, **kw)
    composed = bz.second_stage(a0, a, v, lambda f: bz.independent_start(f, v, 2, init_scale=0.01, generator=g), **kw)
    assert composed.stage2 == direct.stage2 and composed.untrained == direct.untrained


def test_compare_routes_keeps_the_zero_start_runs():
    # the *_zero fields are single runs from all-zero means, and the best of several starts is never worse
    g = _gen(54)
    for model in (_grbm(6, 5, 2.0, field=0.3, generator=g), bz.random_rbm(6, 5, 2.5, field=0.3, generator=g)):
        r = bz.compare_routes(model, n_restarts=3, generator=g)
        full, marg = bz.mean_field(model), bz.marginal_mean_field(model)
        kept = full.mean_h if isinstance(model, bz.GaussianRBM) else full.mean_v
        ex = bz.exact(model)
        np.testing.assert_allclose([r.f_full_zero, r.f_marginal_zero], [full.free_energy.item(),
                                                                        marg.free_energy.item()], rtol=1e-12)
        np.testing.assert_allclose(r.f_constructive_zero, bz.marginal_mean_field(model, init=kept).free_energy.item(),
                                   rtol=1e-12)
        hidden_error = r.err_summed_marginal_zero if isinstance(model, bz.RBM) else r.err_kept_marginal_zero
        np.testing.assert_allclose(hidden_error, (marg.mean_h - ex.mean_h).abs().mean().item(), rtol=1e-12)
        assert r.f_full <= r.f_full_zero + 1e-12 and r.f_marginal <= r.f_marginal_zero + 1e-12
