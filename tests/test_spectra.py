"""dltheory.spectra: the Marchenko–Pastur density and distribution function against quadrature, its moments and a
large simulation, the KS distance against scipy's, and the Jacobian helpers on cases with known answers."""

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from dltheory import spectra as sp

RATIOS = [0.3, 1.0, 2.5]


@pytest.mark.parametrize("ratio", RATIOS)
def test_pdf_mass(ratio):
    # the continuous part carries mass min(1, 1/ratio)
    a, b = sp.marchenko_pastur_support(ratio, scale=1.7)
    mass, _ = integrate.quad(lambda t: sp.marchenko_pastur_pdf(np.array(t), ratio, scale=1.7), a, b, limit=200)
    assert mass == pytest.approx(min(1.0, 1.0 / ratio), abs=1e-7)


@pytest.mark.parametrize("ratio", RATIOS)
def test_cdf_is_integral_of_pdf(ratio):
    # our closed-form distribution function equals the atom plus the numerical integral of the density
    scale = 0.6
    a, b = sp.marchenko_pastur_support(ratio, scale=scale)
    atom = max(0.0, 1 - 1 / ratio)
    for x in np.linspace(a, b, 9)[1:-1]:
        q, _ = integrate.quad(lambda t: sp.marchenko_pastur_pdf(np.array(t), ratio, scale=scale), a, x, limit=200)
        assert sp.marchenko_pastur_cdf(np.array(x), ratio, scale=scale) == pytest.approx(atom + q, abs=1e-7)
    edges = sp.marchenko_pastur_cdf(np.array([-1.0, a * 0.999 if a > 0 else -1e-9, b, 2 * b]), ratio, scale=scale)
    np.testing.assert_allclose(edges, [0.0, atom if a > 0 else 0.0, 1.0, 1.0], atol=1e-12)


def test_pdf_moments_closed_form():
    # mean sigma^2 and second moment sigma^4 (1 + ratio) of the law (ratio <= 1)
    ratio, scale = 0.4, 1.3
    a, b = sp.marchenko_pastur_support(ratio, scale=scale)
    m1, _ = integrate.quad(lambda t: t * sp.marchenko_pastur_pdf(np.array(t), ratio, scale=scale), a, b)
    m2, _ = integrate.quad(lambda t: t * t * sp.marchenko_pastur_pdf(np.array(t), ratio, scale=scale), a, b)
    assert m1 == pytest.approx(scale, rel=1e-7)
    assert m2 == pytest.approx(scale**2 * (1 + ratio), rel=1e-7)


@pytest.mark.parametrize("p,m", [(400, 800), (600, 300)])
def test_large_simulation_fits_law(p, m):
    # Gaussian entries of variance 1.69: KS to the law well below 0.05, and eigenvalue moments within 1%
    rng = np.random.default_rng(7)
    e = sp.gram_eigenvalues(1.3 * rng.standard_normal((p, m)))
    assert e.shape == (p,) and e.min() >= 0
    assert sp.ks_distance(e, p / m, scale=1.69) < 0.02
    assert e.mean() == pytest.approx(1.69, rel=0.01)


def test_ks_matches_scipy():
    # for a continuous law our KS distance is scipy's one-sample KS statistic
    rng = np.random.default_rng(8)
    e = sp.gram_eigenvalues(rng.standard_normal((150, 300)))
    ref = stats.kstest(e, lambda x: sp.marchenko_pastur_cdf(x, 0.5)).statistic
    assert sp.ks_distance(e, 0.5) == pytest.approx(ref, abs=1e-12)
    # a wrong scale must be detected
    assert sp.ks_distance(e, 0.5, scale=1.5) > 0.1


def test_structured_matrices_fail_the_law():
    rng = np.random.default_rng(9)
    for w in (sp.heavy_tailed_matrix(256, 512, df=1.5, rng=rng),
              sp.low_rank_plus_noise(256, 512, rank=8, strength=1.0, rng=rng)):
        assert sp.ks_distance(sp.gram_eigenvalues(w), 0.5, scale=float((w**2).mean())) > 0.1


def test_jacobian_and_singular_values():
    # the Jacobian of x -> A x is A; singular values of diag(3, -2, 1) are (3, 2, 1)
    g = torch.Generator().manual_seed(10)
    lin = torch.nn.Linear(4, 3, dtype=torch.float64)
    x = torch.randn(4, generator=g, dtype=torch.float64)
    torch.testing.assert_close(sp.jacobian(lin, x), lin.weight.detach(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sp.singular_values(torch.diag(torch.tensor([3.0, -2.0, 1.0]))), [3, 2, 1])


@pytest.mark.parametrize("ratio", [0.5, 1.0])
def test_spike_eigenvalue_matches_a_large_simulation(ratio):
    # BBP: above the threshold the top eigenvalue of a large spiked matrix sits at the closed-form location,
    # below it at the bulk's edge: the mean of 4 draws within 3% (the outlier fluctuates by about 2% per draw
    # at this size, of order m^-1/2; below, the edge is approached from below at rate m^-2/3)
    m = 1000
    p = int(ratio * m)
    rng = np.random.default_rng(11)
    theta_c = sp.bbp_threshold(ratio)
    for theta in (0.6 * theta_c, 2.0 * theta_c):
        top = np.mean([sp.gram_eigenvalues(sp.spiked_matrix(p, m, strength=theta, rng=rng)).max() for _ in range(4)])
        assert top == pytest.approx(sp.spike_eigenvalue(theta, ratio), rel=0.03)
    # continuity at the threshold: the outlier meets the edge
    edge = sp.marchenko_pastur_support(ratio).high
    assert sp.spike_eigenvalue(theta_c * (1 + 1e-9), ratio) == pytest.approx(edge, rel=1e-6)
    assert sp.spike_eigenvalue(2.0 * theta_c, ratio) > 1.1 * edge


def test_count_outliers_tells_spikes_below_and_above_the_threshold():
    # a pure noise matrix and a subcritical spike have no outlier 4 Tracy-Widom scales out; a supercritical one has one
    rng = np.random.default_rng(12)
    p = m = 400
    counts = [sp.count_outliers(sp.gram_eigenvalues(sp.spiked_matrix(p, m, strength=t, rng=rng)), p, m)
              for t in (0.0, 0.6, 2.0)]
    assert counts == [0, 0, 1]
    # the Tracy-Widom scale of a square matrix is 2^(4/3) m^(-2/3)
    assert sp.tracy_widom_scale(m, m) == pytest.approx(2 ** (4 / 3) * m ** (-2 / 3), rel=1e-12)
    # entries of variance s scale every eigenvalue, the edge and the fluctuations by s: the same counts
    for t in (0.0, 0.6, 2.0, 3.0):
        eig = sp.gram_eigenvalues(sp.spiked_matrix(p, m, strength=t, rng=np.random.default_rng(13)))
        assert sp.count_outliers(4.0 * eig, p, m, scale=4.0) == sp.count_outliers(eig, p, m)
    # the threshold is the edge plus k Tracy-Widom scales: eigenvalues just inside and just outside it
    edge, tw = sp.marchenko_pastur_support(p / m, scale=2.5).high, 2.5 * sp.tracy_widom_scale(p, m)
    assert sp.count_outliers(np.array([edge + 3.99 * tw, edge + 4.01 * tw]), p, m, scale=2.5) == 1
