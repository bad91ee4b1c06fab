"""Tests of dltheory.fisher: the dual Gram matrix against autograd and curvlinops, quadrature against closed forms,
the theory against wide random networks, natural-gradient steps against their primal forms and linearised gains,
and the single-unit Fisher block against Monte Carlo."""

import math

import numpy as np
import pytest
import torch

from conftest import TOL
from dltheory import fisher as fi


def _net(widths, activation="tanh", seed=0, sw=1.7, sb=0.3):
    g = torch.Generator().manual_seed(seed)
    net = fi.random_network(widths, sigma_w2=sw, sigma_b2=sb, activation=activation, generator=g)
    x = torch.randn(4, widths[0], generator=g, dtype=torch.float64)
    return net, x, g


def _jacobian(net, x):
    """(TC, P) Jacobian of the outputs by torch.func on the nn.Module copy, rows ordered (t, k)."""
    model = fi.as_module(net)
    params = dict(model.named_parameters())
    jac = torch.func.jacrev(lambda p: torch.func.functional_call(model, p, (x,)))(params)
    t, c = x.shape[0], net.widths[-1]
    # parameter order of as_module: weight_l, bias_l per layer, same as the layer blocks below
    return torch.cat([j.reshape(t * c, -1) for j in jac.values()], dim=1)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_ntk_gram_equals_autograd_jacobian(activation):
    # the factorised Gram (delta . delta)(h . h + 1) equals J J^T from autograd
    net, x, _ = _net([5, 7, 6, 3], activation)
    jac = _jacobian(net, x)
    torch.testing.assert_close(fi.ntk_gram(net, x), jac @ jac.T, **TOL["float64"])
    assert fi.n_params(net) == jac.shape[1]


def test_gd_step_is_a_step_along_the_autograd_gradient():
    # gd_step propagates the residual rather than the per-output signals; it must move every parameter by
    # -lr times autograd's gradient
    net, x, g = _net([5, 7, 6, 3])
    y = torch.randn(4, 3, generator=g, dtype=torch.float64)
    model = fi.as_module(net)
    (0.5 * ((model(x) - y) ** 2).sum() / 4).backward()
    stepped = fi.gd_step(net, x, y, 0.3)
    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    for w0, b0, w1, b1, lin in zip(net.weights, net.biases, stepped.weights, stepped.biases, lins, strict=True):
        torch.testing.assert_close(w1, w0 - 0.3 * lin.weight.grad, **TOL["float64"])
        torch.testing.assert_close(b1, b0 - 0.3 * lin.bias.grad, **TOL["float64"])


def test_gradient_equals_autograd():
    # the hand-written backward pass gives the same gradient of the squared loss as autograd
    net, x, g = _net([5, 7, 6, 3])
    y = torch.randn(4, 3, generator=g, dtype=torch.float64)
    model = fi.as_module(net)
    loss = 0.5 * ((model(x) - y) ** 2).sum() / 4
    loss.backward()
    ours = fi.gradient(net, x, y)
    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    for gr, lin in zip(ours, lins, strict=True):
        torch.testing.assert_close(gr[:, :-1], lin.weight.grad, **TOL["float64"])
        torch.testing.assert_close(gr[:, -1], lin.bias.grad, **TOL["float64"])
    assert fi.loss(net, x, y) == pytest.approx(loss.item(), rel=1e-12)


def test_empirical_spectrum_matches_curvlinops():
    # the nonzero eigenvalues through the T C x T C dual equal those of curvlinops' GGN (P x P), and the rest are 0
    net, x, _ = _net([5, 7, 6, 3])
    op = fi.peer_fisher_operator(net, x)
    full = np.sort(np.linalg.eigvalsh(op @ np.eye(op.shape[0])))[::-1]
    sp = fi.empirical_spectrum(net, x)
    np.testing.assert_allclose(full[: len(sp.eigenvalues)], sp.eigenvalues, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(full[len(sp.eigenvalues):], 0, atol=1e-10)
    assert sp.mean == pytest.approx(full.mean(), rel=1e-9)


def test_quadrature_matches_closed_forms():
    # bivariate Gauss-Hermite against the arc-cosine kernel (ReLU) and the arcsine kernel (erf); the ReLU kink
    # makes Gauss-Hermite converge slowly (error ~ 1e-3 at 201 nodes), the smooth erf converges to rounding
    q1, q2 = 1.7, 0.6
    relu = fi.relu_moments(q1, q2)
    assert fi.gaussian_expectation(lambda u: torch.relu(u) ** 2, q1, n_quad=201) == pytest.approx(relu[0], rel=5e-3)
    assert fi.bivariate_expectation(torch.relu, torch.relu, q1, q2, n_quad=201) == pytest.approx(relu[1], rel=5e-3)
    # the step function (ReLU') is too rough for quadrature: its closed form against 1e6 Monte Carlo draws
    z = np.random.default_rng(0).standard_normal((2, 1_000_000))
    u, v = math.sqrt(q1) * z[0], math.sqrt(q1) * (q2 / q1 * z[0] + math.sqrt(1 - (q2 / q1) ** 2) * z[1])
    assert np.mean((u > 0) & (v > 0)) == pytest.approx(relu[3], abs=2e-3)  # 4 standard errors
    erf = fi.bivariate_expectation(torch.erf, torch.erf, q1, q2)
    assert erf == pytest.approx(2 / math.pi * math.asin(2 * q2 / (1 + 2 * q1)), rel=1e-8)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_order_parameters_match_a_wide_network(activation):
    # forward q1, qhat1 and backward qt1 of the recursion against one wide random network (error ~ 1/sqrt(M))
    m, sw, sb = 2000, 1.6, 0.2
    g = torch.Generator().manual_seed(3)
    net = fi.random_network([m, m, m, 2], sigma_w2=sw, sigma_b2=sb, activation=activation, generator=g)
    x = torch.randn(6, m, generator=g, dtype=torch.float64)
    us, hs = fi.forward(net, x)
    deltas = fi.backward_signals(net, us)
    op = fi.order_parameters(3, sigma_w2=sw, sigma_b2=sb, activation=activation)
    for i in range(2):
        assert us[i].pow(2).mean().item() == pytest.approx(op.q1[i], rel=0.05)
        assert (us[i][0] * us[i][1]).mean().item() == pytest.approx(op.q2[i], abs=0.1 * op.q1[i])
        assert deltas[i].pow(2).sum(-1).mean().item() == pytest.approx(op.qt1[i], rel=0.1)
    # two layers deep the network-to-network spread (a few / sqrt(M) per layer) compounds
    assert hs[2].pow(2).mean().item() == pytest.approx(op.qhat1[2], rel=0.1)


def test_prediction_is_the_moments_of_the_mean_field_gram():
    # m, s and lambda_max equal the moments of alpha M [(k1 - k2) I + k2 11^T] (x) I_C / T over P = alpha M^2
    widths, t = [300, 200, 200, 100, 4], 7
    pr = fi.predict_spectrum(widths, t, sigma_w2=2.3, sigma_b2=0.4)
    m, c = widths[1], widths[-1]
    gram = pr.alpha * m * ((pr.kappa1 - pr.kappa2) * np.eye(t) + pr.kappa2 * np.ones((t, t))) / t
    ev = np.repeat(np.linalg.eigvalsh(gram), c)
    p = pr.alpha * m**2
    assert pr.m == pytest.approx(ev.sum() / p, rel=1e-12)
    assert pr.s == pytest.approx((ev**2).sum() / p, rel=1e-12)
    assert pr.lambda_max == pytest.approx(ev.max(), rel=1e-12)
    assert pr.alpha == pytest.approx(300 / 200 + 1 + 0.5)


def test_predicted_spectrum_near_wide_network():
    # at width 600 the predicted mean and largest eigenvalue are within 10% (a loose, finite-width bound)
    widths, t = [600, 600, 600, 3], 40
    pr = fi.predict_spectrum(widths, t, sigma_w2=1.9, sigma_b2=0.45)
    g = torch.Generator().manual_seed(5)
    net = fi.random_network(widths, sigma_w2=1.9, sigma_b2=0.45, generator=g)
    sp = fi.empirical_spectrum(net, torch.randn(t, 600, generator=g, dtype=torch.float64))
    assert sp.mean == pytest.approx(pr.m, rel=0.1)
    assert sp.max == pytest.approx(pr.lambda_max, rel=0.1)


def test_exact_ngd_equals_primal_pseudo_inverse_step():
    # the dual step -lr J^T (J J^T)^+ r equals -lr F^+ grad with F = J^T J / T, formed in parameter space
    net, x, g = _net([5, 7, 6, 3])
    y = torch.randn(4, 3, generator=g, dtype=torch.float64)
    jac = _jacobian(net, x)
    r = (fi.forward(net, x)[0][-1] - y).reshape(-1)
    primal = -0.3 * torch.linalg.pinv(jac.T @ jac / 4, hermitian=True, rtol=1e-10) @ (jac.T @ r / 4)
    new = fi.ngd_step(net, x, y, 0.3, method="exact")
    flat = torch.cat([torch.cat([(w1 - w0).reshape(-1), b1 - b0]) for w0, w1, b0, b1 in
                      zip(net.weights, new.weights, net.biases, new.biases, strict=True)])
    torch.testing.assert_close(flat, primal, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("method", ["exact", "block", "kfac"])
def test_ngd_linearised_gain(method):
    # a tiny step moves the outputs by -lr * gain * r with gain = 1 / one_step_rate (T <= every width)
    widths = [9, 30, 25, 20, 2]
    g = torch.Generator().manual_seed(1)
    net = fi.random_network(widths, sigma_w2=1.4, sigma_b2=0.2, generator=g)
    x = torch.randn(6, 9, generator=g, dtype=torch.float64)
    y = torch.randn(6, 2, generator=g, dtype=torch.float64)
    f0 = fi.forward(net, x)[0][-1]
    eps = 1e-7
    df = (fi.forward(fi.ngd_step(net, x, y, eps, method=method), x)[0][-1] - f0) / eps
    torch.testing.assert_close(df, -(f0 - y) / fi.one_step_rate(method, widths, 6), rtol=1e-5, atol=1e-5)


def test_unit_wise_linearised_gain_one_hidden_layer():
    # with one hidden layer and one output the backward signals never vanish: each unit moves f by r
    widths = [8, 12, 1]
    g = torch.Generator().manual_seed(2)
    net = fi.random_network(widths, sigma_w2=1.2, sigma_b2=0.3, generator=g)
    x = torch.randn(5, 8, generator=g, dtype=torch.float64)
    y = torch.randn(5, 1, generator=g, dtype=torch.float64)
    f0 = fi.forward(net, x)[0][-1]
    df = (fi.forward(fi.ngd_step(net, x, y, 1e-7, method="unit"), x)[0][-1] - f0) / 1e-7
    torch.testing.assert_close(df, -(f0 - y) * 13, rtol=1e-5, atol=1e-5)
    assert fi.one_step_rate("unit", widths, 5) == pytest.approx(1 / 13)


def test_mean_residual_contraction_of_a_linear_model():
    # a linear network (one layer) is its own linearisation: the mean residual shrinks by |1 - lr lambda_max|
    # when the residual lies along the top eigenvector
    g = torch.Generator().manual_seed(4)
    net = fi.random_network([6, 1], sigma_w2=1.0, sigma_b2=0.5, generator=g)
    x = torch.randn(5, 6, generator=g, dtype=torch.float64)
    gram = fi.ntk_gram(net, x) / 5
    ev, vec = torch.linalg.eigh(gram)
    y = fi.forward(net, x)[0][-1] - vec[:, -1:]  # residual = top eigenvector
    lr = 1.7 / ev[-1].item()
    factor, losses = fi.mean_residual_contraction(net, x, y, lr, steps=4)
    assert factor == pytest.approx(abs(1 - lr * ev[-1].item()), rel=1e-9)
    assert losses.shape == (5,)
    # the losses are half the mean squared residual over inputs: at the start the residual is the unit eigenvector
    assert losses[0] == pytest.approx(0.5 / 5, rel=1e-12)
    assert losses[-1] == pytest.approx(0.5 / 5 * factor ** 8, rel=1e-9)  # it stays along that eigenvector


def test_unit_fisher_matches_monte_carlo():
    # the diagonal-plus-rank-2 closed form against 4e5 Monte Carlo draws, within 3% (relative Frobenius)
    rng = np.random.default_rng(0)
    w, b, v = rng.normal(size=9) * 0.4, 0.35, 1.3
    block = fi.unit_fisher(w, b, variance=v)
    mc = fi.unit_fisher_monte_carlo(w, b, np.random.default_rng(1), variance=v, n_samples=400_000)
    assert np.linalg.norm(mc - block.matrix) / np.linalg.norm(block.matrix) < 0.03
    np.testing.assert_allclose(np.diag(mc), np.diag(block.matrix), rtol=0.03)
    ev = np.linalg.eigvalsh(block.matrix - block.scale * np.eye(10))
    assert np.sum(np.abs(ev) > 1e-12) <= 2  # scale * I plus a rank-2 matrix


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_unit_fisher_inverse_is_exact(activation):
    # the closed-form inverse times the matrix is the identity to rounding
    rng = np.random.default_rng(2)
    block = fi.unit_fisher(rng.normal(size=7), -0.6, variance=0.8, activation=activation)
    inv = fi.unit_fisher_inverse(block)
    np.testing.assert_allclose(inv @ block.matrix, np.eye(8), atol=1e-10)
    np.testing.assert_allclose(inv, np.linalg.inv(block.matrix), rtol=1e-8)


def test_unknown_names_raise():
    with pytest.raises(ValueError):
        fi.random_network([3, 2], sigma_w2=1, sigma_b2=0, activation="sigmoid")
    net, x, _ = _net([5, 7, 6, 3])
    with pytest.raises(ValueError):
        fi.ngd_step(net, x, x[:, :3], 1.0, method="adam")


def test_train_matches_repeated_steps_and_marks_blow_up():
    # train's relative losses equal stepping by hand; a diverging run is inf from the first non-finite loss on
    net, x, g = _net([5, 7, 6, 3])
    y = torch.randn(4, 3, generator=g, dtype=torch.float64)
    rel = fi.train(net, x, y, 0.2, method="block", steps=2)
    n1 = fi.ngd_step(net, x, y, 0.2, method="block")
    n2 = fi.ngd_step(n1, x, y, 0.2, method="block")
    np.testing.assert_allclose(rel, [1, fi.loss(n1, x, y) / fi.loss(net, x, y), fi.loss(n2, x, y) / fi.loss(net, x, y)],
                               rtol=1e-12)
    assert np.isinf(fi.train(net, x, y, 1e6, method="gd", steps=40)[-1])


def test_gaussian_problem_shapes_and_statistics():
    # weights have variance sigma_w^2 / fan-in, inputs are standard Gaussian
    g = torch.Generator().manual_seed(7)
    net, x = fi.gaussian_problem([400, 300, 2], 50, sigma_w2=1.8, sigma_b2=0.3, generator=g)
    assert x.shape == (50, 400) and net.widths == [400, 300, 2]
    assert net.weights[0].var().item() == pytest.approx(1.8 / 400, rel=0.02)
    assert x.var().item() == pytest.approx(1.0, rel=0.02)


@pytest.mark.parametrize("name", ["tanh", "erf", "relu"])
def test_activation_derivatives_match_finite_differences(name):
    # phi' of ACTIVATIONS against a central difference of phi, away from ReLU's kink (catches a wrong constant)
    phi, dphi = fi.ACTIVATIONS[name]
    u = torch.linspace(-2.5, 2.5, 41, dtype=torch.float64) + 0.013  # never 0
    eps = 1e-6
    fd = (phi(u + eps) - phi(u - eps)) / (2 * eps)
    torch.testing.assert_close(dphi(u), fd, rtol=1e-8, atol=1e-9)


def _erf_recursion(depth, sw, sb, qh1, qh2):
    """The order-parameter recursion for erf from closed forms (arcsine kernel; Gaussian integrals of exp(-u^2)),
    written independently of fisher.order_parameters."""
    q1, q2, h1, h2 = [], [], [qh1], [qh2]
    for i in range(depth):
        q1.append(sw * h1[i] + sb)
        q2.append(sw * h2[i] + sb)
        h1.append(2 / math.pi * math.asin(2 * q1[i] / (1 + 2 * q1[i])))
        h2.append(2 / math.pi * math.asin(2 * q2[i] / (1 + 2 * q1[i])))
    t1, t2 = [1.0] * depth, [1.0] * depth
    for i in range(depth - 2, -1, -1):
        t1[i] = sw * t1[i + 1] * 4 / math.pi / math.sqrt(1 + 4 * q1[i])
        t2[i] = sw * t2[i + 1] * 4 / math.pi / math.sqrt((1 + 2 * q1[i]) ** 2 - 4 * q2[i] ** 2)
    return q1, q2, h1[:depth], h2[:depth], t1, t2


def test_order_parameters_erf_match_closed_forms():
    # every list of the recursion (forward and backward, variance and covariance) against the erf closed forms,
    # at a generic setting (nonzero input overlap, sigma_b != 0, four layers); quadrature is exact to ~1e-10 here
    sw, sb, depth = 1.7, 0.35, 4
    op = fi.order_parameters(depth, sigma_w2=sw, sigma_b2=sb, activation="erf", qhat1_input=1.2, qhat2_input=0.4)
    ref = _erf_recursion(depth, sw, sb, 1.2, 0.4)
    for got, want, name in zip(op, ref, op._fields, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-8, err_msg=name)


def test_order_parameters_tanh_match_monte_carlo():
    # the recursion for tanh against Monte Carlo over Gaussian pre-activations, layer by layer from the MC values
    # themselves (an independent route: sampled (u, v) pairs instead of quadrature); 4e5 pairs, tolerance ~5 s.e.
    sw, sb, depth, n = 1.9, 0.3, 3, 400_000
    rng = np.random.default_rng(11)
    qh1, qh2 = [1.0], [0.25]
    q1, q2, d1, d2 = [], [], [], []
    for i in range(depth):
        q1.append(sw * qh1[i] + sb)
        q2.append(sw * qh2[i] + sb)
        z = rng.standard_normal((2, n))
        c = q2[i] / q1[i]
        u = math.sqrt(q1[i]) * z[0]
        v = math.sqrt(q1[i]) * (c * z[0] + math.sqrt(1 - c * c) * z[1])
        qh1.append(np.mean(np.tanh(u) ** 2))
        qh2.append(np.mean(np.tanh(u) * np.tanh(v)))
        d1.append(np.mean((1 - np.tanh(u) ** 2) ** 2))
        d2.append(np.mean((1 - np.tanh(u) ** 2) * (1 - np.tanh(v) ** 2)))
    qt1, qt2 = [1.0] * depth, [1.0] * depth
    for i in range(depth - 2, -1, -1):
        qt1[i] = sw * qt1[i + 1] * d1[i]
        qt2[i] = sw * qt2[i + 1] * d2[i]
    op = fi.order_parameters(depth, sigma_w2=sw, sigma_b2=sb, qhat1_input=1.0, qhat2_input=0.25)
    for got, want, name in zip(op, (q1, q2, qh1[:depth], qh2[:depth], qt1, qt2), op._fields, strict=True):
        np.testing.assert_allclose(got, want, rtol=4e-3, atol=2e-3, err_msg=name)


def test_linearised_step_matches_central_difference():
    # J (theta' - theta) by forward-mode autograd equals a central difference of the forward pass along the step
    net, x, g = _net([5, 7, 6, 3])
    new = fi.Network([w + 0.1 * torch.randn(w.shape, generator=g, dtype=w.dtype) for w in net.weights],
                     [b + 0.1 * torch.randn(b.shape, generator=g, dtype=b.dtype) for b in net.biases], net.activation)
    eps = 1e-5

    def along(s):
        return fi.Network([w0 + s * (w1 - w0) for w0, w1 in zip(net.weights, new.weights, strict=True)],
                          [b0 + s * (b1 - b0) for b0, b1 in zip(net.biases, new.biases, strict=True)], net.activation)

    fd = (fi.forward(along(eps), x)[0][-1] - fi.forward(along(-eps), x)[0][-1]) / (2 * eps)
    torch.testing.assert_close(fi.linearised_step(net, new, x), fd, rtol=1e-7, atol=1e-9)


def test_unit_wise_linearised_gain_is_the_number_of_units():
    # with T <= every fan-in + 1 and tanh (no zero backward signals), each unit moves the linearised outputs by r:
    # the gain of a rate-1 unit-wise step is sum_l M_l, along r
    widths = [7, 9, 8, 1]
    g = torch.Generator().manual_seed(6)
    net = fi.random_network(widths, sigma_w2=1.5, sigma_b2=0.2, generator=g)
    x = torch.randn(5, 7, generator=g, dtype=torch.float64)
    y = torch.randn(5, 1, generator=g, dtype=torch.float64)
    r = fi.forward(net, x)[0][-1] - y
    move = fi.linearised_step(net, fi.ngd_step(net, x, y, 1.0, method="unit"), x)
    torch.testing.assert_close(move, -18.0 * r, rtol=1e-7, atol=1e-9)
    assert 1 / fi.one_step_rate("unit", widths, 5) == pytest.approx(18.0)


@pytest.mark.parametrize("layer", [1, 2, 3])
def test_unit_block_norms_equal_dense_fisher_blocks(layer):
    # the Frobenius norms of the unit blocks, summed in the dual, equal those cut from the dense F = J^T J / T
    net, x, _ = _net([5, 7, 6, 3])
    jac = _jacobian(net, x).detach()
    f = jac.T @ jac / x.shape[0]
    ws = net.widths
    offset = sum(ws[i] * ws[i + 1] + ws[i + 1] for i in range(layer - 1))
    m_in, m = ws[layer - 1], ws[layer]
    idx = [[offset + i * m_in + a for a in range(m_in)] + [offset + m * m_in + i] for i in range(m)]
    dense = np.array([[float(f[np.ix_(idx[i], idx[j])].norm()) for j in range(m)] for i in range(m)])
    got = fi.unit_block_norms(net, x, layer)
    np.testing.assert_allclose(got.off, dense, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.diagonal, np.diag(dense), rtol=1e-9)
    off = dense[~np.eye(m, dtype=bool)]
    assert got.ratio == pytest.approx(math.sqrt((off**2).mean() / (np.diag(dense) ** 2).mean()), rel=1e-9)
