"""minitorch.nn.functional: stateless layers, activations and losses (PyTorch's F.*)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from .. import random as _random
from ..tensor import Tensor

W = Tensor._wrap

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_shape(a: Tensor, b: Tensor, name: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name}: input shape {a.shape} and target shape {b.shape} differ")


# ---- layers ---------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x W^T + b, one graph node."""
    return ops.Linear.apply(input, weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Inverted dropout: zero with probability p, scale the rest by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    gen = _random.generator(input.device)
    keep = gen.random(input.shape, dtype=np.float32) >= p
    mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return input * W(mask)


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[-len(shape):] != shape:
        raise ValueError(f"layer_norm: input shape {input.shape} does not end in {shape}")
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    mu = input.mean(dim=dims, keepdim=True)
    var = input.var(dim=dims, keepdim=True, correction=0)
    out = (input - mu) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch statistics in training (running stats updated in place), running stats in eval."""
    if input.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected a 2-D or 3-D input (N, C[, L]), got {input.shape}")
    dims = (0,) if input.ndim == 2 else (0, 2)
    shape = (1, -1) if input.ndim == 2 else (1, -1, 1)
    if training:
        n = input.numel() // input.shape[1]
        if n <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, "
                f"got input of shape {input.shape}"
            )
        mu = input.mean(dim=dims)
        var = input.var(dim=dims, correction=0)
        if running_mean is not None:
            running_mean.data *= 1 - momentum
            running_mean.data += momentum * mu.data
        if running_var is not None:
            running_var.data *= 1 - momentum
            running_var.data += momentum * var.data * (n / (n - 1))
    else:
        mu, var = running_mean, running_var
    out = (input - mu.reshape(shape)) / (var.reshape(shape) + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


# ---- activations ------------------------------------------------------------------------------
def relu(x: Tensor) -> Tensor:
    return ops.ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return ops.LeakyReLU.apply(x, negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return ops.Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    return ops.Tanh.apply(x)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Φ(x) exactly (erf), or the tanh approximation with approximate='tanh'."""
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + inner.tanh())
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1.0 + (x * (1.0 / math.sqrt(2.0))).erf())


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    if beta == 1.0:
        return ops.Softplus.apply(x)
    return ops.Softplus.apply(x * beta) / beta


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    neg = ops.Clamp.apply(x, None, 0.0)
    return ops.Where.apply(x.data > 0, x, alpha * (neg.exp() - 1))


def step(x: Tensor) -> Tensor:
    """Heaviside step (seed 001). Its derivative is 0 almost everywhere, so no gradient flows
    through it and a network built on it cannot be trained by backprop: the output is a
    constant (non-differentiable) tensor."""
    return W((x.data > 0).astype(x.dtype))


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    return ops.Softmax.apply(x, dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    return ops.LogSoftmax.apply(x, dim)


def one_hot(target: Tensor, num_classes: int = -1) -> Tensor:
    t = target.data
    xp = target._xp()
    if num_classes < 0:
        num_classes = int(t.max()) + 1
    return W((t[..., None] == xp.arange(num_classes)).astype(np.int64))


# ---- losses -----------------------------------------------------------------------------------
def _class_last(input: Tensor) -> tuple:
    """(N, C, d1, ...) -> (N*d1*..., C) and the per-element shape (N, d1, ...)."""
    if input.ndim == 1:
        return input.reshape(1, -1), ()
    if input.ndim == 2:
        return input, (input.shape[0],)
    perm = (0,) + tuple(range(2, input.ndim)) + (1,)
    z = input.permute(*perm)
    return z.reshape(-1, input.shape[1]), (input.shape[0],) + input.shape[2:]


def _check_targets(t: Any, n_classes: int, ignore_index: int) -> None:
    if type(t) is not np.ndarray or t.size == 0:  # no host sync on the GPU
        return
    valid = t != ignore_index
    if not valid.any():
        return
    bad = t[valid & ((t < 0) | (t >= n_classes))]
    if bad.size:
        raise IndexError(
            f"target label {int(bad.flat[0])} is out of range for {n_classes} classes "
            f"(valid labels are 0..{n_classes - 1})"
        )


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Fused, stable softmax-cross-entropy on logits; targets are class indices or class
    probabilities. One graph node (gradient (softmax(z) - onehot(y)) / N in the plain case)."""
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    z, elem_shape = _class_last(input)
    n_classes = z.shape[1]
    xp = input._xp()
    dt = input.dtype
    w = None if weight is None else weight.data.astype(dt, copy=False)
    if w is not None and w.shape != (n_classes,):
        raise ValueError(f"cross_entropy: weight has shape {w.shape}, expected ({n_classes},)")
    tgt = target.data if isinstance(target, Tensor) else xp.asarray(target)
    eps = label_smoothing
    if tgt.dtype.kind == "f":  # class probabilities, same shape as the input
        if tuple(tgt.shape) != tuple(input.shape):
            raise ValueError(
                f"cross_entropy: probability targets must have the input's shape {input.shape}, "
                f"got {tuple(tgt.shape)}"
            )
        if isinstance(target, Tensor) and target.requires_grad:
            # soft targets that are themselves learned (e.g. distillation): not fused, so
            # that the gradient d/dp = -w log_softmax(z) flows to them too
            p = _class_last(target)[0]
            if eps > 0:
                p = p * (1 - eps) + eps / n_classes
            if w is not None:
                p = p * W(w)
            rows = -(p * ops.LogSoftmax.apply(z, 1)).sum(dim=1)
            if reduction == "none":
                return rows.reshape(elem_shape)
            return rows.mean() if reduction == "mean" else rows.sum()
        p = _class_last(W(tgt))[0].data.astype(dt, copy=False)
        if eps > 0:
            p = p * (1 - eps) + eps / n_classes
        coef = p if w is None else p * w
        divisor = None if reduction == "none" else (
            dt.type(z.shape[0]) if reduction == "mean" else dt.type(1))
    else:
        if tgt.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: targets must be integer class indices or float "
                            f"probabilities, got {tgt.dtype}")
        tgt = tgt.reshape(-1)
        if tgt.shape[0] != z.shape[0]:
            raise ValueError(
                f"cross_entropy: input has batch size {z.shape[0]} (shape {input.shape}) but "
                f"target has {tgt.shape[0]} labels (shape {tuple(target.shape)})"
            )
        _check_targets(tgt, n_classes, ignore_index)
        valid = tgt != ignore_index
        safe = xp.where(valid, tgt, 0)
        onehot = (safe[:, None] == xp.arange(n_classes)).astype(dt)
        wy = xp.ones(tgt.shape, dtype=dt) if w is None else w[safe]
        wy = wy * valid
        coef = onehot * ((1 - eps) * wy)[:, None]
        if eps > 0:
            wc = xp.ones(n_classes, dtype=dt) if w is None else w
            coef = coef + (eps / n_classes) * valid[:, None].astype(dt) * wc[None, :]
        if reduction == "mean":
            divisor = wy.sum()
        elif reduction == "sum":
            divisor = dt.type(1)
        else:
            divisor = None
    out = ops.SoftmaxCrossEntropy.apply(z, coef, divisor)
    if reduction == "none":
        out = out.reshape(elem_shape)
    return out


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """-w[y] * input[y] on log-probabilities; mean divides by the sum of the weights used."""
    _check_reduction(reduction)
    z, elem_shape = _class_last(input)
    n_classes = z.shape[1]
    xp = input._xp()
    dt = input.dtype
    tgt = (target.data if isinstance(target, Tensor) else xp.asarray(target)).reshape(-1)
    if tgt.shape[0] != z.shape[0]:
        raise ValueError(f"nll_loss: input batch {z.shape[0]} != target batch {tgt.shape[0]}")
    _check_targets(tgt, n_classes, ignore_index)
    valid = tgt != ignore_index
    safe = xp.where(valid, tgt, 0)
    wy = (xp.ones(tgt.shape, dtype=dt) if weight is None else weight.data[safe].astype(dt)) * valid
    coef = (safe[:, None] == xp.arange(n_classes)).astype(dt) * wy[:, None]
    rows = -(z * W(coef)).sum(dim=1)
    if reduction == "none":
        return rows.reshape(elem_shape)
    if reduction == "sum":
        return rows.sum()
    return rows.sum() / W(xp.asarray(wy.sum()))


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:
    _same_shape(input, target, "huber_loss")
    d = input - target
    a = d.abs()
    loss = ops.Where.apply(a.data < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """-(y log x + (1-y) log(1-x)), logs clamped at -100 as PyTorch; gradient (x-y)/(x(1-x))."""
    _same_shape(input, target, "binary_cross_entropy")
    x = input.data
    if type(x) is np.ndarray and x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError("binary_cross_entropy: input values must be probabilities in [0, 1]; "
                         "for logits use binary_cross_entropy_with_logits")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Stable: (1-y) x + lw * softplus(-x), lw = 1 + (pos_weight-1) y."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    sp = ops.Softplus.apply(-input)
    if pos_weight is not None:
        lw = (pos_weight - 1) * target + 1
        loss = (1 - target) * input + lw * sp
    else:
        loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


from ..autograd.function import Context, Function  # noqa: E402


class BinaryCrossEntropy(Function):
    @staticmethod
    def forward(ctx: Context, x: Tensor, y: Tensor) -> Tensor:
        xp = x._xp()
        ctx.save_for_backward(x, y)
        lx = xp.maximum(xp.log(x.data), -100)
        l1x = xp.maximum(xp.log1p(-x.data), -100)
        return W(-(y.data * lx + (1 - y.data) * l1x))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - y) / ((1 - x) * x).clamp(min=1e-12)
        if ctx.needs_input_grad[1]:
            gy = g * ((1 - x).log().clamp(min=-100) - x.log().clamp(min=-100))
        return gx, gy
