r"""The theory of :mod:`dltheory.fisher`: order parameters of a wide random network by Gaussian quadrature, and the
predicted spectrum of its Fisher matrix (mean, second moment, largest eigenvalue) at finite sample size.

References: karakida2019universal, karakida2019pathological.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from dltheory.fisher.network import _act

__all__ = ["gaussian_expectation", "bivariate_expectation", "relu_moments", "OrderParameters", "order_parameters",
           "Prediction", "predict_spectrum"]


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
