"""Function and its context: the node type of the recorded graph, in PyTorch's style.

A Function subclass writes `forward(ctx, *args)` and `backward(ctx, *grad_outputs)` side by
side. `apply` runs forward with recording off and, when some input needs a gradient, links
the outputs to `ctx`, which is the graph node. Backward is written with Tensor ops, so with
`create_graph=True` it is itself recorded (double backward, Hessian-vector products).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .. import backend
from .grad_mode import _State

_seq = itertools.count()

# Observers called with every newly recorded node (minitorch.utils.memory's meter). Empty unless
# a meter runs, so recording pays one truthiness test; a hook may set ctx._on_release.
record_hooks: list = []


class Context:
    """Per-call state shared by forward and backward; also the node of the graph."""

    # Set by apply when the call is recorded.
    _fn: Any = None
    _inputs: tuple = ()
    _seq: int = 0
    _n_out: int = 1
    _out_meta: tuple = ()
    _freed: bool = False
    _saved: tuple = ()
    _retained: Any = None
    _hooks: Any = None
    needs_input_grad: tuple = ()
    materialize_grads: bool = True

    def save_for_backward(self, *tensors: Any) -> None:
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or to read saved tensors "
                "after they were freed); pass retain_graph=True to the first backward"
            )
        return self._saved

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._non_diff = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    @property
    def name(self) -> str:
        return self._fn.__name__ if self._fn is not None else "Function"

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"

    def _release(self) -> None:
        """Drop everything saved for backward (retain_graph=False)."""
        on_release = self.__dict__.get("_on_release")
        if on_release is not None:  # tell the memory meter these arrays are no longer held
            on_release()
        keep = {k: self.__dict__[k] for k in ("_fn", "_inputs", "_seq", "_n_out", "_out_meta",
                                               "needs_input_grad") if k in self.__dict__}
        self.__dict__.clear()
        self.__dict__.update(keep)
        self._freed = True


def _is_float(dtype: Any) -> bool:
    return dtype.kind in "fc"


class Function:
    """Base class of every differentiable operation (PyTorch's torch.autograd.Function)."""

    @staticmethod
    def forward(ctx: Context, *args: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grad_outputs: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any) -> Any:
        from ..tensor import Tensor

        ctx = Context()
        record = False
        device = None
        for a in args:
            if isinstance(a, Tensor):
                d = a.device if type(a.data) is not np.ndarray else "cpu"
                if device is None:
                    device = d
                elif d != device:
                    raise backend.DeviceError(
                        f"{cls.__name__}: expected all tensors on the same device, "
                        f"found {device} and {d}"
                    )
                if a.requires_grad:
                    record = True
        record = record and _State.enabled
        if record:
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
            _State.enabled = False
            try:
                out = cls.forward(ctx, *args)
            finally:
                _State.enabled = True
        elif _State.enabled:
            ctx.needs_input_grad = (False,) * len(args)
            _State.enabled = False
            try:
                out = cls.forward(ctx, *args)
            finally:
                _State.enabled = True
            return out
        else:
            ctx.needs_input_grad = (False,) * len(args)
            return cls.forward(ctx, *args)

        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        non_diff = getattr(ctx, "_non_diff", ())
        new_outs = []
        meta = []
        for i, o in enumerate(outs):
            if isinstance(o, Tensor):
                if any(o is a for a in args):  # forward returned an input: give it its own node
                    o = Tensor._wrap(o.data)
                if _is_float(o.data.dtype) and id(o) not in non_diff:
                    o.requires_grad = True
                    o.grad_fn = ctx
                    o._out_idx = i
                meta.append((o.shape, o.dtype, o.data))
            else:
                meta.append(None)
            new_outs.append(o)
        ctx._fn = cls
        ctx._inputs = tuple(a if isinstance(a, Tensor) else None for a in args)
        ctx._seq = next(_seq)
        ctx._n_out = len(outs)
        # keep only shape/dtype (and an array to learn the backend) for zero-filling grads
        ctx._out_meta = tuple(None if m is None else (m[0], m[1], backend.get_array_module(m[2]))
                              for m in meta)
        if record_hooks:
            for hook in record_hooks:
                hook(ctx)
        return new_outs[0] if single else tuple(new_outs)
