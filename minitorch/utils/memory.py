"""Memory meter: the bytes the autograd graph holds for backward (exact) and the process peak.

What "held for backward" means here, exactly: every distinct array buffer that a recorded,
not yet released graph node keeps alive: the tensors it saved with `save_for_backward`, the
arrays an op stashed on its ctx (ReLU's mask, softmax's output, ...), and the node's input
tensors, which this engine keeps on the node for the backward traversal. Buffers are
deduplicated: two views of one array, or one activation saved by two nodes, count once, at the
size of the whole underlying allocation. Leaf tensors that require grad (parameters, or the
variables a `mt.func` transform differentiates with respect to) are not counted: they are
alive anyway. Only nodes recorded while some meter is active are seen. A node stops counting
when backward releases it (retain_graph=False) or when it is garbage-collected.

The process-level peak is the largest number of extra bytes allocated at once during the
meter: NumPy allocations traced by `tracemalloc` on the CPU (which also traces Python
objects and slows Python code down, so time things without it), or the CuPy default memory
pool's used bytes on CUDA (sampled after every allocation, so the peak is exact).
"""

from __future__ import annotations

import tracemalloc
import weakref
from typing import Any, Iterator

import numpy as np

from .. import backend
from ..autograd import function as _function

__all__ = ["MemoryMeter", "buffer_key", "format_bytes", "graph_bytes"]

# buffer key -> [number of live metered nodes holding it, bytes]; shared by all meters
_live: dict[int, list] = {}
_state = {"current": 0}
_meters: list[MemoryMeter] = []

# ctx attributes that are bookkeeping of the engine, never activations
_SKIP = frozenset(("_inputs", "_saved", "_out_meta", "_fn", "_seq", "_n_out", "_freed",
                   "needs_input_grad", "_on_release", "_hooks", "_retained", "_non_diff"))


def buffer_key(arr: Any) -> tuple[int, int]:
    """(identity, bytes) of the allocation behind an array: views map to their base array."""
    if isinstance(arr, np.ndarray):
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        return id(root), int(root.nbytes)
    mem = arr.data.mem  # CuPy: the allocation a MemoryPointer points into
    return id(mem), int(mem.size)


def _is_array(v: Any) -> bool:
    return isinstance(v, np.ndarray) or backend.is_cupy_array(v)


def _tensor_arrays(v: Any) -> Iterator[Any]:
    from ..tensor import Tensor

    if isinstance(v, Tensor):
        if not (v.grad_fn is None and v.requires_grad):  # parameters are alive anyway
            yield v.data
    elif _is_array(v):
        yield v


def node_arrays(ctx: Any) -> Iterator[Any]:
    """The arrays a recorded node keeps alive for backward (see the module docstring)."""
    for t in ctx.__dict__.get("_inputs", ()):
        yield from _tensor_arrays(t)
    for t in ctx.__dict__.get("_saved", ()):
        yield from _tensor_arrays(t)
    for k, v in ctx.__dict__.items():
        if k in _SKIP:
            continue
        if isinstance(v, (tuple, list)):
            for item in v:
                yield from _tensor_arrays(item)
        else:
            yield from _tensor_arrays(v)


def _node_buffers(ctx: Any) -> dict[int, int]:
    return dict(buffer_key(a) for a in node_arrays(ctx))


def _drop(keys: tuple) -> None:
    for k in keys:
        entry = _live[k]
        entry[0] -= 1
        if entry[0] == 0:
            del _live[k]
            _state["current"] -= entry[1]


def _on_record(ctx: Any) -> None:
    bufs = _node_buffers(ctx)
    if not bufs:
        return
    current = _state["current"]
    for k, n in bufs.items():
        entry = _live.get(k)
        if entry is None:
            _live[k] = [1, n]
            current += n
        else:
            entry[0] += 1
    _state["current"] = current
    for m in _meters:
        if current > m._peak:
            m._peak = current
    # runs once: at _release (backward) or when the node is garbage-collected, whichever first
    fin = weakref.finalize(ctx, _drop, tuple(bufs))
    fin.atexit = False
    ctx._on_release = fin


def graph_bytes(*tensors: Any) -> int:
    """Bytes held for backward by the unreleased graph behind `tensors` (a static walk)."""
    seen_nodes: set[int] = set()
    bufs: dict[int, int] = {}
    stack = [t.grad_fn for t in tensors if getattr(t, "grad_fn", None) is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if not node._freed:
            bufs.update(_node_buffers(node))
        for inp in node._inputs:
            if inp is not None and inp.grad_fn is not None:
                stack.append(inp.grad_fn)
    return sum(bufs.values())


def format_bytes(n: float) -> str:
    """1536 -> '1.50 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} B" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


class _PoolPeak:
    """Peak of CuPy's default pool's used bytes, sampled after every allocation."""

    def __init__(self, cp: Any) -> None:
        self.cp, self.pool = cp, cp.get_default_memory_pool()
        self.base = self.peak = self.pool.used_bytes()
        self.prev = cp.cuda.get_allocator()

        def alloc(size: int) -> Any:
            mem = self.prev(size)
            used = self.pool.used_bytes()
            if used > self.peak:
                self.peak = used
            return mem

        cp.cuda.set_allocator(alloc)

    def stop(self) -> int:
        self.cp.cuda.set_allocator(self.prev)
        return self.peak - self.base


class MemoryMeter:
    """`with MemoryMeter() as m: loss = model(x).sum(); loss.backward()` then
    `m.peak_saved_bytes` (graph memory held for backward, exact) and `m.peak_process_bytes`.

    process: also measure the process-level peak (tracemalloc on the CPU, the CuPy pool on
    CUDA); off, the meter costs a few microseconds per recorded op and nothing else.
    """

    def __init__(self, process: bool = True) -> None:
        self.process = process
        self._peak = 0
        self._start = 0
        self._active = False
        self._traced_base = 0
        self._stop_tracing = False
        self._pool: _PoolPeak | None = None
        self.peak_process_bytes: int | None = None
        self.peak_cuda_bytes: int | None = None

    def __enter__(self) -> MemoryMeter:
        if self._active:
            raise RuntimeError("MemoryMeter: this meter is already running")
        self._active = True
        if not _meters:
            _function.record_hooks.append(_on_record)
        _meters.append(self)
        self._start = self._peak = _state["current"]
        if self.process:
            if not tracemalloc.is_tracing():
                tracemalloc.start()
                self._stop_tracing = True
            tracemalloc.reset_peak()
            self._traced_base = tracemalloc.get_traced_memory()[0]
            cp = backend.cupy_module() if backend.is_cuda_available() else None
            if cp is not None:
                self._pool = _PoolPeak(cp)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._active = False
        _meters.remove(self)
        if not _meters:
            _function.record_hooks.remove(_on_record)
        if self.process:
            self.peak_process_bytes = tracemalloc.get_traced_memory()[1] - self._traced_base
            if self._stop_tracing:
                tracemalloc.stop()
                self._stop_tracing = False
            if self._pool is not None:
                self.peak_cuda_bytes = self._pool.stop()
                self._pool = None

    @property
    def saved_bytes(self) -> int:
        """Bytes held for backward right now (by nodes recorded under some meter)."""
        return _state["current"]

    @property
    def peak_saved_bytes(self) -> int:
        """The largest `saved_bytes` seen while this meter ran (it includes what was already
        held when it started: `start_saved_bytes`)."""
        return self._peak

    @property
    def start_saved_bytes(self) -> int:
        return self._start

    def report(self) -> str:
        parts = [f"peak held for backward {format_bytes(self.peak_saved_bytes)}"]
        if self.peak_process_bytes is not None:
            parts.append(f"peak process (NumPy/tracemalloc) {format_bytes(self.peak_process_bytes)}")
        if self.peak_cuda_bytes is not None:
            parts.append(f"peak CUDA pool {format_bytes(self.peak_cuda_bytes)}")
        return ", ".join(parts)
