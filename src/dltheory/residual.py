r"""Signal and gradient propagation in deep residual networks at initialisation, and their initialisation.

The model is the simplified residual network :math:`x_{l+1} = x_l + W_l\,\varphi(\mathrm{N}(x_l))`, with
:math:`x_l \in \mathbb R^n`, independent weight matrices :math:`W_l` of i.i.d. :math:`\mathcal N(0, v)` entries,
:math:`\varphi` = ReLU (or tanh, to break the law's assumption) and :math:`\mathrm N` the identity or a batch
normalisation without affine parameters. For ReLU and no normalisation the squared norms of the signal and of the
back-propagated gradient both grow by :math:`(1 + nv/2)` per block on average, so by :math:`(1 + nv/2)^L` over
:math:`L` blocks: :math:`2^L` under He's :math:`v = 2/n`, and :math:`(1 + c/2L)^L \to e^{c/2}` under
:math:`v = c/(nL)`.

References: taki2017deep (the model and the depth-scaled initialisation), he2015delving (He's initialisation),
ioffe2015batch (batch normalisation).
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from dltheory.nets import device_of

__all__ = ["ACTIVATIONS", "Propagation", "init_variance", "predicted_log_ratio", "batch_norm", "propagate",
           "growth_exponent", "ResidualStack", "ResidualMLP", "train"]

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


class Propagation(NamedTuple):
    r"""Log-ratios of squared norms through a residual stack, one row per independent network.

    forward : ndarray, shape (draws, L + 1); column l is :math:`\log(\|X_l\|^2 / \|X_0\|^2)`, Frobenius norms over
        the batch of inputs.
    backward : ndarray, shape (draws, L + 1); column l is :math:`\log(\|G_l\|^2 / \|G_L\|^2)`, where
        :math:`G_l = \partial(\langle U, X_L\rangle)/\partial X_l` for a random Gaussian cotangent U at the top.
    """

    forward: np.ndarray
    backward: np.ndarray


def init_variance(scheme: str, width: int, depth: int, *, c: float = 2.0) -> float:
    r"""Variance of the residual weights: ``"he"`` gives :math:`2/n`, ``"depth"`` gives :math:`c/(nL)`."""
    if scheme == "he":
        return 2.0 / width
    if scheme == "depth":
        return c / (width * depth)
    raise ValueError(f"unknown scheme {scheme!r}; expected 'he' or 'depth'")


def predicted_log_ratio(width: int, depth: int | np.ndarray, variance: float) -> float | np.ndarray:
    r"""The law :math:`\log (1 + n v / 2)^L` for the forward and backward squared-norm ratios (ReLU, no BN)."""
    return depth * math.log1p(width * variance / 2)


def batch_norm(x: torch.Tensor, *, eps: float = 1e-5) -> torch.Tensor:
    """Batch normalisation without affine parameters, as in training mode: each unit standardised over the batch.

    x : shape (..., n, B), the batch on the last axis. Returns the same shape.
    """
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def propagate(width: int, depth: int, variance: float, *, draws: int, batch: int, activation: str = "relu",
              normalise: bool = False, tied: bool = False, chunk: int = 10,
              generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Propagation:
    r"""Forward and backward squared-norm log-ratios of ``draws`` random residual stacks, at every depth.

    Each network has ``depth`` blocks :math:`x \mapsto x + W\varphi(\mathrm N(x))` of width ``width`` with
    :math:`W_{ij} \sim \mathcal N(0, \text{variance})`, fed ``batch`` standard Gaussian inputs; ``normalise``
    inserts :func:`batch_norm` before the activation; ``tied`` reuses one matrix in every block (an assumption
    of the law broken). The backward pass is autograd's, from a standard Gaussian cotangent at the top. Networks
    are drawn ``chunk`` at a time (memory grows as chunk x depth x width^2).

    Returns :class:`Propagation` with arrays of shape (draws, depth + 1).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of {tuple(ACTIVATIONS)}")
    act = ACTIVATIONS[activation]
    device = device_of(generator)
    std = math.sqrt(variance)
    forward, backward = [], []
    for start in range(0, draws, chunk):
        k = min(chunk, draws - start)
        x0 = torch.randn(k, width, batch, generator=generator, dtype=dtype, device=device)  # (k, n, B)
        xs = [x0.requires_grad_()]
        w = None
        for _ in range(depth):
            if w is None or not tied:
                w = std * torch.randn(k, width, width, generator=generator, dtype=dtype, device=device)  # (k, n, n)
            h = batch_norm(xs[-1]) if normalise else xs[-1]
            xs.append(xs[-1] + torch.bmm(w, act(h)))
        u = torch.randn(xs[-1].shape, generator=generator, dtype=dtype, device=device)
        grads = torch.autograd.grad(xs[-1], xs[:-1], u)  # gradient of <u, x_L> w.r.t. each x_l
        sq = torch.stack([x.detach().double().square().sum((1, 2)) for x in xs], 1)  # (k, L+1)
        gq = torch.stack([g.double().square().sum((1, 2)) for g in grads] + [u.double().square().sum((1, 2))], 1)
        forward.append(torch.log(sq / sq[:, :1]).cpu().numpy())
        backward.append(torch.log(gq / gq[:, -1:]).cpu().numpy())
    fwd, bwd = np.concatenate(forward), np.concatenate(backward)
    if not (np.isfinite(fwd).all() and np.isfinite(bwd).all()):
        warnings.warn("non-finite norms: the signal overflowed; use dtype=torch.float64 or a smaller depth",
                      RuntimeWarning, stacklevel=2)
    return Propagation(fwd, bwd)


def growth_exponent(depths: np.ndarray, log_ratios: np.ndarray) -> float:
    r"""Least-squares slope :math:`p` of :math:`\log(\text{ratio}) = p \log(1 + L) + q`: the power of a
    polynomial growth :math:`(1 + L)^p`. depths : shape (k,); log_ratios : shape (k,)."""
    x = np.log1p(np.asarray(depths, dtype=float))
    y = np.asarray(log_ratios, dtype=float)
    return float(np.polyfit(x, y, 1)[0])


class ResidualStack(nn.Module):
    r"""``depth`` residual blocks :math:`h \mapsto h + \mathrm{relu}(\mathrm N(h)) W_l^\top` of width ``width``,
    the weights drawn :math:`\mathcal N(0, \text{variance})` from ``generator``; ``normalise`` puts a batch
    normalisation (no affine parameters) before each activation."""

    def __init__(self, width: int, depth: int, *, variance: float, normalise: bool = False,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        device = device_of(generator)
        w = math.sqrt(variance) * torch.randn(depth, width, width, generator=generator, dtype=dtype, device=device)
        self.weights = nn.Parameter(w)  # (L, n, n)
        self.norms = nn.ModuleList(nn.BatchNorm1d(width, affine=False, dtype=dtype, device=device)
                                   for _ in range(depth)) if normalise else None

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """h : shape (N, width) -> shape (N, width)."""
        for k in range(self.weights.shape[0]):
            z = self.norms[k](h) if self.norms is not None else h
            h = h + torch.relu(z) @ self.weights[k].T
        return h


class ResidualMLP(nn.Module):
    r"""A residual classifier: a linear embedding to ``width``, a :class:`ResidualStack` and a linear read-out.

    Embedding and read-out take PyTorch's default initialisation (:func:`dltheory.nets.linear`) from
    ``generator``, after the stack's weights.
    """

    def __init__(self, inputs: int, width: int, depth: int, classes: int, *, variance: float,
                 normalise: bool = False, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32) -> None:
        from dltheory.nets import linear

        super().__init__()
        self.stack = ResidualStack(width, depth, variance=variance, normalise=normalise, generator=generator,
                                   dtype=dtype)
        self.embed = linear(inputs, width, generator=generator, dtype=dtype)
        self.readout = linear(width, classes, generator=generator, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x : shape (N, inputs) -> logits, shape (N, classes)."""
        return self.readout(self.stack(self.embed(x)))


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float, batch_size: int,
          generator: torch.Generator | None = None) -> np.ndarray:
    """Adam on the cross-entropy of ``model(x)`` (x : shape (N, D)) against labels ``y`` (N,), on minibatches of
    ``batch_size`` drawn without replacement from ``generator`` (a fresh permutation each epoch), the learning
    rate decaying from ``lr`` to 0 on a cosine. Returns the minibatch loss of each step, shape (steps,), ``inf``
    from the first non-finite loss on (training then stops)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    losses = np.full(steps, np.inf)
    order, pos = None, len(x)
    for t in range(steps):
        if pos + batch_size > len(x):
            order, pos = torch.randperm(len(x), generator=generator, device=x.device), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        if not torch.isfinite(loss):
            break
        losses[t] = loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    return losses
