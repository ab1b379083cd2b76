"""Matrix ops: matmul with NumPy's batching and 1-D rules, inverse and determinant."""

from __future__ import annotations

from ..autograd.function import Context, Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor

W = Tensor._wrap


class MatMul(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        try:
            return W(a.data @ b.data)
        except ValueError:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                f"({a.shape[-1] if a.ndim else '?'} != "
                f"{b.shape[-2] if b.ndim > 1 else (b.shape[0] if b.ndim else '?')})"
            ) from None

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        a, b = ctx.saved_tensors
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            ga, gb = g * b, g * a
        elif a.ndim == 1:  # (n) @ (..., n, m) -> (..., m)
            g2 = g.unsqueeze(-2)
            ga = (g2 @ b.mT).squeeze(-2)
            gb = a.unsqueeze(-1) @ g2
        elif b.ndim == 1:  # (..., n, m) @ (m) -> (..., n)
            g2 = g.unsqueeze(-1)
            ga = g2 @ b.unsqueeze(0)
            gb = (a.mT @ g2).squeeze(-1)
        else:
            ga = g @ b.mT if ctx.needs_input_grad[0] else None
            gb = a.mT @ g if ctx.needs_input_grad[1] else None
        return ga, gb


class Inverse(Function):
    """d(X^-1) = -X^-1 dX X^-1  =>  grad_X = -X^-T G X^-T."""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        xp = a._xp()
        inv = xp.linalg.inv(a.data)
        ctx.inv = inv
        ctx.save_for_backward(a)
        return W(inv)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (a,) = ctx.saved_tensors
        inv = Inverse.apply(a) if is_grad_enabled() else W(ctx.inv)
        inv_t = inv.mT
        return -(inv_t @ g @ inv_t)


class Det(Function):
    """grad det X = det(X) X^-T (Jacobi's formula)."""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        xp = a._xp()
        ctx.save_for_backward(a)
        return W(xp.asarray(xp.linalg.det(a.data)))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (a,) = ctx.saved_tensors
        d = Det.apply(a) if is_grad_enabled() else W(a._xp().asarray(a._xp().linalg.det(a.data)))
        coef = (g * d).unsqueeze(-1).unsqueeze(-1)
        return coef * Inverse.apply(a).mT
