"""Activation checkpointing: keep a region's inputs, recompute its intermediates in backward.

Reverse mode needs every intermediate value of the forward pass; for a deep network they, not
the parameters, fill the memory (seed 000: GPT-2 with sequence 1K and batch 32 holds ~60 GB of
activations). `checkpoint(fn, *inputs)` runs `fn` without keeping its graph and records one
node holding only `inputs`; its backward runs `fn` again with recording on and backpropagates
through that fresh graph. Chen et al. 2016 ("Training Deep Nets with Sublinear Memory Cost"):
cutting n layers into sqrt(n) checkpointed segments holds O(sqrt(n)) activations for one extra
forward pass (~33% more compute, seed 000's ~60 GB -> ~8 GB).

Guarantees (tests/test_checkpoint.py):
- gradients equal the plain run's bitwise on the CPU: the recomputation replays the RNG state
  (the framework's NumPy and CUDA generators and NumPy's global legacy one), so dropout draws
  the same masks;
- parameters that `fn` uses get gradients even when no input requires grad: the first forward
  is recorded and its graph dropped at once, and the leaves it reached become inputs of the
  checkpoint node (reentrant checkpointing elsewhere silently returns no gradient here);
- modules with running statistics (BatchNorm) update them once: the buffers of the modules
  found in `fn` (a Module, a bound method, a partial, closure cells, default arguments) are
  saved before the recomputation and written back after it;
- a determinism check compares the recomputed outputs' type, shape, dtype and device with the
  first run's and raises (or warns) on a difference.
Double backward (create_graph=True) through a checkpointed region is not supported.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

import numpy as np

from .. import random as _random
from ..autograd import Function, enable_grad, grad, is_grad_enabled
from ..autograd.function import Context
from ..tensor import Tensor
from ._plan import CheckpointPlan, plan_checkpoints, plan_for

__all__ = ["CheckpointPlan", "checkpoint", "checkpoint_sequential", "plan_checkpoints"]

_CHECKS = ("default", "warn", "none")


# ---- RNG replay ---------------------------------------------------------------------------------
def _capture_rng(devices: set) -> tuple:
    for d in devices:  # create the device's generator now, so its state is part of the capture
        _random.generator(d)
    return _random.get_rng_state(), np.random.get_state()


def _restore_rng(state: tuple) -> None:
    _random.set_rng_state(state[0])
    np.random.set_state(state[1])


class _replay_rng:  # noqa: N801
    """Run with the captured RNG state, then put the current state back."""

    def __init__(self, state: tuple | None, devices: set) -> None:
        self.state, self.devices = state, devices

    def __enter__(self) -> None:
        if self.state is not None:
            self.prev = _capture_rng(self.devices)
            _restore_rng(self.state)

    def __exit__(self, *exc: Any) -> None:
        if self.state is not None:
            _restore_rng(self.prev)


# ---- modules with buffers -----------------------------------------------------------------------
def find_modules(fn: Any, limit: int = 10_000) -> list:
    """The Modules `fn` reaches directly: itself, a bound method's object, partial arguments,
    closure cells, default arguments, and lists/tuples/dicts of those (with submodules)."""
    from ..nn.module import Module

    found: dict[int, Any] = {}
    seen: set[int] = set()
    stack = [fn]
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (Tensor, np.ndarray, str, bytes, int, float)):
            continue
        seen.add(id(obj))
        if isinstance(obj, Module):
            for m in obj.modules():
                found.setdefault(id(m), m)
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, functools.partial):
            stack.extend((obj.func, *obj.args, *obj.keywords.values()))
        elif callable(obj):
            stack.append(getattr(obj, "__self__", None))
            func = getattr(obj, "__func__", obj)
            for cell in getattr(func, "__closure__", None) or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:  # an empty cell
                    pass
            stack.extend(getattr(func, "__defaults__", None) or ())
            stack.extend((getattr(func, "__kwdefaults__", None) or {}).values())
    return list(found.values())


def snapshot_buffers(modules: list) -> list:
    out, seen = [], set()
    for m in modules:
        for b in m._buffers.values():
            if b is not None and id(b) not in seen:
                seen.add(id(b))
                out.append((b, b.data.copy()))
    return out


def restore_buffers(snapshot: list) -> None:
    for t, arr in snapshot:
        if t.data.shape == arr.shape and t.data.dtype == arr.dtype and t.data.flags.writeable:
            t.data[...] = arr  # in place: whoever holds the buffer's array sees the old value
        else:
            t.data = arr


# ---- the checkpoint node ------------------------------------------------------------------------
def _meta(o: Any) -> Any:
    return (o.shape, o.dtype, o.device) if isinstance(o, Tensor) else type(o).__name__


def _detached(inputs: tuple) -> list:
    out = []
    for a in inputs:
        if isinstance(a, Tensor):
            d = Tensor._wrap(a.data)
            d.requires_grad = a.requires_grad
            a = d
        out.append(a)
    return out


def _grad_leaves(outs: tuple, exclude: set) -> list:
    """Leaves that require grad and that the recorded graph behind `outs` reaches."""
    leaves, seen_nodes, seen = [], set(), set()
    stack = [o.grad_fn for o in reversed(outs) if isinstance(o, Tensor) and o.grad_fn]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        for inp in reversed(node._inputs):
            if inp is None:
                continue
            if inp.grad_fn is not None:
                stack.append(inp.grad_fn)
            elif inp.requires_grad and id(inp) not in exclude and id(inp) not in seen:
                seen.add(id(inp))
                leaves.append(inp)
    return leaves


class _Region:
    """What the checkpoint node needs to rerun `fn` (no arrays of the region)."""

    def __init__(self, fn: Callable, n_inputs: int, rng: tuple | None, devices: set,
                 modules: list, meta: list, kind: str, check: str) -> None:
        self.fn, self.n_inputs, self.rng, self.devices = fn, n_inputs, rng, devices
        self.modules, self.meta, self.kind, self.check = modules, meta, kind, check
        self.pending: tuple | None = None


class _Checkpoint(Function):
    @staticmethod
    def forward(ctx: Context, region: _Region, *tensors: Any) -> Any:
        ctx.region = region
        ctx.save_for_backward(*tensors)
        outs, region.pending = region.pending, None  # the node must not keep the outputs
        return outs if len(outs) > 1 or region.kind != "single" else outs[0]

    @staticmethod
    def backward(ctx: Context, *grad_outputs: Any) -> tuple:
        region: _Region = ctx.region
        if is_grad_enabled():
            raise RuntimeError(
                "checkpoint: double backward (create_graph=True) through a checkpointed region "
                "is not supported; run that computation without checkpoint"
            )
        saved = ctx.saved_tensors
        inputs, params = saved[:region.n_inputs], saved[region.n_inputs:]
        detached = _detached(inputs)
        snapshot = snapshot_buffers(region.modules)
        try:
            with _replay_rng(region.rng, region.devices), enable_grad():
                outs = _as_tuple(region.fn(*detached))[0]
        finally:
            restore_buffers(snapshot)
        _check(region, outs)
        pairs = [(o, g) for o, g in zip(outs, grad_outputs)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        wrt = [d for d in detached if isinstance(d, Tensor) and d.requires_grad] + list(params)
        got = iter(grad([o for o, _ in pairs], wrt, [g for _, g in pairs], allow_unused=True)
                   if pairs and wrt else [None] * len(wrt))
        in_grads = [next(got) if isinstance(d, Tensor) and d.requires_grad else None
                    for d in detached]
        return (None, *in_grads, *got)


def _as_tuple(out: Any) -> tuple:
    if isinstance(out, tuple):
        return out, "tuple"
    if isinstance(out, list):
        return tuple(out), "list"
    return (out,), "single"


def _check(region: _Region, outs: tuple) -> None:
    if region.check == "none":
        return
    meta = [_meta(o) for o in outs]
    if meta == region.meta:
        return
    msg = (f"checkpoint: the recomputation of {getattr(region.fn, '__name__', region.fn)!r} "
           f"differs from the first run: outputs (shape, dtype, device) were {region.meta}, "
           f"now {meta}; is fn deterministic given its inputs?")
    if region.check == "warn":
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
    else:
        raise RuntimeError(msg)


def checkpoint(fn: Callable, *inputs: Any, preserve_rng_state: bool = True,
               determinism_check: str = "default") -> Any:
    """fn(*inputs), keeping none of fn's intermediates for backward; they are recomputed.

    preserve_rng_state: replay the RNG in the recomputation (same dropout masks);
    determinism_check: "default" raises, "warn" warns, "none" skips the output check.
    """
    if not callable(fn):
        raise TypeError(f"checkpoint: fn must be callable, got {type(fn).__name__}")
    if determinism_check not in _CHECKS:
        raise ValueError(f"checkpoint: determinism_check must be one of {_CHECKS}, "
                         f"got {determinism_check!r}")
    if not is_grad_enabled():  # nothing will be differentiated: nothing to save or replay
        return fn(*inputs)
    modules = find_modules(fn)
    devices = {a.device for a in inputs if isinstance(a, Tensor)}
    devices |= {p.device for m in modules for p in m._parameters.values() if p is not None}
    rng = _capture_rng(devices) if preserve_rng_state else None
    detached = _detached(inputs)
    # the first run is recorded only to find the parameters fn uses; its graph is dropped here
    outs, kind = _as_tuple(fn(*detached))
    params = _grad_leaves(outs, {id(d) for d in detached})
    pending = tuple(Tensor._wrap(o.data) if isinstance(o, Tensor) else o for o in outs)
    meta = [_meta(o) for o in outs]
    del outs
    if not params and not any(isinstance(a, Tensor) and a.requires_grad for a in inputs):
        result: Any = pending
    else:
        region = _Region(fn, len(inputs), rng, devices, modules, meta, kind, determinism_check)
        region.pending = pending
        del pending
        result = _Checkpoint.apply(region, *inputs, *params)
        result = result if isinstance(result, tuple) else (result,)
    if kind == "single":
        return result[0]
    return list(result) if kind == "list" else tuple(result)


# ---- sequences ----------------------------------------------------------------------------------
def _layers(functions: Any) -> list:
    from ..nn.module import Module, Sequential

    if isinstance(functions, Sequential):
        return list(functions)
    if isinstance(functions, Module):
        raise TypeError("checkpoint_sequential: expected an nn.Sequential or a list of "
                        f"callables, got {type(functions).__name__}")
    layers = list(functions)
    for i, f in enumerate(layers):
        if not callable(f):
            raise TypeError(f"checkpoint_sequential: element {i} is not callable "
                            f"({type(f).__name__})")
    if not layers:
        raise ValueError("checkpoint_sequential: no layers to run")
    return layers


def _even_bounds(n: int, segments: int) -> list:
    """segments runs of near-equal length covering n layers."""
    k = min(segments, n)
    cuts = [round(i * n / k) for i in range(k + 1)]
    return [(cuts[i], cuts[i + 1]) for i in range(k)]


def _run(layers: list) -> Callable:
    def run(x: Any) -> Any:
        for f in layers:
            x = f(x)
        return x

    return run


def checkpoint_sequential(functions: Any, segments: Any, input: Any, *,  # noqa: A002
                          budget: int | None = None, preserve_rng_state: bool = True,
                          determinism_check: str = "default") -> Any:
    """Run a Sequential (or a list of callables) in segments; all but the last are
    checkpointed, so only the segment inputs stay held between forward and backward.

    segments: an int (near-equal segments, as PyTorch), "auto" (boundaries from measured
    activation sizes: ceil(sqrt(n)) balanced segments, Chen et al. 2016, or, with `budget` in
    bytes, the plan that recomputes least while holding at most `budget` for backward), or a
    CheckpointPlan from plan_checkpoints().
    """
    layers = _layers(functions)
    if budget is not None and segments != "auto":
        raise ValueError("checkpoint_sequential: budget= needs segments='auto'")
    if isinstance(segments, CheckpointPlan):
        if segments.n_layers != len(layers):
            raise ValueError(f"checkpoint_sequential: the plan is for {segments.n_layers} "
                             f"layers, this sequence has {len(layers)}")
        bounds = segments.bounds
    elif segments == "auto":
        if not is_grad_enabled():
            return _run(layers)(input)
        bounds = plan_for(functions, layers, input, budget).bounds
    elif isinstance(segments, (int, np.integer)) and not isinstance(segments, bool):
        if segments < 1:
            raise ValueError(f"checkpoint_sequential: segments must be >= 1, got {segments}")
        bounds = _even_bounds(len(layers), int(segments))
    else:
        raise TypeError("checkpoint_sequential: segments must be an int, 'auto' or a "
                        f"CheckpointPlan, got {segments!r}")
    x = input
    for start, end in bounds[:-1]:
        x = checkpoint(_run(layers[start:end]), x, preserve_rng_state=preserve_rng_state,
                       determinism_check=determinism_check)
    start, end = bounds[-1]
    return _run(layers[start:end])(x)
