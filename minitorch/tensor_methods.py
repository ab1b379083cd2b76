"""Operators and methods of Tensor, each a thin call into an op (kept apart from tensor.py so
that Tensor's own file stays about data and autograd state)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .autograd.grad_mode import is_grad_enabled
from .ops.reduce import norm_dims


class MaxMin(NamedTuple):
    values: Any
    indices: Any


_PY_SCALARS = (int, float, bool)
_Tensor: Any = None  # set by install()


def _t(x: Any, like: Any) -> Any:
    """Python scalars stay scalars (NumPy keeps the tensor's dtype under NEP 50); NumPy
    scalars become Python ones (np.float64 is a float subclass but would upcast float32, and
    PyTorch treats it as a Python scalar); arrays become Tensors."""
    if type(x) in _PY_SCALARS or isinstance(x, _Tensor):
        return x
    if isinstance(x, np.generic):
        return x.item()
    return _Tensor(x, device=like.device)


def _check_inplace(t: Any, what: str) -> None:
    """In-place changes are refused where autograd would need the old value (PyTorch's rule
    for leaves; for graph tensors PyTorch tracks versions, which minitorch does not)."""
    if t.requires_grad and is_grad_enabled():
        if t.grad_fn is None:
            raise RuntimeError(
                f"{what}: a leaf tensor that requires grad is used in an in-place operation; "
                "wrap the update in mt.no_grad() (as in `w -= lr * w.grad`) or use .data"
            )
        raise RuntimeError(
            f"{what}: in-place changes to a tensor that is part of a graph are not supported "
            "(backward may need its old value); write it out of place, e.g. x = x + y"
        )


def _shape_args(args: tuple) -> tuple:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def install(T: Any) -> None:  # noqa: N803, C901
    from . import ops

    global _Tensor
    _Tensor = T

    W = T._wrap  # noqa: N806  (the name every ops module uses)

    def cmp(fn: Any) -> Any:
        def method(self: Any, other: Any) -> Any:
            o = other.data if isinstance(other, T) else other
            return W(fn(self.data, o))

        return method

    # arithmetic
    T.__add__ = lambda a, b: ops.Add.apply(a, _t(b, a))
    T.__radd__ = lambda a, b: ops.Add.apply(a, _t(b, a))
    T.__sub__ = lambda a, b: ops.Sub.apply(a, _t(b, a))
    T.__rsub__ = lambda a, b: ops.Add.apply(ops.Neg.apply(a), _t(b, a))
    T.__mul__ = lambda a, b: ops.Mul.apply(a, _t(b, a))
    T.__rmul__ = lambda a, b: ops.Mul.apply(a, _t(b, a))
    T.__truediv__ = lambda a, b: ops.Div.apply(a, _t(b, a))
    T.__rtruediv__ = lambda a, b: (ops.Div.apply(b, a) if isinstance(b, T)
                                   else ops.Mul.apply(ops.Pow.apply(a, -1), _t(b, a)))
    T.__neg__ = lambda a: ops.Neg.apply(a)
    T.__pos__ = lambda a: a
    T.__pow__ = lambda a, b: ops.Pow.apply(a, _t(b, a))
    T.__rpow__ = lambda a, b: (ops.Pow.apply(b, a) if isinstance(b, T) else ops.RPow.apply(a, b))
    T.__matmul__ = lambda a, b: ops.MatMul.apply(a, b if isinstance(b, T) else T(b))
    T.__rmatmul__ = lambda a, b: ops.MatMul.apply(T(b), a)
    T.__abs__ = lambda a: ops.Abs.apply(a)
    T.__floordiv__ = lambda a, b: W(a.data // (b.data if isinstance(b, T) else b))
    T.__mod__ = lambda a, b: W(a.data % (b.data if isinstance(b, T) else b))

    # comparisons: not differentiable, bool tensors
    T.__eq__ = cmp(lambda x, y: x == y)
    T.__ne__ = cmp(lambda x, y: x != y)
    T.__lt__ = cmp(lambda x, y: x < y)
    T.__le__ = cmp(lambda x, y: x <= y)
    T.__gt__ = cmp(lambda x, y: x > y)
    T.__ge__ = cmp(lambda x, y: x >= y)
    T.__and__ = cmp(lambda x, y: x & y)
    T.__or__ = cmp(lambda x, y: x | y)
    T.__xor__ = cmp(lambda x, y: x ^ y)
    T.__invert__ = lambda a: W(~a.data)
    T.eq, T.ne, T.lt, T.le, T.gt, T.ge = (T.__eq__, T.__ne__, T.__lt__, T.__le__, T.__gt__,
                                          T.__ge__)
    T.add, T.sub, T.mul, T.div = T.__add__, T.__sub__, T.__mul__, T.__truediv__
    T.pow, T.matmul = T.__pow__, T.__matmul__

    # unary maths
    T.exp = lambda a: ops.Exp.apply(a)
    T.log = lambda a: ops.Log.apply(a)
    T.sqrt = lambda a: ops.Sqrt.apply(a)
    T.rsqrt = lambda a: ops.Pow.apply(ops.Sqrt.apply(a), -1)
    T.abs = lambda a: ops.Abs.apply(a)
    T.sin = lambda a: ops.Sin.apply(a)
    T.cos = lambda a: ops.Cos.apply(a)
    T.tanh = lambda a: ops.Tanh.apply(a)
    T.sigmoid = lambda a: ops.Sigmoid.apply(a)
    T.relu = lambda a: ops.ReLU.apply(a)
    T.erf = lambda a: ops.Erf.apply(a)
    T.neg = lambda a: ops.Neg.apply(a)
    T.square = lambda a: ops.Mul.apply(a, a)
    T.reciprocal = lambda a: ops.Pow.apply(a, -1)
    T.sign = lambda a: W(a._xp().sign(a.data))
    T.floor = lambda a: W(a._xp().floor(a.data))
    T.ceil = lambda a: W(a._xp().ceil(a.data))
    T.round = lambda a: W(a._xp().round(a.data))
    T.isnan = lambda a: W(a._xp().isnan(a.data))
    T.isinf = lambda a: W(a._xp().isinf(a.data))
    T.isfinite = lambda a: W(a._xp().isfinite(a.data))

    def clamp(self: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return ops.Clamp.apply(self, min, max)

    T.clamp = T.clip = clamp
    T.softmax = lambda a, dim=-1: ops.Softmax.apply(a, dim)
    T.log_softmax = lambda a, dim=-1: ops.LogSoftmax.apply(a, dim)
    T.maximum = lambda a, b: ops.Maximum.apply(a, b if isinstance(b, T) else T(b, dtype=a.dtype))
    T.minimum = lambda a, b: ops.Minimum.apply(a, b if isinstance(b, T) else T(b, dtype=a.dtype))

    # reductions
    def sum_(self: Any, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Any:
        a = self if dtype is None else self.to(dtype=dtype)
        return ops.Sum.apply(a, norm_dims(dim, a.ndim), keepdim)

    def mean(self: Any, dim: Any = None, keepdim: bool = False) -> Any:
        if self.dtype.kind not in "fc":
            raise TypeError(f"mean: needs a floating tensor, got {self.dtype}")
        return ops.Mean.apply(self, norm_dims(dim, self.ndim), keepdim)

    def var(self: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False,
            correction: Any = None) -> Any:
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        dims = norm_dims(dim, self.ndim)
        n = self.numel() if dims is None else int(np.prod([self.shape[d] for d in dims]))
        mu = ops.Mean.apply(self, dims, True)
        d = self - mu
        if n - correction <= 0:  # no degrees of freedom left: NaN, as PyTorch
            return ops.Sum.apply(d * d, dims, keepdim) * math.nan
        return ops.Sum.apply(d * d, dims, keepdim) / (n - correction)

    def std(self: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False,
            correction: Any = None) -> Any:
        return var(self, dim, unbiased, keepdim, correction).sqrt()

    def extremum(is_max: bool) -> Any:
        def method(self: Any, dim: Any = None, keepdim: bool = False) -> Any:
            if isinstance(dim, T):  # x.max(other): elementwise, as PyTorch
                return (ops.Maximum if is_max else ops.Minimum).apply(self, dim)
            if dim is None:
                return ops.Extremum.apply(self, None, False, is_max)
            d = norm_dims(dim, self.ndim)[0]
            # the indices come from the same pass; compute them without recording
            xp = self._xp()
            idx = (xp.argmax if is_max else xp.argmin)(self.data, axis=d)
            if keepdim:
                idx = xp.expand_dims(idx, d)
            vals = ops.Extremum.apply(self, d, keepdim, is_max)
            return MaxMin(vals, W(idx.astype(np.int64)))

        return method

    def arg(is_max: bool) -> Any:
        def method(self: Any, dim: Any = None, keepdim: bool = False) -> Any:
            xp = self._xp()
            f = xp.argmax if is_max else xp.argmin
            if dim is None:
                return W(xp.asarray(f(self.data)).astype(np.int64))
            d = norm_dims(dim, self.ndim)[0]
            idx = f(self.data, axis=d)
            if keepdim:
                idx = xp.expand_dims(idx, d)
            return W(idx.astype(np.int64))

        return method

    def amax(self: Any, dim: Any = None, keepdim: bool = False) -> Any:
        if dim is None:
            return ops.Extremum.apply(self, None, False, True)
        return extremum(True)(self, dim, keepdim).values

    T.sum, T.mean, T.var, T.std = sum_, mean, var, std
    T.max, T.min = extremum(True), extremum(False)
    T.argmax, T.argmin = arg(True), arg(False)
    T.amax = amax
    T.logsumexp = lambda a, dim, keepdim=False: ops.LogSumExp.apply(
        a, norm_dims(dim, a.ndim), keepdim)
    def norm(self: Any, p: Any = 2, dim: Any = None, keepdim: bool = False) -> Any:
        """Vector p-norm over `dim` (all elements by default); its gradient is 0 at 0."""
        dims = norm_dims(dim, self.ndim)
        if p == 2:
            return ops.Norm2.apply(self, dims, keepdim)
        if p == math.inf:
            return ops.Extremum.apply(self.abs(), None, False, True) if dims is None else \
                ops.Extremum.apply(self.abs(), dims[0], keepdim, True)
        if p == 1:
            return ops.Sum.apply(self.abs(), dims, keepdim)
        return ops.Sum.apply(self.abs() ** p, dims, keepdim) ** (1 / p)

    T.norm = norm
    T.all = lambda a, dim=None: W(a._xp().all(a.data, axis=dim))
    T.any = lambda a, dim=None: W(a._xp().any(a.data, axis=dim))

    # shapes
    def reshape(self: Any, *shape: Any) -> Any:
        shape = _shape_args(shape)
        if shape == self.shape:
            return self
        return ops.Reshape.apply(self, shape)

    def permute(self: Any, *dims: Any) -> Any:
        dims = tuple(d % self.ndim for d in _shape_args(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of the {self.ndim} dims")
        return ops.Permute.apply(self, dims)

    def transpose(self: Any, dim0: int, dim1: int) -> Any:
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return ops.Permute.apply(self, tuple(dims))

    def unsqueeze(self: Any, dim: int) -> Any:
        d = dim if dim >= 0 else dim + self.ndim + 1
        shape = self.shape[:d] + (1,) + self.shape[d:]
        return ops.Reshape.apply(self, shape)

    def squeeze(self: Any, dim: Any = None) -> Any:
        if dim is None:
            shape = tuple(s for s in self.shape if s != 1)
        else:
            dims = norm_dims(dim, self.ndim)
            shape = tuple(s for i, s in enumerate(self.shape) if not (i in dims and s == 1))
        return ops.Reshape.apply(self, shape) if shape != self.shape else self

    def flatten(self: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
        if self.ndim == 0:
            return ops.Reshape.apply(self, (1,))
        s, e = start_dim % self.ndim, end_dim % self.ndim
        shape = self.shape[:s] + (-1,) + self.shape[e + 1:]
        return ops.Reshape.apply(self, shape)

    def expand(self: Any, *shape: Any) -> Any:
        shape = _shape_args(shape)
        full = tuple(self.shape[i - (len(shape) - self.ndim)] if s == -1 else s
                     for i, s in enumerate(shape))
        return ops.Expand.apply(self, full) if full != self.shape else self

    T.reshape = T.view = reshape
    T.permute, T.transpose, T.unsqueeze, T.squeeze = permute, transpose, unsqueeze, squeeze
    T.flatten, T.expand = flatten, expand
    T.expand_as = lambda a, b: expand(a, b.shape)
    T.view_as = lambda a, b: reshape(a, b.shape)
    T.contiguous = lambda a: a
    T.T = property(lambda a: ops.Permute.apply(a, tuple(reversed(range(a.ndim)))))
    T.mT = property(lambda a: transpose(a, -2, -1))
    T.t = lambda a: transpose(a, 0, 1) if a.ndim == 2 else a
    T.__getitem__ = lambda a, idx: ops.GetItem.apply(a, idx)

    def setitem(self: Any, idx: Any, value: Any) -> None:
        _check_inplace(self, "item assignment")
        v = value.data if isinstance(value, T) else value
        key = tuple(i.data if isinstance(i, T) else i for i in idx) if isinstance(idx, tuple) \
            else (idx.data if isinstance(idx, T) else idx)
        self.data[key] = v

    T.__setitem__ = setitem

    # in-place arithmetic: on plain tensors, and on parameters inside no_grad (a manual update
    # step `w -= lr * w.grad`), the array changes in place and the object stays the same; when
    # a graph must be recorded, `x += y` builds x + y out of place and rebinds the name
    def inplace(out_of_place: Any, ufunc: Any, name: str) -> Any:
        def method(self: Any, other: Any) -> Any:
            if is_grad_enabled() and (self.requires_grad or getattr(other, "requires_grad",
                                                                     False)):
                if self.requires_grad and self.grad_fn is None:
                    _check_inplace(self, name)
                return out_of_place(self, other)
            o = other.data if isinstance(other, T) else other
            ufunc(self.data, o, out=self.data)
            return self

        return method

    T.__iadd__ = inplace(T.__add__, np.add, "+=")
    T.__isub__ = inplace(T.__sub__, np.subtract, "-=")
    T.__imul__ = inplace(T.__mul__, np.multiply, "*=")
    T.__itruediv__ = inplace(T.__truediv__, np.true_divide, "/=")

    def inplace_method(ufunc: Any, name: str) -> Any:
        def method(self: Any, other: Any, alpha: Any = None) -> Any:
            _check_inplace(self, name)
            o = other.data if isinstance(other, T) else other
            if alpha is not None:
                o = o * alpha
            ufunc(self.data, o, out=self.data)
            return self

        return method

    T.add_ = inplace_method(np.add, "add_")
    T.sub_ = inplace_method(np.subtract, "sub_")
    T.mul_ = inplace_method(np.multiply, "mul_")
    T.div_ = inplace_method(np.true_divide, "div_")

    def clamp_(self: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
        _check_inplace(self, "clamp_")
        self.data[...] = clamp(self, min, max).data
        return self

    T.clamp_ = clamp_

    def split(self: Any, size: Any, dim: int = 0) -> tuple:
        n = self.shape[dim]
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if isinstance(size, int) \
            else list(size)
        out, start = [], 0
        for s in sizes:
            idx = (slice(None),) * (dim % self.ndim) + (slice(start, start + s),)
            out.append(self[idx])
            start += s
        return tuple(out)

    T.split = split
    T.chunk = lambda a, n, dim=0: split(a, -(-a.shape[dim] // n), dim)
