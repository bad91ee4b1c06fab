"""dltheory.landscape: embeddings keep the function, Hessians against finite differences, the curvature identity."""

import numpy as np
import pytest
import torch

from dltheory import landscape as ls


def _setup(act, hidden=2, d=2, n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.sin(x @ torch.tensor([1.0, -2.0], dtype=torch.float64)[:d])
    shape = ls.Shape(hidden, d, act)
    theta = torch.randn(hidden * d + 2 * hidden + 1, generator=g, dtype=torch.float64)
    return shape, theta, x, y


@pytest.mark.parametrize("act", ["tanh", "relu"])
@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0, 1.7])
def test_replication_keeps_the_function(act, lam):
    shape, theta, x, _ = _setup(act)
    wide, wshape = ls.replicate(theta, shape, 1, lam)
    torch.testing.assert_close(ls.forward(wide, wshape, x), ls.forward(theta, shape, x), rtol=0, atol=1e-13)


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_inactive_unit_keeps_the_function(act):
    shape, theta, x, _ = _setup(act)
    wide, wshape = ls.add_inactive(theta, shape, torch.tensor([0.3, -0.2], dtype=torch.float64), -1.0)
    torch.testing.assert_close(ls.forward(wide, wshape, x), ls.forward(theta, shape, x), rtol=0, atol=0)


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_hessian_matches_finite_differences_of_the_gradient(act):
    # central differences of autograd gradients, step 1e-6, agree with torch.func.hessian to 1e-6
    shape, theta, x, y = _setup(act)
    H = ls.hessian(theta, shape, x, y)
    eps = 1e-6
    grad = torch.func.grad(lambda t: ls.loss(t, shape, x, y))
    fd = torch.stack([(grad(theta + eps * e) - grad(theta - eps * e)) / (2 * eps)
                      for e in torch.eye(theta.numel(), dtype=torch.float64)])
    torch.testing.assert_close(H, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("lam", [0.25, 0.5, 1.5])
def test_curvature_along_the_split_direction_is_lambda_one_minus_lambda_A(lam):
    # at any tanh network: delta^T H delta along ((1-lam) d, -lam d) = lam (1 - lam) d^T A_j d
    shape, theta, x, y = _setup("tanh", seed=1)
    j, d = 0, shape.inputs
    wide, wshape = ls.replicate(theta, shape, j, lam)
    H = ls.hessian(wide, wshape, x, y)
    A = ls.curvature_matrix(theta, shape, x, y, j)
    h = wshape.hidden
    for delta in torch.randn(4, d + 1, generator=torch.Generator().manual_seed(2), dtype=torch.float64):
        u = torch.zeros_like(wide)
        u[j * d:(j + 1) * d], u[(h - 1) * d:h * d] = (1 - lam) * delta[:d], -lam * delta[:d]  # weights
        u[h * d + j], u[h * d + h - 1] = (1 - lam) * delta[d], -lam * delta[d]  # biases
        np.testing.assert_allclose((u @ H @ u).item(), lam * (1 - lam) * (delta @ A @ delta).item(), rtol=1e-9,
                                   atol=1e-12)


def test_training_reaches_a_critical_point():
    shape, theta, x, y = _setup("tanh", seed=3)
    found, grad_norm = ls.train_to_critical(0.5 * theta, shape, x, y)
    assert grad_norm < 1e-10


def test_dead_relu_adds_d_plus_2_exact_zero_directions():
    # a unit silent on every input has all-zero Hessian rows and columns
    shape, theta, x, y = _setup("relu", seed=4)
    wide, wshape = ls.add_inactive(theta, shape, torch.zeros(2, dtype=torch.float64), -1.0)
    H = ls.hessian(wide, wshape, x, y)
    h, d = wshape.hidden, wshape.inputs
    new = [*range((h - 1) * d, h * d), h * d + h - 1, h * d + 2 * h - 1]
    assert len(new) == d + 2
    assert torch.all(H[new] == 0) and torch.all(H[:, new] == 0)


def test_best_critical_point_keeps_only_critical_restarts():
    # the returned point is critical (gradient norm <= tol, recomputed here), and with an unreachable tol it warns
    shape, _, x, y = _setup("tanh", seed=5)
    theta, value, grad_norm = ls.best_critical_point(shape, x, y, restarts=3, tol=1e-10,
                                                     generator=torch.Generator().manual_seed(0))
    assert ls.gradient(theta, shape, x, y).norm().item() <= 1e-10 and grad_norm <= 1e-10
    np.testing.assert_allclose(value, ls.loss(theta, shape, x, y).item(), rtol=0, atol=0)
    with pytest.warns(RuntimeWarning, match="raise restarts"):
        ls.best_critical_point(shape, x, y, restarts=1, tol=0.0, generator=torch.Generator().manual_seed(0))


def test_newton_polish_reaches_a_critical_point_where_the_hessian_is_singular(device):
    # a ReLU network's Hessian is singular (the scale symmetry of each unit): the pseudo-inverse Newton steps
    # still bring the gradient norm (recomputed here) below 1e-10, on each device
    shape, theta, x, y = _setup("relu", seed=6)
    x, y = x.to(device), y.to(device)
    found, grad_norm = ls.train_to_critical(0.5 * theta.to(device), shape, x, y)
    assert ls.gradient(found, shape, x, y).norm().item() < 1e-10
    assert torch.linalg.matrix_rank(ls.hessian(found, shape, x, y)).item() < found.numel()  # singular indeed
