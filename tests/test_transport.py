"""Tests of dltheory.transport against closed forms, invariants and the peer library POT."""

import numpy as np
import ot
import pytest

from dltheory import transport as tp

X = np.linspace(0, 1, 60)
M = tp.squared_distance_cost(X)
REG = 3e-3


def gauss(m, s):
    p = np.exp(-(X - m) ** 2 / (2 * s * s))
    return p / p.sum()


@pytest.fixture
def hists():
    return np.stack([gauss(0.3, 0.05), gauss(0.65, 0.08), gauss(0.5, 0.04)], 1)


def test_sinkhorn_matches_pot(hists):
    # same plan as POT's log-domain Sinkhorn, and exact marginals
    a, b = hists[:, 0], hists[:, 1]
    ours = tp.sinkhorn(a, b, M, REG).plan
    pot = ot.sinkhorn(a, b, M, REG, method="sinkhorn_log", stopThr=1e-14, numItermax=100_000)
    np.testing.assert_allclose(ours, pot, atol=1e-10)
    np.testing.assert_allclose(ours.sum(1), a, atol=1e-11)
    np.testing.assert_allclose(ours.sum(0), b, atol=1e-11)


def test_sinkhorn_absorbs_where_the_kernel_underflows(hists):
    # at reg 5e-4 exp(-M / reg) underflows to 0 far from the diagonal and the scalings overflow unless absorbed;
    # the plan must still match POT's pure log-domain iteration, and a zero bin of `a` must get no mass
    a = hists[:, 0].copy()
    a[:5] = 0
    a /= a.sum()
    b = hists[:, 2]
    assert np.exp(-M.max() / 5e-4) == 0
    ours = tp.sinkhorn(a, b, M, 5e-4, n_iter=100_000, tol=1e-11)
    pot = ot.sinkhorn(a, b, M, 5e-4, method="sinkhorn_log", stopThr=1e-14, numItermax=200_000)
    assert np.all(np.isfinite(ours.plan))
    np.testing.assert_allclose(ours.plan, pot, atol=1e-9)
    np.testing.assert_allclose(ours.plan.sum(0), b, atol=1e-10)
    assert ours.plan[:5].sum() < 1e-250


def test_logsumexp_matches_scipy():
    from scipy.special import logsumexp
    rng = np.random.default_rng(0)
    a = rng.normal(scale=300, size=(3, 7, 5))
    a[0, 2] = -np.inf  # a bin of zero mass
    for axis in range(3):
        np.testing.assert_allclose(tp.logsumexp(a, axis=axis), logsumexp(a, axis=axis), rtol=1e-14)


def test_blur_minimises_entropic_cost(hists):
    # C(p, .) is smallest at the blurred p: random histograms and small moves away from it all cost more
    rng = np.random.default_rng(3)
    p = hists[:, 0]
    pb = tp.blur(p, M, REG)
    best = tp.entropic_cost(p, pb, M, REG)
    for _ in range(5):
        q = rng.dirichlet(np.ones(len(X)))
        assert tp.entropic_cost(p, q, M, REG) > best
        mix = 0.97 * pb + 0.03 * q
        assert tp.entropic_cost(p, mix, M, REG) > best
    assert tp.entropic_cost(p, p, M, REG) > best  # hence C(p, p) is not the minimum


def test_corrected_divergence_is_a_divergence(hists):
    # D(p, p) = 0 and D(p, q) > 0 for q != p; the raw cost fails C(p, p) = 0
    rng = np.random.default_rng(4)
    for j in range(3):
        p = hists[:, j]
        assert abs(tp.corrected_divergence(p, p, M, REG)) < 1e-12
        assert abs(tp.entropic_cost(p, p, M, REG)) > 1e-3
        q = rng.dirichlet(np.ones(len(X)))
        assert tp.corrected_divergence(p, q, M, REG) > 0


def test_barycenter_ibp_matches_pot(hists):
    w = np.array([0.2, 0.5, 0.3])
    ours = tp.barycenter_ibp(hists, M, REG, weights=w)
    pot = ot.bregman.barycenter(hists, M, REG, weights=w, method="sinkhorn_log", stopThr=1e-14, numItermax=100_000)
    np.testing.assert_allclose(ours, pot, atol=1e-9)
    # first-order optimality: the weighted dual potentials of C(p_k, r) are constant on the support of r
    g = sum(w[k] * tp.sinkhorn(hists[:, k], ours, M, REG).g for k in range(3))
    assert np.ptp(g[ours > 1e-8]) < 1e-9


def test_barycenter_debiased_matches_pot(hists):
    w = np.array([0.2, 0.5, 0.3])
    ours = tp.barycenter_debiased(hists, M, REG, weights=w, tol=1e-11)
    pot = ot.bregman.barycenter_debiased(hists, M, REG, weights=w, stopThr=1e-11, numItermax=100_000,
                                         method="sinkhorn_log")
    np.testing.assert_allclose(ours, pot, atol=1e-6)


def test_debiased_barycenter_minimises_its_objective(hists):
    # the debiased barycenter is a minimiser of sum_k w_k C(p_k, q) - C(q, q) / 2: the plain entropic barycenter
    # and small random moves away from it (mass kept) all score higher
    ps = hists[:, :2]
    deb = tp.barycenter_debiased(ps, M, REG, tol=1e-11, n_iter=50_000)
    kw = dict(tol=1e-12, n_iter=100_000)
    best = tp.debiased_objective(ps, deb, M, REG, **kw)
    assert tp.debiased_objective(ps, tp.barycenter_ibp(ps, M, REG), M, REG, **kw) > best + 1e-6
    rng = np.random.default_rng(4)
    for _ in range(4):
        step = rng.normal(size=deb.size) * deb
        moved = np.clip(deb + 0.02 * (step - deb * step.sum() / deb.sum()), 1e-300, None)
        assert tp.debiased_objective(ps, moved, M, REG, **kw) > best


def test_deconvolve_inverts_blur(hists):
    # r = K~^T q0 is un-blurred back to q0
    q0 = hists[:, 2]
    np.testing.assert_allclose(tp.deconvolve(tp.blur(q0, M, REG), M, REG, n_iter=50_000, tol=1e-13), q0,
                               atol=2e-4)


def test_lp_barycenter_1d_gaussians_and_pot():
    # W2 barycenter of Gaussians: mean of means, mean of widths; the LP (ot.lp.barycenter) agrees on widths
    a, b = gauss(0.3, 0.05), gauss(0.65, 0.08)
    bar = tp.lp_barycenter_1d(X, np.stack([a, b], 1), weights=np.array([0.5, 0.5]))
    assert abs(tp.width(X, bar) - 0.5 * (tp.width(X, a) + tp.width(X, b))) < 2e-3
    lp = ot.lp.barycenter(np.stack([a, b], 1), M, weights=np.array([0.5, 0.5]))
    assert abs(tp.width(X, bar) - tp.width(X, lp)) < 3e-3
    # its mean is the weighted mean of the means (a cell-centred inverse CDF: no half-cell shift), and the
    # histograms' total masses do not matter
    assert np.dot(X, bar) == pytest.approx(0.5 * (np.dot(X, a) + np.dot(X, b)), abs=1e-6)
    bar_w = tp.lp_barycenter_1d(X, np.stack([a, b], 1), weights=np.array([0.8, 0.2]))
    assert np.dot(X, bar_w) == pytest.approx(0.8 * np.dot(X, a) + 0.2 * np.dot(X, b), abs=1e-6)
    np.testing.assert_allclose(tp.lp_barycenter_1d(X, np.stack([3 * a, 0.5 * b], 1), weights=np.array([0.5, 0.5])),
                               bar, atol=1e-12)


def two_bumps(c):
    # an asymmetric, non-Gaussian shape centred near c
    p = 0.6 * np.exp(-(X - c + 0.05) ** 2 / (2 * 0.03 ** 2)) + 0.4 * np.exp(-(X - c - 0.06) ** 2 / (2 * 0.045 ** 2))
    return p / p.sum()


def test_corrected_divergence_of_a_shift_is_its_square():
    # closed form: shifting a histogram by a costs exactly a^2 in D (as in W2^2), whatever its shape, because the
    # shifted plan is feasible, keeps its entropy and changes the quadratic cost by a^2 - 2a (mean p - mean p~) = a^2
    for shape in (lambda c: gauss(c, 0.05), two_bumps):
        for a in (0.1, 0.2):
            np.testing.assert_allclose(tp.corrected_divergence(shape(0.4), shape(0.4 + a), M, REG, tol=1e-11,
                                                               n_iter=100_000), a * a, rtol=1e-5)


def test_barycenter_of_translates_is_the_translate():
    # for the squared cost the linear terms of the shifts cancel in the barycenter objective, so the entropic
    # barycenter of translates is the blurred middle translate and the gap to the bound vanishes there; a
    # neighbouring shape (one more grid step of shift, or the blurred translate itself) leaves a positive gap
    ps = np.stack([two_bumps(0.3), two_bumps(0.7)], 1)
    kw = dict(tol=1e-11, n_iter=100_000)
    assert abs(tp.barycenter_gap(ps, two_bumps(0.5), M, REG, **kw)) < 1e-10
    assert tp.barycenter_gap(ps, two_bumps(0.5 + X[1]), M, REG, **kw) > 1e-5
    assert tp.barycenter_gap(ps, tp.blur(two_bumps(0.5), M, REG), M, REG, **kw) > 1e-5
    # the entropic barycenter itself is the blurred translate (to the iteration's tolerance)
    np.testing.assert_allclose(tp.barycenter_ibp(ps, M, REG), tp.blur(two_bumps(0.5), M, REG), atol=1e-9)


def test_test_histograms_have_their_stated_shape():
    # closed forms: a Gaussian bump away from the edges has its mean and sd; the ring's mass sits at its radius;
    # every pattern is a histogram (positive, unit mass)
    x = np.linspace(0, 1, 2001)
    p = tp.gaussian_histogram(x, 0.4, 0.05)
    assert p.sum() == pytest.approx(1) and float(p @ x) == pytest.approx(0.4, abs=1e-9)
    assert tp.width(x, p) == pytest.approx(0.05, rel=1e-6)
    b = tp.two_bumps(x, 0.5)
    assert float(b @ x) == pytest.approx(0.5 + 0.6 * -0.05 + 0.4 * 0.06, abs=1e-9)  # the bumps' weighted mean
    rng = np.random.default_rng(0)
    for _ in range(10):
        h = tp.random_histogram(x, rng)
        assert h.sum() == pytest.approx(1) and (h >= 0).all()
    g = (np.arange(64) + 0.5) / 64
    gx, gy = np.meshgrid(g, g, indexing="ij")
    ring = tp.ring_histogram(gx, gy, (0.5, 0.5)).reshape(64, 64)
    r = np.hypot(gx - 0.5, gy - 0.5)
    assert ring.sum() == pytest.approx(1) and ring[np.abs(r - 0.2) < 0.05].sum() > 1 - 1e-5
