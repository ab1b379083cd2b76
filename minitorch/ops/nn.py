"""Fused neural-network ops: softmax / log-softmax, Linear, softmax-cross-entropy.

Each is one graph node with a hand-written, numerically stable backward; the plain backward
works on arrays directly (fast path) and the recorded one (create_graph=True) uses Tensor ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..autograd.function import Context, Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor

W = Tensor._wrap


def log_softmax_array(x: Any, dim: int) -> Any:
    xp = np if type(x) is np.ndarray else backend.get_array_module(x)
    m = x.max(axis=dim, keepdims=True)
    shifted = x - m
    return shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))


def softmax_array(x: Any, dim: int) -> Any:
    xp = np if type(x) is np.ndarray else backend.get_array_module(x)
    e = xp.exp(x - x.max(axis=dim, keepdims=True))
    e /= e.sum(axis=dim, keepdims=True)
    return e


class Softmax(Function):
    """s = exp(x - max) / sum;  grad_x = s * (g - sum(g * s))  (Jacobian s_j(δ_jk - s_k))."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, dim: int) -> Tensor:
        s = softmax_array(a.data, dim)
        ctx.dim, ctx.s = dim, s
        ctx.save_for_backward(a)
        return W(s)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        (a,) = ctx.saved_tensors
        s = Softmax.apply(a, ctx.dim) if is_grad_enabled() else W(ctx.s)
        return s * (g - (g * s).sum(dim=ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    """log_softmax via logsumexp;  grad_x = g - softmax(x) * sum(g)."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, dim: int) -> Tensor:
        out = log_softmax_array(a.data, dim)
        ctx.dim, ctx.out = dim, out
        ctx.save_for_backward(a)
        return W(out)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        (a,) = ctx.saved_tensors
        if is_grad_enabled():
            s = Softmax.apply(a, ctx.dim)
        else:
            s = W(a._xp().exp(ctx.out))
        return g - s * g.sum(dim=ctx.dim, keepdim=True), None


class Linear(Function):
    """y = x @ W^T + b as one node (x: (..., in), W: (out, in), b: (out,))."""

    @staticmethod
    def forward(ctx: Context, x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
        if x.shape[-1] != w.shape[1]:
            raise ValueError(
                f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight "
                f"expects {w.shape[1]} (weight shape {w.shape})"
            )
        ctx.save_for_backward(x, w)
        xd = x.data
        if xd.ndim == 2 and type(xd) is np.ndarray:
            # (W x^T)^T, made contiguous: the same product, but OpenBLAS runs it up to 2x
            # faster than x @ W^T for a small batch (BENCHMARKS.md, CPU speed); the copy of the
            # (batch, out) result is cheap next to the product
            out = (w.data @ xd.T).T.copy()
        else:
            out = xd @ w.data.T
        if b is not None:
            out += b.data
        return W(out)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        if not is_grad_enabled():  # fast path on arrays
            gd = g.data
            g2 = gd.reshape(-1, gd.shape[-1])
            x2 = x.data.reshape(-1, x.shape[-1])
            gx = W(gd @ w.data) if need_x else None
            gw = W(g2.T @ x2) if need_w else None
            gb = W(g2.sum(axis=0)) if need_b else None
            return gx, gw, gb
        g2 = g.reshape(-1, g.shape[-1])
        gx = g @ w if need_x else None
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if need_w else None
        gb = g2.sum(dim=0) if need_b else None
        return gx, gw, gb


class SoftmaxCrossEntropy(Function):
    """Rows: loss_i = -sum_c coef_ic log_softmax(z)_ic, for z (M, C) and a constant coef
    (one-hot targets, class weights, label smoothing and ignored rows are all folded into
    coef). With divisor=None the per-row losses are returned; otherwise sum(rows)/divisor.
    grad_z = (softmax(z) * sum_c coef - coef) * g: softmax - onehot in the plain case."""

    @staticmethod
    def forward(ctx: Context, z: Tensor, coef: Any, divisor: Any) -> Tensor:
        logp = log_softmax_array(z.data, 1)
        rows = -(coef * logp).sum(axis=1)
        ctx.coef, ctx.divisor, ctx.logp = coef, divisor, logp
        ctx.save_for_backward(z)
        if divisor is None:
            return W(rows)
        return W(rows.sum() / divisor)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        (z,) = ctx.saved_tensors
        coef, divisor = ctx.coef, ctx.divisor
        if is_grad_enabled():
            p = Softmax.apply(z, 1)
            c = W(coef)
            gz = p * W(coef.sum(axis=1, keepdims=True)) - c
            scale = g.reshape(-1, 1) if divisor is None else g / W(z._xp().asarray(divisor))
            return gz * scale, None, None
        xp = z._xp()
        gz = xp.exp(ctx.logp)
        gz *= coef.sum(axis=1, keepdims=True)
        gz -= coef
        if divisor is None:
            gz *= g.data.reshape(-1, 1)
        else:
            gz *= g.data / divisor
        return W(gz.astype(z.dtype, copy=False)), None, None
