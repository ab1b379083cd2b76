"""Reverse-mode automatic differentiation: Function, the engine, grad modes, gradcheck."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .engine import run_backward, sum_to_shape
from .function import Context, Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck

__all__ = [
    "Context",
    "Function",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "sum_to_shape",
]


def _as_list(x: Any) -> list:
    if x is None:
        return []
    from ..tensor import Tensor

    return [x] if isinstance(x, Tensor) else list(x)


def _default_grads(outputs: list, grad_outputs: list, what: str) -> list:
    from ..tensor import Tensor

    if not grad_outputs:
        grad_outputs = [None] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"{what}: got {len(outputs)} output(s) but {len(grad_outputs)} grad_output(s)"
        )
    result = []
    for out, g in zip(outputs, grad_outputs, strict=True):
        if not out.requires_grad:
            raise RuntimeError(
                f"{what}: element of outputs does not require grad and has no grad_fn "
                "(was it computed under no_grad, or from tensors with requires_grad=False?)"
            )
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    f"{what}: grad can be implicitly created only for scalar outputs; this "
                    f"output has shape {out.shape}: pass a gradient of that shape"
                )
            xp = out._xp()
            g = Tensor._wrap(xp.ones(out.shape, dtype=out.dtype))
        elif not isinstance(g, Tensor):
            g = Tensor(g, dtype=out.dtype, device=out.device)
        if g.shape != out.shape:
            raise RuntimeError(
                f"{what}: gradient has shape {g.shape} but the output has shape {out.shape}"
            )
        result.append(g)
    return result


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's .grad."""
    outs = _as_list(tensors)
    grads = _default_grads(outs, _as_list(grad_tensors), "backward")
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(outs, grads, retain_graph, create_graph)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Return d(outputs)/d(inputs) without touching any .grad (PyTorch's autograd.grad)."""
    outs = _as_list(outputs)
    ins: Sequence[Any] = _as_list(inputs)
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    grads = _default_grads(outs, _as_list(grad_outputs), "grad")
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(outs, grads, retain_graph, create_graph, inputs=ins)
    assert result is not None
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} was not used to compute the outputs "
                "(pass allow_unused=True to get None for it)"
            )
    return tuple(result)
