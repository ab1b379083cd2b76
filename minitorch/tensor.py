"""Tensor: an ndarray (NumPy or CuPy) plus what autograd needs (grad, requires_grad, grad_fn).

Every differentiable method calls a Function from `ops`; this file holds no derivative.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from . import backend, dtypes

Array = backend.Array


def _to_array(data: Any, dtype: np.dtype | None, device: str | None) -> Array:
    """Make an array from Python data / arrays, with PyTorch's dtype inference."""
    if isinstance(data, Tensor):
        data = data.data
    if hasattr(data, "__cuda_array_interface__") or isinstance(data, np.ndarray):
        arr = data
        if dtype is not None and arr.dtype != dtype:
            arr = arr.astype(dtype)
        else:
            arr = arr.copy()
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
            data = _nested_numpy(data)
        arr = np.asarray(data)
        if arr.dtype == object:
            raise TypeError(f"cannot make a tensor from {type(data).__name__} of mixed types")
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        elif arr.dtype.kind == "f":
            arr = arr.astype(dtypes.get_default_dtype(), copy=False)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64, copy=False)
    if device is not None:
        arr = backend.to_device(arr, device)
    return arr


def _flat(x: Any) -> Iterator[Any]:
    if isinstance(x, (list, tuple)):
        for y in x:
            yield from _flat(y)
    else:
        yield x


def _nested_numpy(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return [_nested_numpy(y) for y in x]
    return x.numpy() if isinstance(x, Tensor) else x


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_out_idx", "_hooks",
                 "__weakref__", "__dict__")
    __array_priority__ = 1000  # numpy scalars defer to Tensor's reflected operators

    def __init__(
        self,
        data: Any,
        dtype: Any = None,
        device: Any = None,
        requires_grad: bool = False,
    ) -> None:
        dev = backend.parse_device(device) if device is not None else None
        self.data = _to_array(data, dtypes.as_dtype(dtype), dev)
        self.grad: Tensor | None = None
        self.grad_fn: Any = None
        self._out_idx = 0
        self._hooks: list | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, arr: Array) -> Tensor:
        """Fast path used by ops: wrap an array without copying or checking."""
        t = object.__new__(Tensor)
        if type(arr) is not np.ndarray and not backend.is_cupy_array(arr):
            arr = np.asarray(arr)  # NumPy returns scalars from 0-d ufuncs
        t.data = arr
        t.grad = None
        t.requires_grad = False
        t.grad_fn = None
        t._out_idx = 0
        t._hooks = None
        return t

    # ---- metadata ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> str:
        return "cpu" if type(self.data) is np.ndarray else backend.device_of(self.data)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return self.device != "cpu"

    def _xp(self) -> Any:
        return np if type(self.data) is np.ndarray else backend.get_array_module(self.data)

    def size(self, dim: int | None = None) -> Any:
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return int(self.data.itemsize)

    def nbytes(self) -> int:
        return int(self.data.nbytes)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extra = []
        if self.dtype != dtypes.get_default_dtype() and self.dtype != np.int64:
            extra.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extra.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extra.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __hash__(self) -> int:
        return id(self)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    # ---- conversion and devices ----------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """A host NumPy array (a copy when the tensor is on the GPU)."""
        return backend.to_numpy(self.data)

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python scalar, "
                f"got shape {self.shape}"
            )
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False) -> Tensor:
        """to(device), to(dtype) or to(device, dtype); differentiable."""
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, str):
                device = a
            else:
                dtype = a
        from . import ops

        out = self
        if device is not None:
            dev = backend.parse_device(device)
            if dev != self.device:
                out = ops.ToDevice.apply(out, dev)
        if dtype is not None:
            dt = dtypes.as_dtype(dtype)
            if dt != out.dtype:
                out = ops.Cast.apply(out, dt)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> Tensor:
        return self.to("cuda" if device is None else f"cuda:{device}")

    def float(self) -> Tensor:
        return self.to(dtype=np.float32)

    def double(self) -> Tensor:
        return self.to(dtype=np.float64)

    def long(self) -> Tensor:
        return self.to(dtype=np.int64)

    def int(self) -> Tensor:
        return self.to(dtype=np.int32)

    def bool(self) -> Tensor:
        return self.to(dtype=np.bool_)

    def type(self, dtype: Any) -> Tensor:
        return self.to(dtype=dtype)

    # ---- autograd ---------------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, this one is {self.dtype}"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_(False) on a non-leaf tensor: use .detach() instead"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor._wrap(self.data)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        from . import ops

        return ops.Clone.apply(self)

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (a non-scalar needs `gradient`)."""
        from . import autograd

        if inputs is not None:
            ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            grads = autograd.grad(self, ins, gradient, retain_graph, create_graph,
                                  allow_unused=True)
            for t, g in zip(ins, grads):
                if g is None:
                    continue
                if create_graph:
                    t.grad = g if t.grad is None else t.grad + g
                elif t.grad is None:  # a copy: g may be a read-only view or someone's array
                    t.grad = Tensor._wrap(g.data.copy())
                else:
                    t.grad = Tensor._wrap(t.grad.data + g.data)
            return
        autograd.backward(self, gradient, retain_graph, create_graph)

    def register_hook(self, hook: Any) -> Any:
        """Call hook(grad) when this tensor's gradient is computed; it may return a new grad."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            entry = (self._hooks, hook)
        else:
            node = self.grad_fn
            if node._hooks is None:
                node._hooks = []
            entry_h = (self._out_idx, hook)
            node._hooks.append(entry_h)
            entry = (node._hooks, entry_h)

        class _Handle:
            def remove(self) -> None:
                if entry[1] in entry[0]:
                    entry[0].remove(entry[1])

        return _Handle()

    def retain_grad(self) -> None:
        """Keep .grad for this non-leaf tensor after backward."""
        if self.grad_fn is None:
            return
        node = self.grad_fn
        if node._retained is None:
            node._retained = []
        node._retained.append((self._out_idx, self))

    def zero_(self) -> Tensor:
        self.data[...] = 0
        return self

    def fill_(self, value: Any) -> Tensor:
        self.data[...] = value
        return self

    def copy_(self, src: Any) -> Tensor:
        arr = src.data if isinstance(src, Tensor) else src
        self.data[...] = backend.to_device(arr, self.device) if hasattr(arr, "shape") else arr
        return self


from .tensor_methods import install as _install  # noqa: E402

_install(Tensor)
