"""dltheory.nets: networks drawn from an explicit generator, reproducibly, with the stated initialisations."""

import numpy as np
import pytest
import torch
from torch import nn

from dltheory import nets


def test_mlp_is_a_function_of_the_generator_alone():
    # the same seed gives the same network whatever the global RNG did in between
    a = nets.mlp([3, 5, 2], generator=torch.Generator().manual_seed(0))
    torch.manual_seed(123)
    torch.rand(10)
    b = nets.mlp([3, 5, 2], generator=torch.Generator().manual_seed(0))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_default_init_matches_pytorch_bounds_and_spread():
    # uniform on +-1/sqrt(fan_in): bounds respected and variance 1/(3 fan_in) within 5% (n = 40000 weights)
    lin = nets.linear(100, 400, generator=torch.Generator().manual_seed(1))
    w = lin.weight.detach()
    assert w.abs().max() <= 0.1
    np.testing.assert_allclose(w.var().item(), 1 / 300, rtol=0.05)


def test_he_init_has_variance_two_over_fan_in_and_zero_bias():
    lin = nets.linear(200, 300, init="he", generator=torch.Generator().manual_seed(2))
    np.testing.assert_allclose(lin.weight.var().item(), 2 / 200, rtol=0.05)
    assert torch.all(lin.bias == 0)


def test_uniform_is_a_leaf_with_the_default_bound():
    t = nets.uniform(4, 50, 6, fan_in=25, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert t.requires_grad and t.is_leaf and t.dtype == torch.float64 and t.abs().max() <= 0.2


def test_mlp_layers_and_activations():
    m = nets.mlp([4, 8, 8, 3], activation=nn.Tanh, generator=torch.Generator().manual_seed(4))
    kinds = [type(layer) for layer in m]
    assert kinds == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]


def test_unknown_init_is_refused():
    with pytest.raises(ValueError, match="unknown init"):
        nets.linear(2, 2, init="xavier")


def test_train_classifier_fits_a_separable_problem_and_accuracy_counts():
    # two well-separated Gaussian blobs: full-batch training reaches 100% and the loss falls
    g = torch.Generator().manual_seed(5)
    x = torch.cat([torch.randn(50, 2, generator=g) - 3, torch.randn(50, 2, generator=g) + 3])
    y = torch.cat([torch.zeros(50, dtype=torch.long), torch.ones(50, dtype=torch.long)])
    model = nets.mlp([2, 8, 2], generator=g)
    losses = nets.train_classifier(model, x, y, epochs=100, lr=0.05, input_noise=0.1, generator=g)
    assert losses[-1] < 0.1 * losses[0]
    assert nets.accuracy(model, x, y) == 1.0
    assert nets.accuracy(model, x, 1 - y) == 0.0
