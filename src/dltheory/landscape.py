r"""Loss landscapes of one-hidden-layer networks: critical points, embeddings into wider networks, Hessians.

The network is :math:`f(x) = \sum_{j=1}^H v_j \varphi(w_j^\top x + b_j) + c` with :math:`\varphi` = ``tanh``,
``relu`` or ``softplus``, and the loss is :math:`L = \frac{1}{2N}\sum_n (f(x_n) - y_n)^2`. Parameters travel as one
flat float64 vector, laid out ``[W (H*d), b (H), v (H), c]``, so that full Hessians come from ``torch.func.hessian``.

A critical point of an H-unit network embeds into an (H+1)-unit network without changing the function:

* *unit replication*: unit j is duplicated and its outgoing weight split as :math:`\lambda v_j, (1-\lambda) v_j`;
* *inactive unit*: a unit with outgoing weight 0 whose input weights make it silent on the data.

At a replication, the curvature along :math:`(\delta w_j, \delta w_{j'}) = ((1-\lambda)\delta, -\lambda\delta)` is
:math:`\lambda(1-\lambda)\,\delta^\top A_j \delta` with
:math:`A_j = \frac{v_j}{N}\sum_n r_n \varphi''(w_j^\top x_n + b_j)\,\tilde x_n \tilde x_n^\top`,
:math:`r_n = f(x_n) - y_n`, :math:`\tilde x = (x, 1)` (:func:`curvature_matrix`).

References: fukumizu2019semiflat, fukumizu2000local.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = ["Shape", "unpack", "pack", "forward", "loss", "gradient", "train_to_critical", "best_critical_point",
           "replicate", "add_inactive", "hessian", "curvature_matrix", "most_indefinite_unit",
           "predicted_negative_eigenvalues"]

_ACT = {"tanh": torch.tanh, "relu": torch.relu, "softplus": torch.nn.functional.softplus}


def _second_derivative(activation: str, z: Tensor) -> Tensor:
    r""":math:`\varphi''(z)`: zero for ReLU (almost everywhere)."""
    if activation == "tanh":
        return -2 * torch.tanh(z) * (1 - torch.tanh(z) ** 2)
    if activation == "softplus":
        s = torch.sigmoid(z)
        return s * (1 - s)
    return torch.zeros_like(z)


class Shape(NamedTuple):
    """Network size: ``hidden`` units H, ``inputs`` d, activation ``"tanh"`` or ``"relu"``."""

    hidden: int
    inputs: int
    activation: str


def unpack(theta: Tensor, shape: Shape) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Flat parameters (H*d + 2H + 1,) -> W (H, d), b (H,), v (H,), c ()."""
    h, d = shape.hidden, shape.inputs
    W = theta[: h * d].reshape(h, d)
    return W, theta[h * d: h * d + h], theta[h * d + h: h * d + 2 * h], theta[-1]


def pack(W: Tensor, b: Tensor, v: Tensor, c: Tensor) -> Tensor:
    """The inverse of :func:`unpack`."""
    return torch.cat([W.reshape(-1), b, v, c.reshape(1)])


def forward(theta: Tensor, shape: Shape, x: Tensor) -> Tensor:
    """Network output for inputs ``x`` (N, d); returns (N,)."""
    W, b, v, c = unpack(theta, shape)
    return _ACT[shape.activation](x @ W.T + b) @ v + c


def loss(theta: Tensor, shape: Shape, x: Tensor, y: Tensor) -> Tensor:
    """Half mean squared error at targets ``y`` (N,)."""
    return 0.5 * ((forward(theta, shape, x) - y) ** 2).mean()


def hessian(theta: Tensor, shape: Shape, x: Tensor, y: Tensor) -> Tensor:
    """Full Hessian of :func:`loss`, shape (P, P)."""
    return torch.func.hessian(lambda t: loss(t, shape, x, y))(theta)


def gradient(theta: Tensor, shape: Shape, x: Tensor, y: Tensor) -> Tensor:
    """Gradient of :func:`loss`, shape (P,)."""
    return torch.func.grad(lambda t: loss(t, shape, x, y))(theta)


def train_to_critical(theta: Tensor, shape: Shape, x: Tensor, y: Tensor, *, lbfgs_steps: int = 2000,
                      newton_steps: int = 50, tol: float = 1e-11) -> tuple[Tensor, float]:
    """Quasi-Newton (L-BFGS, strong Wolfe) to near a minimum, then Newton steps with the exact Hessian (its
    pseudo-inverse where it is singular) until the gradient norm is below ``tol``. Returns the point and its
    gradient norm.
    """
    t = theta.detach().clone().requires_grad_(True)
    opt = torch.optim.LBFGS([t], lr=1, max_iter=lbfgs_steps, tolerance_grad=1e-14, tolerance_change=1e-16,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        value = loss(t, shape, x, y)
        value.backward()
        return value

    opt.step(closure)
    t = t.detach()
    for _ in range(newton_steps):
        g = gradient(t, shape, x, y)
        if g.norm() < tol:
            break
        # minimum-norm Newton step through the pseudo-inverse of the symmetric Hessian (singular along the scale
        # symmetries of ReLU units); eigh-based, so the same on the CPU and on CUDA, where lstsq assumes full rank
        step = -torch.linalg.pinv(hessian(t, shape, x, y), rtol=1e-12, hermitian=True) @ g
        t = t + step
    return t, gradient(t, shape, x, y).norm().item()


def best_critical_point(shape: Shape, x: Tensor, y: Tensor, *, restarts: int, scale: float = 0.8, tol: float = 1e-10,
                        generator: torch.Generator | None = None) -> tuple[Tensor, float, float]:
    r"""The lowest-loss critical point over ``restarts`` initialisations :math:`\mathcal N(0, \mathrm{scale}^2)`
    drawn from ``generator``, each trained by :func:`train_to_critical`. Only restarts whose gradient norm ends
    at or below ``tol`` compete (a lower loss at a point that is not critical is no critical point); if none
    does, this warns (raise ``restarts``) and returns the lowest-loss point. Returns the point, its loss and its
    gradient norm."""
    size = shape.hidden * (shape.inputs + 2) + 1
    found = []
    for _ in range(restarts):
        start = scale * torch.randn(size, generator=generator, dtype=x.dtype, device=x.device)
        theta, grad_norm = train_to_critical(start, shape, x, y)
        found.append((loss(theta, shape, x, y).item(), grad_norm, theta))
    critical = [f for f in found if f[1] <= tol]
    if not critical:
        warnings.warn(f"no restart of the {shape.activation} network reached gradient norm {tol:g}: raise "
                      "restarts", RuntimeWarning, stacklevel=2)
    value, grad_norm, theta = min(critical or found, key=lambda f: f[0])
    return theta, value, grad_norm


def replicate(theta: Tensor, shape: Shape, j: int, lam: float) -> tuple[Tensor, Shape]:
    """Duplicate unit ``j`` (appended last) and split its outgoing weight as ``lam``, ``1 - lam``."""
    W, b, v, c = unpack(theta, shape)
    v_new = torch.cat([v, v[j:j + 1] * (1 - lam)])
    v_new[j] = v[j] * lam
    return pack(torch.cat([W, W[j:j + 1]]), torch.cat([b, b[j:j + 1]]), v_new, c), shape._replace(
        hidden=shape.hidden + 1)


def add_inactive(theta: Tensor, shape: Shape, w: Tensor, bias: float) -> tuple[Tensor, Shape]:
    """Append a unit with input weights ``w`` (d,), bias ``bias`` and outgoing weight 0."""
    W, b, v, c = unpack(theta, shape)
    return pack(torch.cat([W, w[None]]), torch.cat([b, b.new_tensor([bias])]), torch.cat([v, v.new_zeros(1)]),
                c), shape._replace(hidden=shape.hidden + 1)


def curvature_matrix(theta: Tensor, shape: Shape, x: Tensor, y: Tensor, j: int) -> Tensor:
    """:math:`A_j`, shape (d + 1, d + 1), on the augmented inputs :math:`(x, 1)`; zero for ReLU (φ'' = 0 a.e.)."""
    W, b, v, _ = unpack(theta, shape)
    r = forward(theta, shape, x) - y  # (N,)
    second = _second_derivative(shape.activation, x @ W[j] + b[j])
    xt = torch.cat([x, torch.ones_like(x[:, :1])], 1)  # (N, d + 1)
    return v[j] * (xt * (r * second)[:, None]).T @ xt / x.shape[0]


def most_indefinite_unit(theta: Tensor, shape: Shape, x: Tensor, y: Tensor) -> tuple[int, Tensor]:
    """The unit whose :math:`A_j` has the most negative eigenvalue, and every unit's eigenvalues (H, d + 1).

    A rule that does not depend on the order of the units: networks that differ by a permutation of their
    hidden units pick the same unit."""
    eig = torch.stack([torch.linalg.eigvalsh(curvature_matrix(theta, shape, x, y, j)) for j in range(shape.hidden)])
    return int(eig[:, 0].argmin()), eig


def predicted_negative_eigenvalues(theta: Tensor, shape: Shape, x: Tensor, y: Tensor, j: int) -> Tensor:
    r"""The negative Hessian eigenvalues that replicating unit ``j`` at :math:`\lambda = 1/2` adds: half the
    negative eigenvalues of :math:`A_j`, ascending.

    At :math:`\lambda = 1/2` swapping the two copies is a symmetry that fixes the point, so the Hessian splits
    into a symmetric block (the narrow network's curvature) and an antisymmetric one; at a critical point the
    antisymmetric block in the input weights is :math:`\tfrac12 A_j` per unit length of
    :math:`(\delta, -\delta)/\sqrt2`, and the outgoing-weight difference is the flat :math:`\lambda` direction.
    """
    eig = torch.linalg.eigvalsh(curvature_matrix(theta, shape, x, y, j))
    return 0.5 * eig[eig < 0]
