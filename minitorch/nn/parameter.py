"""Parameter: a leaf Tensor that a Module registers and an optimiser updates."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's learnable state; requires_grad=True by default."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = Tensor._wrap(__import__("numpy").empty(0, dtype="float32"))
        arr = data.data if isinstance(data, Tensor) else data
        if not hasattr(arr, "shape"):
            arr = Tensor(arr).data
        self.data = arr  # shares memory with `data`, as torch.nn.Parameter does
        self.grad = None
        self.grad_fn = None
        self._out_idx = 0
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
