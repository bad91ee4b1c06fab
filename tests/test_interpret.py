"""Tests of dltheory.interpret: mutual information from Gaussian mixtures against closed forms and a known
mixture, and mean-field inverse inference against exact enumeration."""

import itertools
import warnings

import numpy as np
import pytest
import torch
from scipy import integrate
from scipy.stats import multivariate_normal

from dltheory import interpret, nets


# the closed form agrees with entropies computed by scipy: I = H(x) + H(y) - H(x, y)
def test_gaussian_mutual_information_entropies():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5))
    cov = a @ a.T + 0.5 * np.eye(5)
    ix, iy = [0, 3], [1, 2, 4]

    def h(idx):
        return multivariate_normal(np.zeros(len(idx)), cov[np.ix_(idx, idx)]).entropy()

    np.testing.assert_allclose(interpret.gaussian_mutual_information(cov, ix, iy), h(ix) + h(iy) - h(ix + iy),
                               rtol=1e-12)


# on Gaussian pairs with unequal variances the estimator is within 0.05 nats (its spread at n = 1500 is ~0.02)
@pytest.mark.parametrize("rho", [0.35, 0.8])
def test_gmm_mutual_information_gaussian(rho):
    rng = np.random.default_rng(1)
    cov = np.array([[2.5, rho * np.sqrt(2.5 * 0.3)], [rho * np.sqrt(2.5 * 0.3), 0.3]])
    z = rng.multivariate_normal([1.0, -3.0], cov, size=1500)
    est = interpret.gmm_mutual_information(z[:, 0], z[:, 1], max_components=3, rng=rng)
    assert abs(est - (-0.5 * np.log(1 - rho**2))) < 0.05


# on a known two-component mixture (not Gaussian) the estimate matches the true MI computed from the true density
def test_diagonal_components_cannot_carry_dependence():
    # one diagonal Gaussian factorises, so its mutual information is exactly 0 on strongly correlated data;
    # with full covariances the same data give -log(1 - rho^2) / 2
    rng = np.random.default_rng(2)
    z = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=3000)
    diag = interpret.gmm_mutual_information(z[:, 0], z[:, 1], max_components=1, covariance_type="diag", rng=rng)
    full = interpret.gmm_mutual_information(z[:, 0], z[:, 1], max_components=1, rng=rng)
    assert abs(diag) < 1e-12
    assert full == pytest.approx(-0.5 * np.log(1 - 0.81), abs=0.05)


def test_gmm_mutual_information_known_mixture():
    rng = np.random.default_rng(2)
    means = [np.array([-1.5, 1.0]), np.array([1.5, -0.5])]
    covs = [np.array([[0.5, 0.3], [0.3, 0.6]]), np.array([[0.8, -0.2], [-0.2, 0.4]])]
    comps = [multivariate_normal(m, c) for m, c in zip(means, covs, strict=True)]
    margx = [multivariate_normal(m[0], c[0, 0]) for m, c in zip(means, covs, strict=True)]
    margy = [multivariate_normal(m[1], c[1, 1]) for m, c in zip(means, covs, strict=True)]

    def draw(n):
        k = rng.integers(0, 2, n)
        return np.where(k[:, None] == 0, comps[0].rvs(n, random_state=rng), comps[1].rvs(n, random_state=rng))

    big = draw(200000)
    pj = 0.5 * (comps[0].pdf(big) + comps[1].pdf(big))
    px = 0.5 * (margx[0].pdf(big[:, 0]) + margx[1].pdf(big[:, 0]))
    py = 0.5 * (margy[0].pdf(big[:, 1]) + margy[1].pdf(big[:, 1]))
    truth = np.mean(np.log(pj / (px * py)))  # Monte Carlo error ~0.003
    z = draw(2000)
    est = interpret.gmm_mutual_information(z[:, 0], z[:, 1], max_components=4, rng=rng)
    assert abs(est - truth) < 0.05


# the marginal of the fitted mixture integrates the joint over the other coordinate
def test_gmm_log_density_marginal_is_integral():
    rng = np.random.default_rng(3)
    z = np.vstack([rng.normal([0, 0], [1, 0.5], (300, 2)), rng.normal([3, 2], [0.6, 1.2], (300, 2))])
    gmm = interpret.fit_gmm(z, max_components=3, rng=rng)
    for x0 in (-1.0, 0.7, 3.2):
        joint = integrate.quad(lambda y, x0=x0: np.exp(gmm.score_samples(np.array([[x0, y]]))[0]), -15, 15)[0]
        np.testing.assert_allclose(np.exp(interpret.gmm_log_density(gmm, np.array([[x0]]), [0])[0]), joint,
                                   rtol=1e-6)


# an input that is independent of the data and ignored by the network shares (nearly) no information with it
def test_input_output_mi_ignored_input():
    rng = np.random.default_rng(4)
    g = torch.Generator().manual_seed(4)
    x = rng.standard_normal((400, 3))
    net = interpret.ignore_input(nets.mlp([3, 8, 2], activation=torch.nn.Tanh, generator=g, dtype=torch.float64), 2)
    with torch.no_grad():
        y = net(torch.as_tensor(x)).numpy()
    table = interpret.input_output_mi(x, y, max_components=3, n_mc=3000, rng=rng)
    assert table.shape == (3, 2)
    assert np.all(table[2] < 0.04)
    assert np.all(table[2] < table[:2].max(0))


# exact enumeration agrees with a hand-written Bayes rule over all 2^4 inputs
def test_exact_inverse_brute_force():
    g = torch.Generator().manual_seed(5)
    net = nets.mlp([4, 5, 3], activation=torch.nn.Tanh, generator=g, dtype=torch.float64)
    prior = torch.tensor([0.3, -1.2, 0.8, 0.0], dtype=torch.float64)
    p = torch.sigmoid(prior)
    num, den = torch.zeros(4, dtype=torch.float64), 0.0
    for bits in itertools.product([0.0, 1.0], repeat=4):
        x = torch.tensor(bits, dtype=torch.float64)
        w = torch.softmax(net(x[None]), 1)[0, 2] * torch.prod(torch.where(x > 0, p, 1 - p))
        num, den = num + w * x, den + w
    torch.testing.assert_close(interpret.exact_inverse(net, 2, prior), (num / den).detach(), rtol=0, atol=1e-12)


def _tiny(scale, seed=6):
    g = torch.Generator().manual_seed(seed)
    net = nets.mlp([10, 6, 4], activation=torch.nn.Tanh, generator=g, dtype=torch.float64)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(scale)
    return net


# mean field approaches the exact posterior marginals as the network's weights shrink. Scaling both layers by s
# scales the input-to-output gain by s^2, and the plug-in error is second order in that gain: O(s^4)
def test_mean_field_inverse_against_exact():
    prior = torch.linspace(-1.0, 1.0, 10, dtype=torch.float64)
    errors = []
    for scale in (1.0, 0.5, 0.25):
        net = _tiny(scale)
        mf = interpret.mean_field_inverse(net, 1, prior, damping=0.5, tol=1e-12)
        assert mf.converged
        errors.append((mf.mean - interpret.exact_inverse(net, 1, prior)).abs().max().item())
    assert errors[0] < 0.1
    # halving the scale cuts the error about sixteenfold
    assert 10 < errors[1] / errors[2] < 24, errors


# with zero weights the posterior is the prior, and mean field finds it exactly
def test_mean_field_inverse_zero_network():
    net = _tiny(0.0)
    prior = torch.tensor([0.5, -2.0, 1.0, 0.1, -0.3, 0.0, 2.0, -1.0, 0.4, 0.9], dtype=torch.float64)
    torch.testing.assert_close(interpret.mean_field_inverse(net, 0, prior).mean, torch.sigmoid(prior))
    torch.testing.assert_close(interpret.exact_inverse(net, 0, prior), torch.sigmoid(prior))


# non-convergence warns and names the setting; the prior logit of a pixel frequency is its log-odds
def test_mean_field_inverse_warns_and_prior():
    net = _tiny(1.0)
    with pytest.warns(RuntimeWarning, match="n_iter"):
        interpret.mean_field_inverse(net, 0, torch.zeros(10, dtype=torch.float64), n_iter=1)
    x = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    torch.testing.assert_close(interpret.bernoulli_prior_logit(x, pseudo_count=1.0),
                               torch.log(torch.tensor([3 / 2, 2 / 3])))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert 0.99 < interpret.ambiguity(torch.full((5,), 0.5)) <= 1.0
