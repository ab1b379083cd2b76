"""Multi-layer perceptron f(x) = W_d(… σ(norm(W_1 x + b_1)) …) + b_d (seeds 001, 004)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import minitorch.nn as nn
from minitorch.nn import init as nn_init
from minitorch.tensor import Tensor

ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU, "elu": nn.ELU,
    "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus, "identity": nn.Identity,
}
NORMS = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}
# "default" keeps PyTorch's Linear initialisation U[−1/√n_in, 1/√n_in]
INITS = ("default", *nn_init.INITIALIZERS)
# the gain argument calculate_gain() takes for each activation (seed 004's variance argument)
_GAIN_NAMES = {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "sigmoid": "sigmoid",
               "identity": "linear", "gelu": "relu", "elu": "relu", "softplus": "relu"}


def _choice(kind: str, value: Any, choices: Any) -> None:
    if value not in choices:
        raise ValueError(f"MLP: unknown {kind} {value!r}; choose one of "
                         f"{', '.join(str(c) for c in choices)}")


class MLP(nn.Module):
    """Linear → [norm] → activation → [dropout] per hidden layer, then a Linear classifier.

    Inputs of shape (N, d1, d2, …) are flattened to (N, in_features). `init` names an
    initialiser of nn.init for the weights (biases start at 0, seed 004) with the gain of the
    activation, or "default" for PyTorch's. `checkpoint_segments` > 0 trains with activation
    checkpointing over that many segments (minitorch.utils.checkpoint.checkpoint_sequential).
    """

    def __init__(self, in_features: int, hidden_sizes: Sequence[int] = (512, 256),
                 num_classes: int = 10, activation: str = "relu", dropout: float = 0.0,
                 norm: str | None = None, init: str = "default",
                 checkpoint_segments: int = 0) -> None:
        super().__init__()
        _choice("activation", activation, ACTIVATIONS)
        _choice("norm", norm, (None, *NORMS))
        _choice("init", init, INITS)
        sizes = [in_features, *hidden_sizes, num_classes]
        if any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
            raise ValueError(f"MLP: layer sizes must be positive ints, got in_features="
                             f"{in_features}, hidden_sizes={list(hidden_sizes)}, "
                             f"num_classes={num_classes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        if isinstance(checkpoint_segments, bool) or not isinstance(checkpoint_segments, int) \
                or checkpoint_segments < 0:
            raise ValueError(f"MLP: checkpoint_segments must be an int >= 0, got "
                             f"{checkpoint_segments!r}")
        self.in_features, self.num_classes = in_features, num_classes
        self.checkpoint_segments = checkpoint_segments
        layers: list = []
        for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
            layers.append(nn.Linear(n_in, n_out))
            if norm is not None:
                layers.append(NORMS[norm](n_out))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        self.layers = nn.Sequential(*layers)
        if init != "default":
            self._initialise(init, _GAIN_NAMES[activation])

    def _initialise(self, name: str, gain_name: str) -> None:
        fn = nn_init.INITIALIZERS[name]
        linears = [m for m in self.layers if isinstance(m, nn.Linear)]
        for i, lin in enumerate(linears):
            # the classifier feeds no nonlinearity: its gain is the linear one
            act = gain_name if i < len(linears) - 1 else "linear"
            if name.startswith("kaiming"):
                fn(lin.weight, nonlinearity=act)
            elif name.startswith("xavier") or name == "orthogonal":
                fn(lin.weight, gain=nn_init.calculate_gain(act))
            else:
                fn(lin.weight)
            nn_init.zeros_(lin.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim > 2:
            x = x.reshape(x.shape[0], -1)
        if self.checkpoint_segments > 0 and self.training:
            # imported here so that MLP works where the checkpoint module is absent
            from minitorch.utils.checkpoint import checkpoint_sequential

            return checkpoint_sequential(self.layers, self.checkpoint_segments, x)
        return self.layers(x)

    def extra_repr(self) -> str:
        return f"checkpoint_segments={self.checkpoint_segments}" if self.checkpoint_segments \
            else ""
