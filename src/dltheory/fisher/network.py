r"""The network of :mod:`dltheory.fisher`: parameters, forward and backward signals, the layer-wise Gram matrices,
the dual (neural tangent kernel) Gram matrix and the empirical spectrum of the Fisher matrix, and the network as a
``torch.nn`` module for the peer, curvlinops."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from dltheory.nets import device_of

__all__ = ["ACTIVATIONS", "Network", "random_network", "gaussian_problem", "n_params", "forward", "backward_signals",
           "layer_grams", "ntk_gram", "Spectrum", "empirical_spectrum", "as_module", "peer_fisher_operator"]


def _tanh_d(u: torch.Tensor) -> torch.Tensor:
    return 1 - torch.tanh(u) ** 2


def _relu_d(u: torch.Tensor) -> torch.Tensor:
    return (u > 0).to(u.dtype)


def _erf_d(u: torch.Tensor) -> torch.Tensor:
    return 2 / math.sqrt(math.pi) * torch.exp(-u * u)


#: name -> (phi, phi'), each a function of a tensor
ACTIVATIONS = {"tanh": (torch.tanh, _tanh_d), "relu": (torch.relu, _relu_d), "erf": (torch.erf, _erf_d)}


def _act(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {tuple(ACTIVATIONS)}")
    return ACTIVATIONS[name]


class Network(NamedTuple):
    """A fully connected network: ``weights[l-1]`` shape (M_l, M_{l-1}), ``biases[l-1]`` shape (M_l,), l = 1..L;
    ``activation`` names the nonlinearity of the hidden layers (the output is linear)."""

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    activation: str

    @property
    def widths(self) -> list[int]:
        """``[M_0, M_1, ..., M_L]``."""
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]


def random_network(widths: list[int], *, sigma_w2: float, sigma_b2: float, activation: str = "tanh",
                   generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64) -> Network:
    r"""Draw :math:`W^l_{ij} \sim \mathcal N(0, \sigma_w^2 / M_{l-1})`, :math:`b^l_i \sim \mathcal N(0, \sigma_b^2)`
    for ``widths = [M_0, ..., M_L]`` from ``generator``, on its device."""
    _act(activation)
    dev = device_of(generator)
    weights, biases = [], []
    for m_in, m_out in zip(widths[:-1], widths[1:], strict=True):
        w = torch.randn(m_out, m_in, generator=generator, dtype=dtype, device=dev)
        weights.append(w * math.sqrt(sigma_w2 / m_in))
        biases.append(torch.randn(m_out, generator=generator, dtype=dtype, device=dev) * math.sqrt(sigma_b2))
    return Network(weights, biases, activation)


def gaussian_problem(widths: list[int], n_inputs: int, *, sigma_w2: float, sigma_b2: float,
                     activation: str = "tanh", generator: torch.Generator | None = None,
                     dtype: torch.dtype = torch.float64) -> tuple[Network, torch.Tensor]:
    """The theory's setting: a :func:`random_network` and ``n_inputs`` standard Gaussian inputs (T, M_0), both drawn
    from ``generator`` (network first)."""
    net = random_network(widths, sigma_w2=sigma_w2, sigma_b2=sigma_b2, activation=activation, generator=generator,
                         dtype=dtype)
    x = torch.randn(n_inputs, widths[0], generator=generator, dtype=dtype, device=device_of(generator))
    return net, x


def n_params(net: Network) -> int:
    """The number of parameters P (weights and biases)."""
    return sum(w.numel() + b.numel() for w, b in zip(net.weights, net.biases, strict=True))


def forward(net: Network, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Pre-activations ``us[l-1]`` (T, M_l), l = 1..L (``us[-1]`` is the output f), and the inputs of each layer
    ``hs[l-1]`` = h^{l-1} (T, M_{l-1}), l = 1..L, for inputs ``x`` (T, M_0)."""
    phi, _ = _act(net.activation)
    us, hs = [], []
    h = x
    for i, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        hs.append(h)
        u = h @ w.T + b  # (T, M_l)
        us.append(u)
        if i < len(net.weights) - 1:
            h = phi(u)
    return us, hs


def backward_signals(net: Network, us: list[torch.Tensor]) -> list[torch.Tensor]:
    r"""The backward signals :math:`\delta^l_{k,i}(t) = \partial f_k(t) / \partial u^l_i` for every output k:
    ``deltas[l-1]`` shape (T, C, M_l), l = 1..L, from the pre-activations of :func:`forward`."""
    _, dphi = _act(net.activation)
    t, c = us[-1].shape
    delta = torch.eye(c, dtype=us[-1].dtype, device=us[-1].device).expand(t, c, c)  # (T, C, C)
    deltas = [delta]
    for w, u in zip(reversed(net.weights[1:]), reversed(us[:-1]), strict=True):
        delta = (delta @ w) * dphi(u)[:, None, :]  # (T, C, M_{l-1})
        deltas.append(delta)
    return deltas[::-1]


def _with_one(h: torch.Tensor) -> torch.Tensor:
    return torch.cat([h, torch.ones_like(h[:, :1])], dim=1)  # (T, M+1): the bias is a weight on a constant 1


def layer_grams(net: Network, x: torch.Tensor) -> list[torch.Tensor]:
    r"""The Gram matrix :math:`J_l J_l^\top` of each layer's parameters (weights and bias), shape (TC, TC) with
    rows ordered (t, k): :math:`(\delta^l_k(t) \cdot \delta^l_{k'}(s))\,(h^{l-1}(t) \cdot h^{l-1}(s) + 1)`."""
    us, hs = forward(net, x)
    deltas = backward_signals(net, us)
    grams = []
    for d, h in zip(deltas, hs, strict=True):
        t, c, _ = d.shape
        dd = d.reshape(t * c, -1) @ d.reshape(t * c, -1).T  # (TC, TC)
        hh = h @ h.T + 1  # (T, T)
        grams.append(dd * hh.repeat_interleave(c, 0).repeat_interleave(c, 1))
    return grams


def ntk_gram(net: Network, x: torch.Tensor) -> torch.Tensor:
    r""":math:`J J^\top` (TC, TC), the empirical neural tangent kernel on ``x`` (T, M_0), rows ordered (t, k)."""
    return sum(layer_grams(net, x))


class Spectrum(NamedTuple):
    """Nonzero-part spectrum of F = J^T J / T: ``eigenvalues`` (TC,) descending, and the mean, second moment and
    largest eigenvalue over all ``n_params`` eigenvalues (P - TC of them zero)."""

    eigenvalues: np.ndarray
    n_params: int
    mean: float
    second_moment: float
    max: float


def empirical_spectrum(net: Network, x: torch.Tensor) -> Spectrum:
    """The Fisher spectrum of ``net`` on inputs ``x`` (T, M_0) through the (TC, TC) dual Gram matrix."""
    g = ntk_gram(net, x) / x.shape[0]
    ev = torch.linalg.eigvalsh(g.double()).flip(0).cpu().numpy()
    p = n_params(net)
    return Spectrum(ev, p, float(ev.sum() / p), float((ev**2).sum() / p), float(ev[0]))


# --- the peer: curvlinops ------------------------------------------------------------------------------------------

def as_module(net: Network) -> torch.nn.Sequential:
    """``net`` as an ``nn.Sequential`` of ``nn.Linear`` layers and activations with the same parameters (copies)."""
    mods = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}
    if net.activation not in mods:
        raise ValueError(f"no torch.nn module for activation {net.activation!r}")
    layers: list[torch.nn.Module] = []
    for i, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        lin = torch.nn.Linear(w.shape[1], w.shape[0], dtype=w.dtype, device=w.device)
        with torch.no_grad():
            lin.weight.copy_(w)
            lin.bias.copy_(b)
        layers.append(lin)
        if i < len(net.weights) - 1:
            layers.append(mods[net.activation]())
    return torch.nn.Sequential(*layers)


def peer_fisher_operator(net: Network, x: torch.Tensor):
    r"""The Fisher matrix :math:`J^\top J / T` of ``net`` on ``x`` (T, M_0) as a scipy ``LinearOperator`` (P, P) from
    curvlinops' generalised Gauss–Newton operator: for the summed squared error the GGN is :math:`2 J^\top J`, so it
    is scaled by 1/(2T). The targets do not enter the GGN of a squared loss; zeros are passed."""
    from curvlinops import GGNLinearOperator

    model = as_module(net)
    y = torch.zeros(x.shape[0], net.widths[-1], dtype=x.dtype, device=x.device)
    op = GGNLinearOperator(model, torch.nn.MSELoss(reduction="sum"), list(model.parameters()), [(x, y)],
                           check_deterministic=False)
    return op.to_scipy() * (1 / (2 * x.shape[0]))
