"""Small feed-forward networks and a deterministic full-batch trainer, shared by the notebooks."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["mlp", "train_classifier", "accuracy"]


def mlp(sizes: list[int], *, activation: type[nn.Module] = nn.ReLU, generator: torch.Generator | None = None,
        dtype=torch.float32, device=None) -> nn.Sequential:
    """A multilayer perceptron ``sizes[0] -> ... -> sizes[-1]`` (no activation after the last layer), with
    PyTorch's default initialisation drawn from ``generator``."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        lin = nn.Linear(a, b, dtype=dtype, device=device)
        bound = 1 / a**0.5
        with torch.no_grad():
            lin.weight.uniform_(-bound, bound, generator=generator)
            lin.bias.uniform_(-bound, bound, generator=generator)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int = 300, lr: float = 1e-2,
                     weight_decay: float = 0.0, input_noise: float = 0.0,
                     generator: torch.Generator | None = None) -> list[float]:
    """Adam on the cross-entropy of ``model(x)`` against labels ``y``.

    x : shape (N, D); y : shape (N,); full batch. ``input_noise`` adds Gaussian noise of that standard deviation
    to the inputs at every step (noise augmentation). Returns the loss per epoch.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    for _ in range(epochs):
        xb = x
        if input_noise:
            xb = x + input_noise * torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        loss = nn.functional.cross_entropy(model(xb), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``x`` (N, D) whose arg-max output equals ``y`` (N,)."""
    return (model(x).argmax(1) == y).double().mean().item()
