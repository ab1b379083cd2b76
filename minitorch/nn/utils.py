"""Gradient clipping and flat-vector helpers (torch.nn.utils)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor


def _params(parameters: Any) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(parameters: Iterable[Any], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their total norm is at most max_norm; returns the
    total norm before clipping."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        return Tensor(0.0)
    xp = grads[0]._xp()
    if norm_type == math.inf:
        total = max(xp.abs(g.data).max() for g in grads)
    else:
        total = sum(xp.sum(xp.abs(g.data.astype("float64")) ** norm_type) for g in grads) \
            ** (1.0 / norm_type)
    total = xp.asarray(total)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is non-finite")
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g.data = (g.data * coef).astype(g.dtype, copy=False)
    return Tensor._wrap(total.astype(grads[0].dtype))


def clip_grad_value_(parameters: Iterable[Any], clip_value: float) -> None:
    for p in _params(parameters):
        if p.grad is not None:
            p.grad.data = p.grad._xp().clip(p.grad.data, -clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Any]) -> Tensor:
    from ..creation import cat

    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Any]) -> None:
    i = 0
    for p in parameters:
        n = p.numel()
        p.data = vec.data[i:i + n].reshape(p.shape).astype(p.dtype).copy()
        i += n
