"""Feed-forward networks built one way: parameters drawn from an explicit generator, on that generator's device.

Every network of the book is made here. :func:`linear` and :func:`mlp` draw PyTorch's default initialisation
(``"default"``: weights and biases uniform on :math:`\\pm 1/\\sqrt{\\text{fan-in}}`) or He's (``"he"``: weights
:math:`\\mathcal N(0, 2/\\text{fan-in})`, zero biases) from ``generator``, so a seed fixes every network and a
generator made on ``cuda`` puts the network there. :func:`uniform` does the same for the raw tensors of batched
networks (many small networks trained as one).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["device_of", "uniform", "linear", "mlp", "train_classifier", "accuracy"]

INITS = ("default", "he")


def device_of(generator: torch.Generator | None) -> torch.device:
    """The device a generator draws on (the CPU without one)."""
    return generator.device if generator is not None else torch.device("cpu")


def uniform(*shape: int, fan_in: int, generator: torch.Generator | None = None,
            dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """PyTorch's default initialisation as a leaf tensor: uniform on :math:`\\pm 1/\\sqrt{\\text{fan\\_in}}`,
    shape ``shape``, on ``generator``'s device, requiring grad."""
    bound = fan_in**-0.5
    t = torch.rand(*shape, generator=generator, dtype=dtype, device=device_of(generator))
    return ((2 * t - 1) * bound).requires_grad_()


def linear(fan_in: int, fan_out: int, *, init: str = "default", generator: torch.Generator | None = None,
           dtype: torch.dtype = torch.float32) -> nn.Linear:
    """An ``nn.Linear(fan_in, fan_out)`` initialised by ``init`` from ``generator``, on its device."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of {INITS}")
    lin = nn.Linear(fan_in, fan_out, dtype=dtype, device=device_of(generator))
    with torch.no_grad():
        if init == "default":
            bound = fan_in**-0.5
            lin.weight.uniform_(-bound, bound, generator=generator)
            lin.bias.uniform_(-bound, bound, generator=generator)
        else:
            lin.weight.normal_(0, (2 / fan_in) ** 0.5, generator=generator)
            lin.bias.zero_()
    return lin


def mlp(sizes: list[int], *, activation: type[nn.Module] = nn.ReLU, init: str = "default",
        generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """A multilayer perceptron ``sizes[0] -> ... -> sizes[-1]``, ``activation`` between layers and none after
    the last, every layer by :func:`linear`."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(linear(a, b, init=init, generator=generator, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int = 300, lr: float = 1e-2,
                     weight_decay: float = 0.0, input_noise: float = 0.0,
                     generator: torch.Generator | None = None) -> list[float]:
    """Full-batch Adam on the cross-entropy of ``model(x)`` against labels ``y``.

    x : shape (N, D); y : shape (N,). ``input_noise`` adds Gaussian noise of that standard deviation to the
    inputs at every step (noise augmentation), drawn from ``generator``. Returns the loss per epoch.
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
