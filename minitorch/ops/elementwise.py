"""Elementwise ops: arithmetic with broadcasting, unary maths, activations, comparisons.

Binary ops take a Tensor and a Tensor or Python scalar; the engine undoes broadcasting.
Backward formulas use Tensor ops so they are differentiable again (create_graph=True).
Where the output is needed in backward (exp, tanh, sigmoid, sqrt) it is reused as a constant
in plain backward, and recomputed from the input when the backward itself is recorded, which
keeps double backward exact and avoids a reference cycle output -> node -> output.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backend
from ..autograd.function import Context, Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor

W = Tensor._wrap


def _val(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _bcast_error(name: str, a: Any, b: Any) -> ValueError:
    """The error for operands that do not broadcast: names the op and both shapes."""
    sa, sb = (tuple(getattr(x, "shape", ())) for x in (a, b))
    return ValueError(f"{name}: shapes {sa} and {sb} cannot be broadcast together")


class Add(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Tensor:
        try:
            return W(_val(a) + _val(b))
        except ValueError:
            raise _bcast_error("add", a, b) from None

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Tensor:
        try:
            return W(_val(a) - _val(b))
        except ValueError:
            raise _bcast_error("sub", a, b) from None

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Tensor:
        ctx.save_for_backward(a, b)
        try:
            return W(_val(a) * _val(b))
        except ValueError:
            raise _bcast_error("mul", a, b) from None

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        a, b = ctx.saved_tensors
        ga = g * b if ctx.needs_input_grad[0] else None
        gb = g * a if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Tensor:
        ctx.save_for_backward(a, b)
        try:
            return W(_val(a) / _val(b))
        except ValueError:
            raise _bcast_error("div", a, b) from None

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        a, b = ctx.saved_tensors
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -g * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        return W(-a.data)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return -g


class Pow(Function):
    """a ** b for a Tensor base; b a Python scalar or a Tensor."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Tensor:
        ctx.save_for_backward(a, b)
        try:
            if isinstance(b, (int, float)) and b >= 0 and float(b).is_integer():
                return W(_val(a) ** b)
            # negative bases with fractional powers give NaN, 0 ** -1 gives inf: silently,
            # as in PyTorch
            with np.errstate(divide="ignore", invalid="ignore"):
                return W(_val(a) ** _val(b))
        except ValueError:
            raise _bcast_error("pow", a, b) from None

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        a, b = ctx.saved_tensors
        if not isinstance(b, Tensor):  # the common case: a Python exponent
            if b == 0:
                return g * 0.0, None
            return (g * b * a ** (b - 1) if b != 1 else g), None
        return Pow._tensor_exponent_backward(ctx, g, a, b)

    @staticmethod
    def _tensor_exponent_backward(ctx: Context, g: Tensor, a: Any, b: Tensor) -> tuple:
        """PyTorch's conventions: d/da a^b = 0 where b == 0 (even at a = 0), and
        d/db a^b = a^b log a, taken as 0 where a == 0 and b >= 0; NaN for a < 0, silently."""
        ga = gb = None
        if not isinstance(a, Tensor):  # ops.Pow.apply(scalar, tensor)
            a = W(b._xp().asarray(a, dtype=b.dtype))
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                ga = g * b * a ** (b - 1)
                zero_exp = b.data == 0
                if zero_exp.any():
                    ga = Where.apply(zero_exp, 0.0, ga)
            if ctx.needs_input_grad[1]:
                at_zero = (a.data == 0) & (b.data >= 0)
                safe = Where.apply(at_zero, 1.0, a) if at_zero.any() else a
                gb = g * (a ** b) * log(safe)
        return ga, gb


class RPow(Function):
    """s ** b for a Python scalar base s; d/db = s^b log s (PyTorch's conventions for
    s <= 0: 0 where s == 0 and b >= 0, NaN for s < 0)."""

    @staticmethod
    def forward(ctx: Context, b: Tensor, s: float) -> Tensor:
        ctx.s = s
        ctx.save_for_backward(b)
        if s > 0:
            return W(s ** b.data)
        with np.errstate(divide="ignore", invalid="ignore"):  # inf / NaN, as PyTorch
            return W(s ** b.data)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        (b,) = ctx.saved_tensors
        s = ctx.s
        if s > 0:
            return g * (s ** b) * math.log(s), None
        with np.errstate(divide="ignore", invalid="ignore"):
            if s < 0:
                return g * math.nan, None
            return Where.apply(b.data >= 0, 0.0, g * (s ** b) * -math.inf), None


def _unary(name: str, fwd: Any, bwd: Any, save_out: bool = False) -> type:
    """Build a unary Function from a forward on arrays and a backward on Tensors.

    bwd(g, x, out) -> grad; `out` is the output as a constant Tensor (plain backward) or
    recomputed by the op itself (recorded backward), so bwd never sees the graph's node.
    """

    def forward(ctx: Context, a: Tensor) -> Tensor:
        out = fwd(a.data)
        ctx.save_for_backward(a)
        if save_out:
            ctx.out = out
        return W(out)

    def backward(ctx: Context, g: Tensor) -> Tensor:
        (a,) = ctx.saved_tensors
        out = None
        if save_out:
            out = cls.apply(a) if is_grad_enabled() else W(ctx.out)
        return bwd(g, a, out)

    cls = type(name, (Function,), {"forward": staticmethod(forward),
                                   "backward": staticmethod(backward)})
    return cls


def _xp(x: Any) -> Any:
    return np if type(x) is np.ndarray else backend.get_array_module(x)


Exp = _unary("Exp", np.exp, lambda g, a, out: g * out, save_out=True)
Log = _unary("Log", np.log, lambda g, a, out: g / a)
Sqrt = _unary("Sqrt", np.sqrt, lambda g, a, out: g / (2 * out), save_out=True)
Abs = _unary("Abs", np.abs, lambda g, a, out: g * sign(a))
Sin = _unary("Sin", np.sin, lambda g, a, out: g * cos(a))
Cos = _unary("Cos", np.cos, lambda g, a, out: -g * sin(a))
Tanh = _unary("Tanh", np.tanh, lambda g, a, out: g * (1 - out * out), save_out=True)
Erf = _unary("Erf", backend.erf,
             lambda g, a, out: g * (2 / math.sqrt(math.pi)) * exp(-(a * a)))


def _sigmoid_fwd(x: Any) -> Any:
    # 1/(1+e^-x) overflows e^-x for x << 0, and 1 - something loses the tiny values of the
    # left tail; with e = e^-|x| <= 1 both branches are exact: 1/(1+e) and e/(1+e)
    xp = _xp(x)
    e = xp.abs(x)
    xp.negative(e, out=e)
    xp.exp(e, out=e)
    num = xp.where(x >= 0, x.dtype.type(1), e)
    e += 1
    return num / e


Sigmoid = _unary("Sigmoid", _sigmoid_fwd, lambda g, a, out: g * out * (1 - out), save_out=True)


def _softplus_fwd(x: Any) -> Any:
    xp = _xp(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


Softplus = _unary("Softplus", _softplus_fwd, lambda g, a, out: g * sigmoid(a))


class ReLU(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        ctx.mask = a.data > 0
        # maximum, not x * mask: -inf * 0 is nan, and NaN must propagate as in PyTorch
        return W(a._xp().maximum(a.data, 0))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if is_grad_enabled():  # create_graph: a recorded product
            return g * W(ctx.mask.astype(g.dtype))
        return W(g.data * ctx.mask)  # bool mask times g keeps g's dtype: one pass, one array


class LeakyReLU(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor, slope: float) -> Tensor:
        xp = a._xp()
        scale = xp.where(a.data > 0, a.data.dtype.type(1), a.data.dtype.type(slope))
        ctx.scale = scale
        return W(a.data * scale)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        return g * W(ctx.scale), None


class Clamp(Function):
    """Gradient passes where min <= x <= max (PyTorch's convention at the bounds)."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, lo: Any, hi: Any) -> Tensor:
        x = a.data
        xp = a._xp()
        mask = xp.ones(x.shape, dtype=bool)
        if lo is not None:
            mask &= x >= _val(lo)
        if hi is not None:
            mask &= x <= _val(hi)
        ctx.mask = mask
        out = x
        if lo is not None:
            out = xp.maximum(out, _val(lo))
        if hi is not None:
            out = xp.minimum(out, _val(hi))
        return W(out.astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        return g * W(ctx.mask.astype(g.dtype)), None, None


class Maximum(Function):
    """Elementwise max; at ties the gradient is shared half and half (as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> Tensor:
        xp = a._xp()
        try:
            out = xp.maximum(a.data, b.data)
        except ValueError:
            raise _bcast_error("maximum", a, b) from None
        ctx.wa = (a.data > b.data) + 0.5 * (a.data == b.data)
        return W(out)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        wa = W(ctx.wa.astype(g.dtype))
        return g * wa, g * (1 - wa)


class Minimum(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor, b: Tensor) -> Tensor:
        xp = a._xp()
        try:
            out = xp.minimum(a.data, b.data)
        except ValueError:
            raise _bcast_error("minimum", a, b) from None
        ctx.wa = (a.data < b.data) + 0.5 * (a.data == b.data)
        return W(out)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        wa = W(ctx.wa.astype(g.dtype))
        return g * wa, g * (1 - wa)


class Where(Function):
    @staticmethod
    def forward(ctx: Context, cond: Any, a: Any, b: Any) -> Tensor:
        c = _val(cond).astype(bool, copy=False)
        ctx.cond = c
        xp = _xp(c)
        av, bv = _val(a), _val(b)
        try:
            out = xp.where(c, av, bv)
        except ValueError:
            shapes = ", ".join(str(tuple(getattr(x, "shape", ()))) for x in (c, av, bv))
            raise ValueError(f"where: shapes {shapes} cannot be broadcast together") from None
        if isinstance(a, Tensor) and out.dtype != a.dtype and not isinstance(b, Tensor):
            out = out.astype(a.dtype)
        elif isinstance(b, Tensor) and out.dtype != b.dtype and not isinstance(a, Tensor):
            out = out.astype(b.dtype)
        return W(out)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        c = W(ctx.cond.astype(g.dtype))
        ga = g * c if ctx.needs_input_grad[1] else None
        gb = g * (1 - c) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class Clone(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        return W(a.data.copy())

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g


class Cast(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor, dtype: Any) -> Tensor:
        ctx.dtype = a.dtype
        return W(a.data.astype(dtype))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        return g.to(dtype=ctx.dtype), None


class ToDevice(Function):
    @staticmethod
    def forward(ctx: Context, a: Tensor, device: str) -> Tensor:
        ctx.device = a.device
        return W(backend.to_device(a.data, device))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        return g.to(ctx.device), None


def sign(a: Tensor) -> Tensor:
    """Not differentiable (its derivative is 0 almost everywhere)."""
    return W(a._xp().sign(a.data))


def exp(a: Tensor) -> Tensor:
    return Exp.apply(a)


def log(a: Tensor) -> Tensor:
    return Log.apply(a)


def sin(a: Tensor) -> Tensor:
    return Sin.apply(a)


def cos(a: Tensor) -> Tensor:
    return Cos.apply(a)


def sigmoid(a: Tensor) -> Tensor:
    return Sigmoid.apply(a)
