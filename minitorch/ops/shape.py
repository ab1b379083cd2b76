"""Shape ops: reshape, permute, expand, indexing, cat / stack. Backward moves gradients back."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..autograd.function import Context, Function
from ..tensor import Tensor

W = Tensor._wrap


class Reshape(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor, shape: tuple) -> Tensor:
        ctx.shape = a.shape
        try:
            return W(a.data.reshape(shape))
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {a.shape} ({a.numel()} elements) "
                f"into shape {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        return g.reshape(ctx.shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor, dims: tuple) -> Tensor:
        ctx.inv = tuple(np.argsort(dims))
        return W(a.data.transpose(dims))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        return g.permute(*ctx.inv), None


class Expand(Function):
    """Broadcast to a larger shape (a view); backward sums back (done by the engine)."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, shape: tuple) -> Tensor:
        xp = a._xp()
        try:
            return W(xp.broadcast_to(a.data, shape))
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {a.shape} to {tuple(shape)}") from None

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        return g, None  # the engine sums g down to the input's shape


def _index_arrays(index: Any, xp: Any) -> Any:
    """Turn Tensors (and lists) inside an index into arrays of the right backend."""
    if isinstance(index, tuple):
        return tuple(_index_arrays(i, xp) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer))
               for i in items)


class GetItem(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor, index: Any) -> Tensor:
        xp = a._xp()
        idx = _index_arrays(index, xp)
        ctx.shape, ctx.index, ctx.dtype = a.shape, idx, a.dtype
        try:
            out = a.data[idx]
        except IndexError as exc:
            raise IndexError(f"index {index!r} is invalid for a tensor of shape {a.shape}: "
                             f"{exc}") from None
        return W(out)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        return IndexBackward.apply(g, ctx.shape, ctx.index), None


class IndexBackward(Function):
    """zeros(shape) with g added at `index` (repeated indices accumulate)."""

    @staticmethod
    def forward(ctx: Context, g: Tensor, shape: tuple, index: Any) -> Tensor:
        xp = g._xp()
        ctx.index = index
        out = xp.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g.data
        elif isinstance(index, tuple) or index.dtype != bool:
            backend.scatter_add(xp, out, index, g.data)
        else:
            out[index] = g.data  # a boolean mask selects each element at most once
        return W(out)

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> tuple:
        return GetItem.apply(gg, ctx.index), None, None


class Cat(Function):
    @staticmethod
    def forward(ctx: Context, dim: int, *tensors: Tensor) -> Tensor:
        xp = tensors[0]._xp()
        ctx.dim = dim
        ctx.sizes = [t.shape[dim] for t in tensors]
        try:
            return W(xp.concatenate([t.data for t in tensors], axis=dim))
        except ValueError:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"cat: shapes {shapes} do not match outside dim {dim}") from None

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        grads: list = [None]
        start = 0
        for n, need in zip(ctx.sizes, ctx.needs_input_grad[1:], strict=True):
            if need:
                idx = (slice(None),) * ctx.dim + (slice(start, start + n),)
                grads.append(g[idx])
            else:
                grads.append(None)
            start += n
        return tuple(grads)
