r"""Fisher information of wide random networks: its spectrum from order parameters, its empirical spectrum through
the dual (neural tangent kernel) Gram matrix, and natural-gradient steps with exact and approximate Fisher matrices.

The network is a fully connected net :math:`u^l = W^l h^{l-1} + b^l`, :math:`h^l = \varphi(u^l)`, ``h^0 = x``, with a
linear output :math:`f = u^L \in \mathbb R^C`, weights :math:`W^l_{ij} \sim \mathcal N(0, \sigma_w^2/M_{l-1})` and
biases :math:`b^l_i \sim \mathcal N(0, \sigma_b^2)`. Its Fisher matrix for unit-variance Gaussian output noise on
``T`` inputs is :math:`F = J^\top J / T`, with ``J`` the (TC, P) Jacobian of the outputs; its nonzero eigenvalues
are those of the (TC, TC) Gram matrix :math:`J J^\top / T`.

References: karakida2019universal (order parameters, m, s, lambda_max), karakida2019pathological (finite T),
amari2019fisher (unit-wise blocks, diagonal plus rank 2), karakida2020understanding (approximate natural gradient
in the NTK regime, one-step learning rates).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from dltheory.nets import device_of

__all__ = ["ACTIVATIONS", "Network", "OrderParameters", "Prediction", "Spectrum", "UnitFisher", "random_network",
           "gaussian_problem", "forward", "backward_signals", "layer_grams", "ntk_gram", "n_params",
           "empirical_spectrum",
           "gaussian_expectation", "bivariate_expectation", "relu_moments", "order_parameters", "predict_spectrum",
           "loss", "gradient", "gd_step", "mean_residual_contraction", "ngd_step", "train", "one_step_rate", "METHODS",
           "unit_fisher", "unit_fisher_inverse", "unit_fisher_monte_carlo", "as_module", "peer_fisher_operator",
           "linearised_step", "BlockNorms", "unit_block_norms"]


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


# --- theory: order parameters by Gaussian quadrature ------------------------------------------------------------

def _hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(n)  # weight exp(-z^2/2)
    return z, w / math.sqrt(2 * math.pi)


def gaussian_expectation(f, q: float, *, n_quad: int = 101) -> float:
    r""":math:`\mathbb E f(u)`, :math:`u \sim \mathcal N(0, q)`, by Gauss–Hermite quadrature; ``f`` maps a torch
    tensor elementwise."""
    z, w = _hermite(n_quad)
    return float(np.dot(w, f(torch.as_tensor(math.sqrt(q) * z)).numpy()))


def bivariate_expectation(f, g, q1: float, q2: float, *, n_quad: int = 101) -> float:
    r""":math:`\mathbb E f(u) g(v)` for :math:`(u, v)` centred Gaussian with variances ``q1`` and covariance ``q2``,
    by a product Gauss–Hermite rule on :math:`u = \sqrt{q_1} z_1`, :math:`v = \sqrt{q_1}(c z_1 + \sqrt{1-c^2} z_2)`."""
    z, w = _hermite(n_quad)
    c = min(max(q2 / q1, -1.0), 1.0)
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    u = math.sqrt(q1) * z1
    v = math.sqrt(q1) * (c * z1 + math.sqrt(max(1 - c * c, 0.0)) * z2)
    vals = f(torch.as_tensor(u)).numpy() * g(torch.as_tensor(v)).numpy()
    return float(np.einsum("i,j,ij->", w, w, vals))


def relu_moments(q1: float, q2: float) -> tuple[float, float, float, float]:
    r"""Closed forms for ReLU (arc-cosine kernels): :math:`\mathbb E\varphi(u)^2`,
    :math:`\mathbb E\varphi(u)\varphi(v)`, :math:`\mathbb E\varphi'(u)^2`, :math:`\mathbb E\varphi'(u)\varphi'(v)`."""
    c = min(max(q2 / q1, -1.0), 1.0)
    theta = math.acos(c)
    return (q1 / 2, q1 / (2 * math.pi) * (math.sin(theta) + (math.pi - theta) * c), 0.5,
            (math.pi - theta) / (2 * math.pi))


class OrderParameters(NamedTuple):
    r"""Mean-field order parameters, lists over layers l = 1..L: forward pre-activation variance ``q1`` and
    covariance ``q2`` of two inputs; :math:`\hat q_1, \hat q_2` of the layer inputs ``qhat1``, ``qhat2`` (index l-1,
    so ``qhat1[0]`` is the input's); backward :math:`\tilde q_1 = \sum_i \delta_i(t)^2`, :math:`\tilde q_2 =
    \sum_i \delta_i(t)\delta_i(s)` as ``qt1``, ``qt2``."""

    q1: list[float]
    q2: list[float]
    qhat1: list[float]
    qhat2: list[float]
    qt1: list[float]
    qt2: list[float]


def order_parameters(depth: int, *, sigma_w2: float, sigma_b2: float, activation: str = "tanh",
                     qhat1_input: float = 1.0, qhat2_input: float = 0.0, n_quad: int = 101) -> OrderParameters:
    r"""The recursions of Karakida, Akaho and Amari for a net of ``depth`` = L weight layers:

    .. math:: q^l_1 = \sigma_w^2 \hat q^{l-1}_1 + \sigma_b^2,\ \hat q^l_1 = \mathbb E\varphi(u)^2,\quad
              q^l_2 = \sigma_w^2 \hat q^{l-1}_2 + \sigma_b^2,\ \hat q^l_2 = \mathbb E\varphi(u)\varphi(v),
    .. math:: \tilde q^L_{1,2} = 1,\quad \tilde q^l_1 = \sigma_w^2 \tilde q^{l+1}_1 \mathbb E\varphi'(u^l)^2,\quad
              \tilde q^l_2 = \sigma_w^2 \tilde q^{l+1}_2 \mathbb E\varphi'(u^l)\varphi'(v^l).

    ``qhat1_input``, ``qhat2_input``: the inputs' :math:`\sum_i x_i(t)^2 / M_0` and :math:`\sum_i x_i(t) x_i(s) / M_0`
    (1 and 0 for independent standard Gaussian inputs). ReLU uses closed forms, other activations quadrature.
    """
    phi, dphi = _act(activation)
    q1, q2, qh1, qh2 = [], [], [qhat1_input], [qhat2_input]
    for i in range(depth):  # layer i + 1
        q1.append(sigma_w2 * qh1[i] + sigma_b2)
        q2.append(sigma_w2 * qh2[i] + sigma_b2)
        if i < depth - 1:
            if activation == "relu":
                a, b, _, _ = relu_moments(q1[i], q2[i])
            else:
                a = gaussian_expectation(lambda u: phi(u) ** 2, q1[i], n_quad=n_quad)
                b = bivariate_expectation(phi, phi, q1[i], q2[i], n_quad=n_quad)
            qh1.append(a)
            qh2.append(b)
    qt1, qt2 = [1.0] * depth, [1.0] * depth
    for i in range(depth - 2, -1, -1):  # layer i + 1
        if activation == "relu":
            _, _, d1, d2 = relu_moments(q1[i], q2[i])
        else:
            d1 = gaussian_expectation(lambda u: dphi(u) ** 2, q1[i], n_quad=n_quad)
            d2 = bivariate_expectation(dphi, dphi, q1[i], q2[i], n_quad=n_quad)
        qt1[i] = sigma_w2 * qt1[i + 1] * d1
        qt2[i] = sigma_w2 * qt2[i + 1] * d2
    return OrderParameters(q1, q2, qh1, qh2, qt1, qt2)


class Prediction(NamedTuple):
    """The theory's kappa1, kappa2, alpha and its predicted mean ``m``, second moment ``s`` and largest eigenvalue
    ``lambda_max`` of the Fisher spectrum at width M and T inputs."""

    kappa1: float
    kappa2: float
    alpha: float
    m: float
    s: float
    lambda_max: float


def predict_spectrum(widths: list[int], n_inputs: int, *, sigma_w2: float, sigma_b2: float,
                     activation: str = "tanh", qhat1_input: float = 1.0, qhat2_input: float = 0.0,
                     n_quad: int = 101) -> Prediction:
    r""":math:`\kappa_1 = \sum_{l=1}^L \frac{\alpha_{l-1}}{\alpha}\tilde q^l_1 \hat q^{l-1}_1`, likewise
    :math:`\kappa_2`, with :math:`M = M_1`, :math:`\alpha_l = M_l/M`, :math:`\alpha = \sum_{l=1}^{L-1}
    \alpha_l\alpha_{l-1}` (P ~ alpha M^2); then :math:`m \simeq \kappa_1 C/M`, :math:`s \simeq \alpha C
    (\kappa_1^2 + (T-1)\kappa_2^2)/T`, :math:`\lambda_{max} \simeq \alpha M (\kappa_2 (T-1) + \kappa_1)/T`.

    ``widths`` = [M_0, ..., M_L] (M_L = C outputs), ``n_inputs`` = T."""
    op = order_parameters(len(widths) - 1, sigma_w2=sigma_w2, sigma_b2=sigma_b2, activation=activation,
                          qhat1_input=qhat1_input, qhat2_input=qhat2_input, n_quad=n_quad)
    m_ref, c, t = widths[1], widths[-1], n_inputs
    a = [w / m_ref for w in widths]
    alpha = sum(a[i] * a[i - 1] for i in range(1, len(widths) - 1))
    k1 = sum(a[i] * op.qt1[i] * op.qhat1[i] for i in range(len(widths) - 1)) / alpha  # layer i + 1
    k2 = sum(a[i] * op.qt2[i] * op.qhat2[i] for i in range(len(widths) - 1)) / alpha
    return Prediction(k1, k2, alpha, k1 * c / m_ref, alpha * c * (k1**2 + (t - 1) * k2**2) / t,
                      alpha * m_ref * (k2 * (t - 1) + k1) / t)


# --- training: squared loss, gradient descent, natural gradient --------------------------------------------------

def loss(net: Network, x: torch.Tensor, y: torch.Tensor) -> float:
    r""":math:`\frac1{2T}\sum_t |f(x_t) - y_t|^2` for inputs ``x`` (T, M_0) and targets ``y`` (T, C)."""
    return float(0.5 * ((forward(net, x)[0][-1] - y) ** 2).sum() / x.shape[0])


def _factors(net: Network, x: torch.Tensor, y: torch.Tensor):
    us, hs = forward(net, x)
    return us[-1] - y, backward_signals(net, us), [_with_one(h) for h in hs]  # r (T, C)


def _apply(net: Network, coefficients: list[torch.Tensor], deltas, hs, lr: float) -> Network:
    """theta_l <- theta_l - lr * J_l^T c_l for per-layer coefficients c_l (T, C)."""
    ws, bs = [], []
    for w, b, c, d, h in zip(net.weights, net.biases, coefficients, deltas, hs, strict=True):
        step = torch.einsum("tk,tki,tj->ij", c, d, h)  # (M_l, M_{l-1}+1)
        ws.append(w - lr * step[:, :-1])
        bs.append(b - lr * step[:, -1])
    return Network(ws, bs, net.activation)


def gradient(net: Network, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """The gradient of :func:`loss`, per layer as (M_l, M_{l-1}+1) (weights, then the bias as the last column),
    computed from the backward signals (no autograd)."""
    r, deltas, hs = _factors(net, x, y)
    return [torch.einsum("tk,tki,tj->ij", r / x.shape[0], d, h) for d, h in zip(deltas, hs, strict=True)]


def gd_step(net: Network, x: torch.Tensor, y: torch.Tensor, lr: float) -> Network:
    """One step of full-batch gradient descent on :func:`loss` with learning rate ``lr``: the residual itself is
    propagated backwards (one signal per layer, not one per output as for the Gram matrix)."""
    return _gd_update(net, *forward(net, x), y, lr)


def _gd_update(net: Network, us: list[torch.Tensor], hs: list[torch.Tensor], y: torch.Tensor, lr: float) -> Network:
    """:func:`gd_step` from the pre-activations ``us`` and layer inputs ``hs`` of :func:`forward`."""
    _, dphi = _act(net.activation)
    e = (us[-1] - y) / y.shape[0]  # (T, C): the loss's derivative in the outputs
    signals = [e]
    for w, u in zip(reversed(net.weights[1:]), reversed(us[:-1]), strict=True):
        e = (e @ w) * dphi(u)  # (T, M_{l-1})
        signals.append(e)
    ws = [w - lr * (e.T @ h) for w, e, h in zip(net.weights, signals[::-1], hs, strict=True)]
    bs = [b - lr * e.sum(0) for b, e in zip(net.biases, signals[::-1], strict=True)]
    return Network(ws, bs, net.activation)


def mean_residual_contraction(net: Network, x: torch.Tensor, y: torch.Tensor, lr: float, *,
                              steps: int = 10) -> tuple[float, np.ndarray]:
    r"""Run ``steps`` of gradient descent and return the per-step contraction factor of the mean residual,
    :math:`(|a_n| / |a_0|)^{1/n}`, and the losses (steps + 1,).

    The mean residual is the residual's component :math:`a = u^\top r` along the top eigenvector ``u`` (TC,) of the
    initial Gram matrix :math:`JJ^\top`, which is close to the uniform vector over inputs of one output (the mean of
    that output's residuals). Linearised, :math:`a` is multiplied by :math:`1 - \eta\lambda_{max}` each step, with
    no admixture of the slower bulk modes that the plain average over inputs carries."""
    u = torch.linalg.eigh(ntk_gram(net, x))[1][:, -1]  # (TC,)
    losses, comps = [], []
    for i in range(steps + 1):
        us, hs = forward(net, x)
        r = us[-1] - y
        losses.append(float(0.5 * (r**2).sum() / x.shape[0]))
        comps.append(abs(float(u @ r.reshape(-1))))
        if i < steps and math.isfinite(losses[-1]):
            net = _gd_update(net, us, hs, y, lr)
    factor = (comps[-1] / comps[0]) ** (1 / steps) if math.isfinite(comps[-1]) else math.inf
    return factor, np.array(losses)


#: natural-gradient variants of :func:`ngd_step`
METHODS = ("exact", "block", "kfac", "unit", "gd")


def _pinv(a: torch.Tensor, rtol: float) -> torch.Tensor:
    return torch.linalg.pinv(a, hermitian=True, rtol=rtol)


def ngd_step(net: Network, x: torch.Tensor, y: torch.Tensor, lr: float, *, method: str = "exact",
             rtol: float = 1e-10) -> Network:
    r"""One step :math:`\theta \leftarrow \theta - \eta \tilde F^{+} \nabla L` with the Fisher matrix
    :math:`F = J^\top J / T` (``"exact"``), its layer-wise block diagonal (``"block"``), K-FAC
    :math:`F_l \approx B_l \otimes A_{l-1}` (``"kfac"``) or its unit-wise block diagonal (``"unit"``); ``"gd"`` is
    plain gradient descent. Each is computed in its dual form on T x T or TC x TC matrices, with pseudo-inverses
    cutting eigenvalues below ``rtol`` times the largest:

    - exact: :math:`\Delta\theta = -\eta J^\top (J J^\top)^{+} r`; block: the same per layer with :math:`J_l`;
    - kfac: :math:`\Delta W_l = -\eta\,T\,D_l^\top (D_l D_l^\top)^{+} \tilde R (H H^\top)^{+} H` with backward
      signals :math:`D_l` (TC, M_l), layer inputs with a column of ones ``H`` (T, M_{l-1}+1) and
      :math:`\tilde R_{(t,k),s} = r_{tk}\delta_{ts}`;
    - unit: for each unit i, :math:`\Delta w_i = -\eta G_i^\top (G_i G_i^\top)^{+} (v_i / s_i)` with
      :math:`s_{i,t}^2 = \sum_k \delta_{tki}^2`, :math:`G_i = \mathrm{diag}(s_i) H`, :math:`v_{i,t} = \sum_k r_{tk}
      \delta_{tki}`; when :math:`H H^\top` is invertible (T <= M_{l-1} + 1) this is
      :math:`H^\top (H H^\top)^{-1} (v_i / s_i^2)`, computed so for every unit at once (with a pseudo-inverse in
      place of the inverse otherwise).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    r, deltas, hs = _factors(net, x, y)
    t, c = r.shape
    if method == "gd":
        return _apply(net, [r / t] * len(deltas), deltas, hs, lr)
    if method in ("exact", "block"):
        grams = []
        for d, h in zip(deltas, hs, strict=True):
            dd = d.reshape(t * c, -1) @ d.reshape(t * c, -1).T
            grams.append(dd * (h @ h.T).repeat_interleave(c, 0).repeat_interleave(c, 1))
        if method == "exact":
            coef = (_pinv(sum(grams), rtol) @ r.reshape(-1)).reshape(t, c)
            return _apply(net, [coef] * len(deltas), deltas, hs, lr)
        return _apply(net, [(_pinv(g, rtol) @ r.reshape(-1)).reshape(t, c) for g in grams], deltas, hs, lr)
    ws, bs = [], []
    for w, b, d, h in zip(net.weights, net.biases, deltas, hs, strict=True):
        if method == "kfac":
            dm = d.reshape(t * c, -1)  # (TC, M_l)
            rt = torch.zeros(t, c, t, dtype=r.dtype, device=r.device)
            rt[torch.arange(t), :, torch.arange(t)] = r
            mid = _pinv(dm @ dm.T, rtol) @ rt.reshape(t * c, t) @ _pinv(h @ h.T, rtol)  # (TC, T)
            step = t * dm.T @ mid @ h  # (M_l, M_{l-1}+1)
        else:
            s2 = d.pow(2).sum(1)  # (T, M_l)
            v = torch.einsum("tk,tki->ti", r, d)  # (T, M_l)
            step = (_pinv(h @ h.T, rtol) @ (v / s2)).T @ h  # (M_l, M_{l-1}+1)
        ws.append(w - lr * step[:, :-1])
        bs.append(b - lr * step[:, -1])
    return Network(ws, bs, net.activation)


def train(net: Network, x: torch.Tensor, y: torch.Tensor, lr: float, *, method: str = "exact",
          steps: int = 1) -> np.ndarray:
    """Losses (steps + 1,) divided by the starting loss over ``steps`` steps of :func:`ngd_step` with ``method``
    (``"gd"`` for gradient descent); once the loss is not finite, the rest are ``inf``."""
    out = [loss(net, x, y)]
    for _ in range(steps):
        if not math.isfinite(out[-1]):
            out.append(math.inf)
            continue
        net = ngd_step(net, x, y, lr, method=method)
        out.append(loss(net, x, y))
    return np.nan_to_num(np.array(out) / out[0], nan=np.inf, posinf=np.inf)


def one_step_rate(method: str, widths: list[int], n_inputs: int) -> float:
    r"""The learning rate at which one step of ``method`` zeroes the residual of the linearised network when every
    layer's dual Gram matrix is invertible (width >= T C, and T <= M_0 + 1 for K-FAC and the unit-wise blocks):
    exact 1; block :math:`1/L`; K-FAC :math:`1/((L-1)T + 1)` (each hidden layer moves f by :math:`T r`, the last by
    r); unit-wise :math:`1/\sum_{l=1}^L M_l` (each unit moves f by r)."""
    depth = len(widths) - 1
    rates = {"exact": 1.0, "block": 1.0 / depth, "kfac": 1.0 / ((depth - 1) * n_inputs + 1),
             "unit": 1.0 / sum(widths[1:])}
    if method not in rates:
        raise ValueError(f"no one-step rate for {method!r}; expected one of {tuple(rates)}")
    return rates[method]


# --- a single unit: diagonal plus rank 2 --------------------------------------------------------------------------

class UnitFisher(NamedTuple):
    r"""The Fisher block of one unit :math:`\varphi(w\cdot x + b)`, :math:`x \sim \mathcal N(0, vI_n)`, over
    :math:`(w, b)`: ``matrix`` (n+1, n+1) = :math:`vA_0 (I - UU^\top) + U K U^\top`, with ``basis`` U (n+1, 2)
    spanning (w/|w|, 0) and (0, 1), and ``core`` K (2, 2); :math:`A_k = \mathbb E[\varphi'(u)^2 z^k]`."""

    matrix: np.ndarray
    scale: float
    basis: np.ndarray
    core: np.ndarray


def unit_fisher(w: np.ndarray, b: float, *, variance: float = 1.0, activation: str = "tanh",
                n_quad: int = 101) -> UnitFisher:
    r"""Closed form of :math:`\mathbb E[\varphi'(u)^2 \tilde x\tilde x^\top]`, :math:`\tilde x = (x, 1)`,
    :math:`u = w\cdot x + b`, for ``w`` (n,): writing :math:`u = b + \sqrt v |w| z` with :math:`z` standard normal,
    the weight block is :math:`vA_0` on the directions orthogonal to w and :math:`vA_2` along it, the weight-bias
    entries :math:`\sqrt v A_1 w/|w|`, the bias entry :math:`A_0`. One-dimensional expectations by quadrature."""
    _, dphi = _act(activation)
    w = np.asarray(w, dtype=float)
    n, norm = len(w), float(np.linalg.norm(w))
    z, wq = _hermite(n_quad)
    a = dphi(torch.as_tensor(b + math.sqrt(variance) * norm * z)).numpy() ** 2
    a0, a1, a2 = (float(np.dot(wq, a * z**k)) for k in range(3))
    basis = np.zeros((n + 1, 2))
    basis[:n, 0] = w / norm
    basis[n, 1] = 1.0
    sv = math.sqrt(variance)
    core = np.array([[variance * a2, sv * a1], [sv * a1, a0]])
    scale = variance * a0
    matrix = scale * (np.eye(n + 1) - basis @ basis.T) + basis @ core @ basis.T
    return UnitFisher(matrix, scale, basis, core)


def unit_fisher_inverse(block: UnitFisher) -> np.ndarray:
    r"""The exact inverse (n+1, n+1) of :func:`unit_fisher`'s matrix without a general matrix inversion:
    :math:`(I - UU^\top)/(vA_0) + U K^{-1} U^\top` (U has orthonormal columns; only the 2 x 2 core is inverted)."""
    u, k = block.basis, block.core
    kinv = np.array([[k[1, 1], -k[0, 1]], [-k[1, 0], k[0, 0]]]) / (k[0, 0] * k[1, 1] - k[0, 1] * k[1, 0])
    return (np.eye(len(u)) - u @ u.T) / block.scale + u @ kinv @ u.T


def unit_fisher_monte_carlo(w: np.ndarray, b: float, rng: np.random.Generator, *, variance: float = 1.0,
                            activation: str = "tanh", n_samples: int = 200_000) -> np.ndarray:
    r"""Monte Carlo estimate (n+1, n+1) of :math:`\mathbb E[\varphi'(w\cdot x+b)^2 \tilde x\tilde x^\top]` from
    ``n_samples`` draws :math:`x \sim \mathcal N(0, vI)` of ``rng``."""
    _, dphi = _act(activation)
    w = np.asarray(w, dtype=float)
    x = rng.standard_normal((n_samples, len(w))) * math.sqrt(variance)
    xt = np.concatenate([x, np.ones((n_samples, 1))], axis=1)  # (N, n+1)
    a = dphi(torch.as_tensor(x @ w + b)).numpy() ** 2
    return (xt * a[:, None]).T @ xt / n_samples


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


# --- checks of the approximations: linearised step, unit-wise block structure -------------------------------------

def linearised_step(net: Network, new: Network, x: torch.Tensor) -> torch.Tensor:
    r"""The change :math:`J(\theta)(\theta' - \theta)` (T, C) of the outputs of the network linearised at ``net``'s
    parameters :math:`\theta`, for the step to ``new``'s :math:`\theta'`, on inputs ``x`` (T, M_0): a
    Jacobian-vector product (forward-mode autograd), exact up to rounding however large the step."""
    def outputs(ws, bs):
        return forward(Network(list(ws), list(bs), net.activation), x)[0][-1]

    tangents = (tuple(w1 - w0 for w0, w1 in zip(net.weights, new.weights, strict=True)),
                tuple(b1 - b0 for b0, b1 in zip(net.biases, new.biases, strict=True)))
    _, jvp = torch.func.jvp(outputs, (tuple(net.weights), tuple(net.biases)), tangents)
    return jvp


class BlockNorms(NamedTuple):
    r"""Frobenius norms of the unit blocks of one layer's Fisher matrix: ``diagonal`` (M,) :math:`\|F_{ii}\|`,
    ``off`` (M, M) :math:`\|F_{ij}\|` (its diagonal is ``diagonal``), and ``ratio``, the root mean square of the
    off-diagonal norms over that of the diagonal ones."""

    diagonal: np.ndarray
    off: np.ndarray
    ratio: float


def unit_block_norms(net: Network, x: torch.Tensor, layer: int) -> BlockNorms:
    r"""Norms of the unit blocks :math:`F_{ij}` ((M_{l-1}+1) x (M_{l-1}+1), unit i's incoming weights and bias
    against unit j's) of the Fisher matrix :math:`F = J^\top J / T` of layer ``layer`` (1..L) on inputs ``x``
    (T, M_0), without forming F: with backward signals :math:`\delta_{tki}` and layer inputs :math:`\tilde h(t)`,

    .. math:: \|F_{ij}\|^2 = T^{-2}\sum_{t,s} K_{ts}\,e_{t,ij}\,e_{s,ij},\quad e_{t,ij} = \textstyle\sum_k
              \delta_{tki}\delta_{tkj},\quad K_{ts} = (\tilde h(t)\cdot\tilde h(s))^2,

    summed through the eigenvectors of K (T of them, each an M x M product)."""
    us, hs = forward(net, x)
    d = backward_signals(net, us)[layer - 1]  # (T, C, M)
    h = _with_one(hs[layer - 1])  # (T, M_{l-1}+1)
    t = x.shape[0]
    lam, vec = torch.linalg.eigh((h @ h.T) ** 2)  # K = V diag(lam) V^T, lam >= 0
    sq = torch.zeros(d.shape[2], d.shape[2], dtype=d.dtype, device=d.device)
    for m in range(t):
        a = torch.einsum("t,tki,tkj->ij", vec[:, m], d, d)  # (M, M): sum_t V_tm e_{t,ij}
        sq += lam[m].clamp(min=0) * a * a
    off = sq.clamp(min=0).sqrt().cpu().numpy() / t
    diag = np.diag(off).copy()
    mask = ~np.eye(len(diag), dtype=bool)
    ratio = float(np.sqrt((off[mask] ** 2).mean() / (diag**2).mean()))
    return BlockNorms(diag, off, ratio)

