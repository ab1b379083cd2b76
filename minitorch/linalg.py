"""mt.linalg: inverse, determinant, log-determinant (differentiable)."""

from __future__ import annotations

from . import ops
from .tensor import Tensor


def inv(a: Tensor) -> Tensor:
    return ops.Inverse.apply(a)


def det(a: Tensor) -> Tensor:
    return ops.Det.apply(a)


def slogdet_logabs(a: Tensor) -> Tensor:
    """log|det A|; gradient A^-T."""
    return det(a).abs().log()


def logdet(a: Tensor) -> Tensor:
    return det(a).log()


def norm(a: Tensor, ord: int = 2) -> Tensor:  # noqa: A002
    return a.norm(ord)
