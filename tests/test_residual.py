"""dltheory.residual: one-block moments in closed form against Monte Carlo, batch norm against PyTorch's, the
residual stack against its explicit Jacobian, the exponent fit on a known power, the depth-scaled law's limit."""

import math

import numpy as np
import pytest
import torch

from conftest import TOL
from dltheory import residual as rs


def test_batch_norm_matches_torch():
    # our batch normalisation (batch on the last axis) equals torch's training-mode functional batch_norm
    g = torch.Generator().manual_seed(0)
    x = 1.7 * torch.randn(3, 5, 9, generator=g, dtype=torch.float64) + 0.4  # (k, n, B)
    ours = rs.batch_norm(x)
    for i in range(3):
        ref = torch.nn.functional.batch_norm(x[i].T, None, None, training=True, eps=1e-5).T
        torch.testing.assert_close(ours[i], ref, **TOL["float64"])


def test_one_block_squared_norm_in_closed_form():
    # for a fixed input x, E_W ||x + W relu(x)||^2 = ||x||^2 + n v ||relu(x)||^2 exactly (the cross term has mean 0);
    # x is shifted so that ||relu x||^2 != ||x||^2 / 2: the law's only approximation is that half
    g = torch.Generator().manual_seed(1)
    n, v, draws = 12, 0.37 / 12, 20000
    x = torch.randn(n, generator=g, dtype=torch.float64) + 0.5
    w = math.sqrt(v) * torch.randn(draws, n, n, generator=g, dtype=torch.float64)
    out = (x + w @ torch.relu(x)).square().sum(1)  # (draws,)
    exact = x.square().sum() + n * v * torch.relu(x).square().sum()
    se = out.std() / math.sqrt(draws)
    assert abs(out.mean() - exact) < 4 * se


@pytest.mark.parametrize("width,variance", [(24, 0.9 / 24), (40, 2.0 / 40)])
def test_propagate_one_block_matches_law(width, variance):
    # at depth 1 with Gaussian inputs the law is exact in expectation, forward (sign symmetry of x) and backward
    # (on average half the units are active): E ratio = 1 + n v / 2
    g = torch.Generator().manual_seed(2)
    p = rs.propagate(width, 1, variance, draws=3000, batch=3, chunk=500, generator=g, dtype=torch.float64)
    law = math.exp(rs.predicted_log_ratio(width, 1, variance))
    for ratios in (np.exp(p.forward[:, 1]), np.exp(p.backward[:, 0])):
        assert abs(ratios.mean() - law) < 4 * ratios.std() / math.sqrt(len(ratios))
    np.testing.assert_array_equal(p.forward[:, 0], 0.0)
    np.testing.assert_array_equal(p.backward[:, -1], 0.0)


def test_propagate_shapes_and_tied_differs():
    # tied weights break independence across blocks: the growth must differ from the law (a test that can fail)
    g = torch.Generator().manual_seed(3)
    p = rs.propagate(32, 20, 2.0 / 32, draws=20, batch=4, generator=g)
    t = rs.propagate(32, 20, 2.0 / 32, draws=20, batch=4, tied=True, generator=g)
    assert p.forward.shape == p.backward.shape == (20, 21)
    law = rs.predicted_log_ratio(32, 20, 2.0 / 32)
    assert abs(p.forward[:, -1].mean() / law - 1) < 0.1
    assert abs(t.forward[:, -1].mean() / law - 1) > 0.2


def test_residual_stack_jacobian_is_product_of_blocks():
    # d x_L / d x_0 = prod_l (I + W_l diag(relu'(x_l))), against autograd's Jacobian
    g = torch.Generator().manual_seed(4)
    n, depth = 7, 5
    stack = rs.ResidualStack(n, depth, variance=0.8 / n, generator=g, dtype=torch.float64)
    x = torch.randn(n, generator=g, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda v: stack(v.unsqueeze(0)).squeeze(0), x)
    h, prod = x.clone(), torch.eye(n, dtype=torch.float64)
    with torch.no_grad():
        for w in stack.weights:
            prod = (torch.eye(n, dtype=torch.float64) + w * (h > 0).double()) @ prod
            h = h + w @ torch.relu(h)
    torch.testing.assert_close(jac, prod, **TOL["float64"])


def test_residual_weights_have_requested_variance():
    g = torch.Generator().manual_seed(5)
    v = rs.init_variance("depth", 64, 30, c=1.3)
    w = rs.ResidualStack(64, 30, variance=v, generator=g).weights.detach().double()
    se = v * math.sqrt(2 / w.numel())
    assert abs(w.var().item() - v) < 4 * se
    assert v == pytest.approx(1.3 / (64 * 30), rel=1e-15)
    assert rs.init_variance("he", 64, 30) == pytest.approx(2 / 64, rel=1e-15)
    with pytest.raises(ValueError):
        rs.init_variance("xavier", 64, 30)


def test_depth_scaled_law_tends_to_exp_half_c():
    # (1 + c/(2L))^L -> e^{c/2}; He's law is L log 2
    c = 2.7
    big = 10**7
    assert rs.predicted_log_ratio(50, big, c / (50 * big)) == pytest.approx(c / 2, rel=1e-6)
    assert rs.predicted_log_ratio(50, 13, 2 / 50) == pytest.approx(13 * math.log(2), rel=1e-14)


def test_growth_exponent_recovers_power():
    depths = np.array([3, 10, 30, 100])
    assert rs.growth_exponent(depths, 1.37 * np.log1p(depths) - 0.2) == pytest.approx(1.37, rel=1e-12)


def test_train_lowers_loss_and_stops_on_overflow():
    g = torch.Generator().manual_seed(6)
    x = torch.randn(60, 5, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    model = rs.ResidualMLP(5, 8, 4, 3, variance=0.1 / 32, generator=g)
    before = torch.nn.functional.cross_entropy(model(x), y).item()
    losses = rs.train(model, x, y, steps=60, lr=1e-2, batch_size=20, generator=g)
    after = torch.nn.functional.cross_entropy(model(x), y).item()
    assert losses.shape == (60,) and np.isfinite(losses).all() and after < 0.8 * before
    huge = rs.ResidualMLP(5, 8, 60, 3, variance=50.0, generator=g)
    assert np.isinf(rs.train(huge, x, y, steps=3, lr=1e-2, batch_size=20, generator=g)).all()
