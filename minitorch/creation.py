"""Tensor factories and free functions (mt.zeros, mt.randn, mt.cat, mt.where, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import backend, dtypes, ops
from . import random as _random
from .tensor import Tensor
from .tensor_methods import _shape_args

W = Tensor._wrap


def _dev(device: Any) -> str:
    return backend.parse_device(device)


def _float_dtype(dtype: Any) -> np.dtype:
    return dtypes.as_dtype(dtype) or dtypes.get_default_dtype()


def _finish(arr: Any, requires_grad: bool) -> Tensor:
    t = W(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor (always a copy) from a list, scalar, NumPy/CuPy array or tensor."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _filled(fill: Any, shape: tuple, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    xp = backend.xp_for_device(_dev(device))
    dev = _dev(device)
    if dev != "cpu":
        with xp.cuda.Device(int(dev.split(":")[1])):
            arr = xp.full(shape, fill, dtype=_float_dtype(dtype))
    else:
        arr = np.full(shape, fill, dtype=_float_dtype(dtype))
    return _finish(arr, requires_grad)


def zeros(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _filled(0, _shape_args(shape), dtype, device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return _filled(1, _shape_args(shape), dtype, device, requires_grad)


def empty(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _filled(0, _shape_args(shape), dtype, device, requires_grad)


def full(shape: Sequence[int], fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    if dtype is None and isinstance(fill_value, (bool, int)) and not isinstance(fill_value, float):
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64
    return _filled(fill_value, tuple(shape), dtype, device, requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return _filled(0, t.shape, dtype or t.dtype, device or t.device, requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _filled(1, t.shape, dtype or t.dtype, device or t.device, requires_grad)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, device: Any = None) -> Tensor:
    return _filled(fill_value, t.shape, dtype or t.dtype, device or t.device, False)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    xp = backend.xp_for_device(_dev(device))
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else dtypes.get_default_dtype()
    return _finish(xp.arange(start, end, step, dtype=dtypes.as_dtype(dtype)), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None,
             device: Any = None) -> Tensor:
    xp = backend.xp_for_device(_dev(device))
    return W(xp.linspace(start, end, steps, dtype=_float_dtype(dtype)))


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    xp = backend.xp_for_device(_dev(device))
    return _finish(xp.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*shape: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from the framework's generator (see mt.manual_seed)."""
    gen = _random.generator(_dev(device))
    dt = _float_dtype(dtype)
    return _finish(gen.random(_shape_args(shape), dtype=dt).astype(dt, copy=False), requires_grad)


def randn(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal, from the framework's generator (see mt.manual_seed)."""
    gen = _random.generator(_dev(device))
    dt = _float_dtype(dtype)
    arr = gen.standard_normal(_shape_args(shape), dtype=dt)
    return _finish(arr.astype(dt, copy=False), requires_grad)


def randint(low: int, high: int | None = None, size: Sequence[int] = (), dtype: Any = None,
            device: Any = None) -> Tensor:
    if high is None:
        low, high = 0, low
    gen = _random.generator(_dev(device))
    return W(gen.integers(low, high, size=tuple(size)).astype(dtypes.as_dtype(dtype) or np.int64))


def randperm(n: int, device: Any = None) -> Tensor:
    gen = _random.generator(_dev(device))
    return W(gen.permutation(n).astype(np.int64))


def from_numpy(a: np.ndarray) -> Tensor:
    """Share memory with a NumPy array (no copy), as torch.from_numpy."""
    return W(a)


# ---- free functions ----------------------------------------------------------------------------
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    return ops.Cat.apply(dim % tensors[0].ndim, *tensors)


concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    d = dim % (tensors[0].ndim + 1)
    return ops.Cat.apply(d, *[t.unsqueeze(d) for t in tensors])


def where(condition: Any, input: Any, other: Any) -> Tensor:  # noqa: A002
    return ops.Where.apply(condition, input, other)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    return ops.MatMul.apply(a, b)


def maximum(a: Tensor, b: Tensor) -> Tensor:
    return ops.Maximum.apply(a, b)


def minimum(a: Tensor, b: Tensor) -> Tensor:
    return ops.Minimum.apply(a, b)


def _method(name: str) -> Any:
    def fn(t: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(t, name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"mt.{name}(t, ...) is t.{name}(...)."
    return fn


(exp, log, sqrt, abs, sin, cos, tanh, sigmoid, relu, softmax, log_softmax, clamp, sum, mean,  # noqa: A001
 max, min, argmax, argmin, reshape, transpose, permute, unsqueeze, squeeze, flatten, logsumexp,
 var, std, erf, sign, square) = (
    _method(n) for n in ("exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu",
                         "softmax", "log_softmax", "clamp", "sum", "mean", "max", "min",
                         "argmax", "argmin", "reshape", "transpose", "permute", "unsqueeze",
                         "squeeze", "flatten", "logsumexp", "var", "std", "erf", "sign",
                         "square")
)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001
    return a ** b


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    return bool(np.allclose(a.numpy(), b.numpy(), rtol=rtol, atol=atol))


def numel(t: Tensor) -> int:
    return t.numel()


def is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)
