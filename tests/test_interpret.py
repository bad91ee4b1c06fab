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


# the network's own reading of an input: for a linear map of correlated Gaussian inputs, input i drawn afresh from
# its marginal gives a jointly Gaussian (x~_i, y_k) with rho^2 = W_ik^2 S_ii / (W_ik^2 S_ii + w_-i' S_-i,-i w_-i),
# a closed form that differs from the mutual information over the (correlated) data
def test_input_output_mi_intervened_linear_gaussian_closed_form():
    rng = np.random.default_rng(7)
    s = np.array([[1.5, 0.9, 0.3], [0.9, 1.0, -0.2], [0.3, -0.2, 0.7]])
    w = np.array([[1.0, 0.2], [0.0, -1.3], [0.6, 0.5]])  # input 1 is ignored by output 0
    x = rng.multivariate_normal([0.5, -1.0, 2.0], s, size=2000)
    got = interpret.input_output_mi_intervened(lambda v: v @ w, x, max_components=1, n_mc=4000, n_perm=1, rng=rng)
    want = np.empty((3, 2))
    for i in range(3):
        rest = [j for j in range(3) if j != i]
        for k in range(2):
            signal = w[i, k] ** 2 * s[i, i]
            rho2 = signal / (signal + w[rest, k] @ s[np.ix_(rest, rest)] @ w[rest, k])
            want[i, k] = -0.5 * np.log(1 - rho2)
    # sampling sd of each estimate ~ rho / sqrt(2000) < 0.02; Monte Carlo sd over 4000 draws < 0.01
    np.testing.assert_allclose(got, want, atol=0.05)
    # over the data the ignored input 1 shares information with output 0 through its correlation with inputs 0 and
    # 2: there rho^2 = (S_1. w_.0)^2 / (S_11 w_.0' S w_.0) = 0.288, I = 0.170 nats
    observed = interpret.input_output_mi(x, x @ w, max_components=1, n_mc=4000, rng=rng)
    assert observed[1, 0] > want[1, 0] + 0.1


def _log_class_prob(net, target, m):
    with torch.no_grad():
        return torch.log_softmax(net(m[None]), dim=1)[0, target].item()


# the returned means solve the mean-field equation m_i = sigmoid(logit p_i + d log P(c|m) / d m_i), with the
# derivative taken by central finite differences (not by autograd, as the module does), at scale 1, a non-uniform
# prior, every class and two dampings (the damping changes the path, not the fixed point)
@pytest.mark.parametrize("damping", [0.3, 0.8])
def test_mean_field_inverse_solves_its_equation(damping):
    net = _tiny(1.0, seed=21)
    prior = torch.linspace(-1.5, 0.8, 10, dtype=torch.float64)
    eps = 1e-6
    for target in range(4):
        mf = interpret.mean_field_inverse(net, target, prior, damping=damping, tol=1e-13, n_iter=20000)
        assert mf.converged and 1 < mf.n_iter < 20000
        m = mf.mean
        grad = torch.tensor([(_log_class_prob(net, target, m + eps * e) - _log_class_prob(net, target, m - eps * e))
                             / (2 * eps) for e in torch.eye(10, dtype=torch.float64)])
        torch.testing.assert_close(m, torch.sigmoid(prior + grad), rtol=0, atol=1e-8)
        # and the network's class probability at the means is what the result reports
        assert mf.class_prob == pytest.approx(np.exp(_log_class_prob(net, target, m)), rel=1e-12)


# the fixed point is a stationary point of the plug-in free energy
# F(m) = sum_i KL(Bern(m_i) || Bern(p_i)) - log P(c | m), whose gradient in the logits of m vanishes there
def test_mean_field_inverse_stationary_free_energy():
    net = _tiny(0.8, seed=22)
    prior = torch.tensor([0.7, -1.1, 0.2, 1.5, -0.4, 0.0, -2.0, 0.9, 0.3, -0.6], dtype=torch.float64)
    mf = interpret.mean_field_inverse(net, 2, prior, damping=0.5, tol=1e-13, n_iter=20000)
    p = torch.sigmoid(prior)

    def free_energy(z):  # z: logits of the means
        m = torch.sigmoid(z)
        kl = m * torch.log(m / p) + (1 - m) * torch.log((1 - m) / (1 - p))
        return kl.sum().item() - _log_class_prob(net, 2, m)

    z = torch.logit(mf.mean)
    eps = 1e-5
    grad = [(free_energy(z + eps * e) - free_energy(z - eps * e)) / (2 * eps)
            for e in torch.eye(10, dtype=torch.float64)]
    np.testing.assert_allclose(grad, 0.0, atol=1e-7)
    # and it is a minimum along random directions, not a saddle or a maximum
    rng = np.random.default_rng(23)
    for _ in range(5):
        d = torch.as_tensor(rng.standard_normal(10))
        assert free_energy(z + 1e-2 * d) > free_energy(z) and free_energy(z - 1e-2 * d) > free_energy(z)


# inverse_summary's table agrees with the quantities computed directly from its inferred images
def test_inverse_summary_fields():
    net = _tiny(1.0, seed=24)
    prior = torch.linspace(-1.0, 1.0, 10, dtype=torch.float64)
    class_means = torch.as_tensor(np.random.default_rng(25).uniform(0.05, 0.95, (4, 10)))
    r = interpret.inverse_summary(net, prior, class_means, damping=0.5, n_iter=4000, tol=1e-10)
    p0 = torch.sigmoid(prior).numpy()
    for c in range(4):
        m = interpret.mean_field_inverse(net, c, prior, damping=0.5, n_iter=4000, tol=1e-10).mean
        np.testing.assert_allclose(r.mean[c], m.numpy(), rtol=0, atol=1e-12)
        with torch.no_grad():
            assert r.predicted[c] == int(net(m[None]).argmax())
        np.testing.assert_allclose(r.correlation[c], np.corrcoef(m.numpy(), class_means[c].numpy())[0, 1], atol=1e-12)
        centred = [np.corrcoef(m.numpy() - p0, class_means[k].numpy() - p0)[0, 1] for k in range(4)]
        np.testing.assert_allclose(r.centred_correlation[c], centred, atol=1e-12)
        assert r.nearest_centred[c] == int(np.argmax(centred))
