"""dltheory.noise: the single-pass noise-robustness estimate against closed forms and Monte Carlo."""

import numpy as np
import pytest
import torch
from scipy.stats import norm
from torch import nn

from dltheory import noise


def _linear(d, c, seed):
    g = torch.Generator().manual_seed(seed)
    model = nn.Linear(d, c, dtype=torch.float64)
    with torch.no_grad():
        model.weight.copy_(torch.randn(c, d, generator=g, dtype=torch.float64))
        model.bias.copy_(torch.randn(c, generator=g, dtype=torch.float64))
    x = torch.randn(50, d, generator=g, dtype=torch.float64)
    y = torch.randint(0, c, (50,), generator=g)
    return model, x, y


def test_margins_match_autograd_per_point():
    # vectorised Jacobian margins == a loop of autograd.grad over points and classes
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 4)).double()
    x, y = torch.randn(6, 5, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 1, 0])
    m = noise.margins(model, x, y)
    for i in range(6):
        xi = x[i].clone().requires_grad_(True)
        out = model(xi)
        others = [k for k in range(4) if k != y[i]]
        for j, k in enumerate(others):
            (grad,) = torch.autograd.grad(out[y[i]] - out[k], xi, retain_graph=True)
            torch.testing.assert_close(m.value[i, j], (out[y[i]] - out[k]).detach(), rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(m.grad_norm[i, j], grad.norm(), rtol=1e-12, atol=1e-12)


def test_estimate_is_exact_for_a_linear_two_class_model():
    # two classes, linear logits, Gaussian noise: P(wrong) = Phi(-margin / (sigma |w_y - w_k|)) exactly
    model, x, y = _linear(8, 2, seed=1)
    sigmas = torch.tensor([0.1, 0.5, 2.0], dtype=torch.float64)
    est = noise.predicted_error_rate(noise.margins(model, x, y), sigmas)
    w, b = model.weight.detach().numpy(), model.bias.detach().numpy()
    yn, xn = y.numpy(), x.numpy()
    margin = (xn @ w.T + b)[np.arange(50), yn] - (xn @ w.T + b)[np.arange(50), 1 - yn]
    gnorm = np.linalg.norm(w[yn] - w[1 - yn], axis=1)
    exact = [norm.cdf(-margin / (s * gnorm)).mean() for s in sigmas.numpy()]
    np.testing.assert_allclose(est.numpy(), exact, rtol=1e-10)


@pytest.mark.parametrize("sigma", [0.3, 1.0])
def test_monte_carlo_converges_to_the_exact_rate(sigma):
    # where the estimate is exact, Monte Carlo with 4000 samples lies within 4 standard errors of it
    model, x, y = _linear(8, 2, seed=2)
    sigmas = torch.tensor([sigma], dtype=torch.float64)
    est = noise.predicted_error_rate(noise.margins(model, x, y), sigmas)
    mc, se = noise.monte_carlo_error_rate(model, x, y, sigmas, n_samples=4000,
                                              generator=torch.Generator().manual_seed(3))
    assert se.item() > 0
    assert abs(mc.item() - est.item()) < 4 * se.item()


def test_estimate_tends_to_the_clean_error_as_noise_vanishes():
    # sigma -> 0: the estimate counts exactly the points misclassified without noise
    model, x, y = _linear(6, 5, seed=4)
    est = noise.predicted_error_rate(noise.margins(model, x, y), torch.tensor([1e-9], dtype=torch.float64))
    clean = (model(x).argmax(1) != y).double().mean()
    torch.testing.assert_close(est[0], clean, rtol=0, atol=1e-12)


def test_joint_estimate_matches_monte_carlo_on_a_linear_multiclass_model():
    # linear logits: the joint-Gaussian estimate is exact up to its own sampling error, for any number of
    # classes; the product estimate is not (it ignores the margins' correlation)
    model, x, y = _linear(6, 5, seed=5)
    sigmas = torch.tensor([0.5, 2.0], dtype=torch.float64)
    m = noise.margins(model, x, y)
    joint, se_joint = noise.predicted_error_rate_joint(m, sigmas, n_draws=20000,
                                                           generator=torch.Generator().manual_seed(6))
    mc, se = noise.monte_carlo_error_rate(model, x, y, sigmas, n_samples=20000,
                                              generator=torch.Generator().manual_seed(7))
    # both are sampling estimates of the same number: within 4 combined standard errors
    np.testing.assert_array_less((joint - mc).abs().numpy(), (4 * (se**2 + se_joint**2).sqrt()).numpy())


def test_joint_equals_product_when_there_are_two_classes():
    # one margin: no correlation to neglect, so both estimates agree (to the joint one's sampling error)
    model, x, y = _linear(8, 2, seed=8)
    sigmas = torch.tensor([0.3, 1.0], dtype=torch.float64)
    m = noise.margins(model, x, y)
    joint, se = noise.predicted_error_rate_joint(m, sigmas, n_draws=40000,
                                                     generator=torch.Generator().manual_seed(9))
    np.testing.assert_array_less((joint - noise.predicted_error_rate(m, sigmas)).abs().numpy(), (4 * se).numpy())


def test_product_estimate_is_exact_for_independent_margins_with_many_classes():
    # class 0 has zero weights and class k the k-th unit vector: every class-0 point has margins -x_k with
    # orthogonal gradients, so they are independent and P(correct) = prod_k Phi(mu_k / sigma) exactly
    d = c = 6
    model = nn.Linear(d, c, bias=False, dtype=torch.float64)
    with torch.no_grad():
        model.weight.copy_(torch.cat([torch.zeros(1, d, dtype=torch.float64), torch.eye(d, dtype=torch.float64)[1:]]))
    x = -torch.rand(40, d, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    y = torch.zeros(40, dtype=torch.long)
    sigma = 0.4
    est = noise.predicted_error_rate(noise.margins(model, x, y), torch.tensor([sigma], dtype=torch.float64))
    exact = 1 - np.prod(norm.cdf(-x[:, 1:].numpy() / sigma), axis=1).mean()
    np.testing.assert_allclose(est.item(), exact, rtol=1e-12)


def test_copies_for_error_inverts_the_square_root_law():
    # 500 copies gave a standard error of 0.002: 0.004 needs a quarter of the copies, 0.001 four times as many
    se, err = torch.tensor([0.002, 0.002]), torch.tensor([0.004, 0.001])
    torch.testing.assert_close(noise.copies_for_error(se, 500, err), torch.tensor([125.0, 2000.0]))


def test_misordered_pairs_counts_only_resolved_inversions():
    ref, se = torch.tensor([0.10, 0.20, 0.205, 0.40]), torch.full((4,), 0.001)
    assert noise.misordered_pairs(ref.clone(), ref, se) == 0
    assert noise.misordered_pairs(torch.tensor([0.10, 0.21, 0.20, 0.40]), ref, se) == 1  # 2-3 resolved
    assert noise.misordered_pairs(torch.tensor([0.10, 0.21, 0.20, 0.40]), ref, torch.full((4,), 0.01)) == 0
    assert noise.misordered_pairs(ref.flip(0), ref, se) == 6


def test_staircase_keeps_the_classifier_but_flattens_its_gradients():
    # rounding hidden activations barely changes the outputs, and makes every input gradient zero, so the
    # first-order estimate predicts the clean error rate at any noise level
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3)).double()
    x, y = torch.randn(30, 5, dtype=torch.float64), torch.randint(0, 3, (30,))
    flat = noise.staircase(model, 1e-3)
    torch.testing.assert_close(flat(x), model(x), rtol=0, atol=1e-2)
    assert torch.all(noise.margins(flat, x, y).grad == 0)
    est = noise.predicted_error_rate(noise.margins(flat, x, y), torch.tensor([1.0], dtype=torch.float64))
    torch.testing.assert_close(est[0], (flat(x).argmax(1) != y).double().mean())


def test_relu_moments_match_quadrature():
    # E relu(z) and Var relu(z) for z ~ N(m, v) against numerical integration, at a generic mean and variance,
    # and the closed form at m = 0: E = s / sqrt(2 pi), E2 = v / 2
    from scipy import integrate

    for m, v in ((0.7, 2.3), (-1.1, 0.4), (0.0, 1.7)):
        e1 = integrate.quad(lambda z, m=m, v=v: max(z, 0) * norm.pdf(z, m, np.sqrt(v)), -30, 30, points=[0])[0]
        e2 = integrate.quad(lambda z, m=m, v=v: max(z, 0) ** 2 * norm.pdf(z, m, np.sqrt(v)), -30, 30, points=[0])[0]
        mean, var = noise.relu_moments(torch.tensor(m, dtype=torch.float64), torch.tensor(v, dtype=torch.float64))
        np.testing.assert_allclose([mean.item(), var.item()], [e1, e2 - e1**2], rtol=1e-8, atol=1e-12)
    mean, _ = noise.relu_moments(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.7, dtype=torch.float64))
    np.testing.assert_allclose(mean.item(), np.sqrt(1.7 / (2 * np.pi)), rtol=1e-12)


def test_diagonal_moments_exact_with_one_hidden_unit():
    # one hidden unit: its pre-activation is exactly Gaussian, so each logit's mean and variance are exact;
    # checked against 200k noisy passes (tolerance: 5 standard errors of the Monte Carlo moments)
    g = torch.Generator().manual_seed(20)
    model = nn.Sequential(nn.Linear(6, 1), nn.ReLU(), nn.Linear(1, 3)).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
    x = torch.randn(1, 6, generator=g, dtype=torch.float64)
    sigma = 0.8
    mean, var = noise.diagonal_moments(model, x, sigma)
    with torch.no_grad():
        out = model(x + sigma * torch.randn(200_000, 6, generator=g, dtype=torch.float64))  # (M, 3)
    centred = out - out.mean(0)
    se_mean = (out.var(0) / len(out)).sqrt()
    se_var = ((centred**4).mean(0) - out.var(0) ** 2).sqrt() / len(out) ** 0.5  # from the sample's 4th moment
    assert torch.all((out.mean(0) - mean[0]).abs() < 5 * se_mean)
    assert torch.all((out.var(0) - var[0]).abs() < 5 * se_var)


def test_moment_estimate_exact_for_independent_logits_and_wrong_for_correlated_ones():
    # a linear model with orthogonal rows has independent Gaussian logits under isotropic noise: the estimate
    # matches Monte Carlo within 4 standard errors; with strongly correlated rows it does not
    g = torch.Generator().manual_seed(21)
    q, _ = torch.linalg.qr(torch.randn(8, 8, generator=g, dtype=torch.float64))
    x = torch.randn(60, 8, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (60,), generator=g)
    sigmas = torch.tensor([0.5, 1.5], dtype=torch.float64)
    for rows, agree in ((q[:4] * torch.tensor([[1.0], [2.0], [0.5], [1.5]], dtype=torch.float64), True),
                        (torch.ones(4, 8, dtype=torch.float64) + 0.05 * q[:4], False)):
        model = nn.Sequential(nn.Linear(8, 4, dtype=torch.float64))
        with torch.no_grad():
            model[0].weight.copy_(rows)
            model[0].bias.copy_(0.3 * torch.randn(4, generator=g, dtype=torch.float64))
        est = noise.predicted_error_rate_moments(model, x, y, sigmas)
        mc, se = noise.monte_carlo_error_rate(model, x, y, sigmas, n_samples=8000,
                                                  generator=torch.Generator().manual_seed(22))
        assert bool(torch.all((est - mc).abs() < 4 * se)) == agree, (est, mc, se)


def test_clean_error_rate_counts_misclassified_points():
    model, x, y = _linear(6, 5, seed=23)
    clean = (model(x).argmax(1) != y).double().mean()
    torch.testing.assert_close(noise.clean_error_rate(noise.margins(model, x, y)), clean)
