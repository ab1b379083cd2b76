"""Reductions with PyTorch's `dim` / `keepdim`; backward broadcasts the gradient back."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Context, Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor

W = Tensor._wrap


def norm_dims(dim: Any, ndim: int) -> tuple | None:
    """None (all), or a sorted tuple of non-negative axes; checks the range."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dimension {d} is out of range for a tensor with {ndim} dims")
        out.append(d % max(ndim, 1))
    return tuple(sorted(set(out)))


def keep_shape(shape: tuple, dims: tuple | None) -> tuple:
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _count(shape: tuple, dims: tuple | None) -> int:
    if dims is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[d] for d in dims], dtype=np.int64))


class Sum(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor, dims: tuple | None, keepdim: bool) -> Tensor:
        ctx.shape, ctx.dims = a.shape, dims
        xp = a._xp()
        return W(xp.sum(a.data, axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        return g.reshape(keep_shape(ctx.shape, ctx.dims)).expand(ctx.shape), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor, dims: tuple | None, keepdim: bool) -> Tensor:
        ctx.shape, ctx.dims = a.shape, dims
        xp = a._xp()
        return W(xp.mean(a.data, axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        n = _count(ctx.shape, ctx.dims)
        return (g / n).reshape(keep_shape(ctx.shape, ctx.dims)).expand(ctx.shape), None, None


class Extremum(Function):
    """max/min over one dim (gradient to the selected index, as PyTorch) or over all
    elements (gradient shared evenly among ties, as PyTorch's max())."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, dim: int | None, keepdim: bool, is_max: bool) -> Tensor:
        xp = a._xp()
        x = a.data
        ctx.dim, ctx.keepdim = dim, keepdim
        if dim is None:
            val = x.max() if is_max else x.min()
            mask = x == val
            ctx.weight = mask / mask.sum()
            return W(xp.asarray(val))
        idx = (xp.argmax if is_max else xp.argmin)(x, axis=dim)
        idx_k = xp.expand_dims(idx, dim)
        val = xp.take_along_axis(x, idx_k, axis=dim)
        shape = [1] * x.ndim
        shape[dim] = x.shape[dim]
        ctx.weight = xp.arange(x.shape[dim]).reshape(shape) == idx_k
        ctx.indices = idx_k if keepdim else idx
        return W(val if keepdim else xp.squeeze(val, axis=dim))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        w = W(ctx.weight.astype(g.dtype))
        if ctx.dim is not None and not ctx.keepdim:
            g = g.unsqueeze(ctx.dim)
        return g * w, None, None, None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor, dims: tuple, keepdim: bool) -> Tensor:
        xp = a._xp()
        m = xp.max(a.data, axis=dims, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):  # an all -inf slice gives -inf, as PyTorch
            s = xp.log(xp.sum(xp.exp(a.data - m), axis=dims, keepdims=True)) + m
        ctx.shape, ctx.dims, ctx.out = a.shape, dims, s
        ctx.save_for_backward(a)
        return W(s if keepdim else xp.squeeze(s, axis=dims))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        (a,) = ctx.saved_tensors
        g = g.reshape(keep_shape(ctx.shape, ctx.dims))
        if is_grad_enabled():
            p = (a - LogSumExp.apply(a, ctx.dims, True)).exp()
        else:
            p = W(a._xp().exp(a.data - ctx.out))
        return g * p, None, None
