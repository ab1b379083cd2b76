"""Reverse-mode engine: iterative topological backward with gradient accumulation.

Nodes are processed in decreasing creation order, which is a valid topological order (every
node's inputs were created before it), deterministic, and needs no recursion, so graphs of any
depth backpropagate. Broadcasting is undone here, once, for every op.
"""

from __future__ import annotations

from typing import Any, Sequence

from .grad_mode import set_grad_enabled


def _reachable(roots: Sequence[Any]) -> list:
    """All nodes reachable from the root nodes, latest first."""
    seen: set[int] = set()
    nodes = []
    stack = [r for r in roots if r is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        for inp in node._inputs:
            if inp is not None and inp.grad_fn is not None and id(inp.grad_fn) not in seen:
                stack.append(inp.grad_fn)
    nodes.sort(key=lambda n: n._seq, reverse=True)
    return nodes


def sum_to_shape(g: Any, shape: tuple, op_name: str = "") -> Any:
    """Undo broadcasting: sum g (a Tensor) down to `shape`."""
    if g.shape == shape:
        return g
    ndiff = g.ndim - len(shape)
    if ndiff < 0:
        raise RuntimeError(
            f"{op_name}: backward returned a gradient of shape {g.shape} "
            f"for an input of shape {shape}"
        )
    dims = list(range(ndiff))
    for i, s in enumerate(shape):
        if s == 1 and g.shape[ndiff + i] != 1:
            dims.append(ndiff + i)
        elif s != g.shape[ndiff + i]:
            raise RuntimeError(
                f"{op_name}: backward returned a gradient of shape {g.shape} "
                f"that cannot be summed to the input's shape {shape}"
            )
    if dims:
        g = g.sum(dim=tuple(dims), keepdim=True)
    if ndiff:
        g = g.reshape(shape)
    return g


def _needed_nodes(nodes: list, input_ids: set) -> set:
    """ids of the nodes on some path from the roots to one of `inputs` (autograd.grad runs
    only these). `nodes` is latest-first, so walking it backwards sees inputs first."""
    needed: set[int] = set()
    for node in reversed(nodes):
        for inp in node._inputs:
            if inp is not None and (id(inp) in input_ids or (
                    inp.grad_fn is not None and id(inp.grad_fn) in needed)):
                needed.add(id(node))
                break
    return needed


def run_backward(
    tensors: Sequence[Any],
    grad_tensors: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Any] | None = None,
) -> list | None:
    """Backpropagate from `tensors`; accumulate into leaves' .grad, or return the gradients
    of `inputs` (autograd.grad) without touching any .grad."""
    from ..tensor import Tensor

    capture = inputs is not None
    captured: dict[int, Any] = {}
    if capture:
        input_ids = {id(t) for t in inputs}
        # non-leaf inputs: their gradient is complete once their node's buffer is complete
        watch = {}
        for t in inputs:
            if t.grad_fn is not None:
                watch.setdefault(id(t.grad_fn), []).append((t._out_idx, id(t)))

    buffers: dict[int, list] = {}
    # arrays that someone else holds (the caller's gradients, retained grads, other leaves'
    # grads): a leaf's new .grad must not be one of them, so that it can be modified in place
    taken: set[int] = {id(g.data) for g in grad_tensors}

    def accumulate_leaf(leaf: Any, g: Any) -> None:
        if leaf._hooks:
            for hook in leaf._hooks:
                r = hook(g)
                if r is not None:
                    g = r
        if capture:
            if id(leaf) in input_ids:
                prev = captured.get(id(leaf))
                captured[id(leaf)] = g if prev is None else prev + g
            return
        if leaf.grad is None:
            if create_graph:
                leaf.grad = g
                return
            arr = g.data
            # views (broadcast, slices, reshapes) are read-only or pin a larger array
            if arr.base is not None or id(arr) in taken:
                arr = arr.copy()
            taken.add(id(arr))
            leaf.grad = Tensor._wrap(arr)
        elif create_graph:
            leaf.grad = leaf.grad + g
        else:  # out of place: whoever holds the old .grad array keeps it unchanged
            leaf.grad = Tensor._wrap(leaf.grad.data + g.data)

    def send(t: Any, g: Any) -> None:
        node = t.grad_fn
        if node is None:
            accumulate_leaf(t, g)
            return
        buf = buffers.get(id(node))
        if buf is None:
            buf = buffers[id(node)] = [None] * node._n_out
        i = t._out_idx
        buf[i] = g if buf[i] is None else buf[i] + g

    roots = []
    with set_grad_enabled(create_graph):
        for t, g in zip(tensors, grad_tensors):
            if capture and id(t) in input_ids and t.grad_fn is None:
                prev = captured.get(id(t))
                captured[id(t)] = g if prev is None else prev + g
                continue
            send(t, g)
            roots.append(t.grad_fn)

        nodes = _reachable(roots)
        needed = _needed_nodes(nodes, input_ids) if capture else None
        for node in nodes:
            grads = buffers.pop(id(node), None)
            if grads is None:
                continue  # no gradient flows into this node
            for i, g in enumerate(grads):
                if g is None and node._out_meta[i] is not None and node.materialize_grads:
                    shape, dtype, xp = node._out_meta[i]
                    grads[i] = Tensor._wrap(xp.zeros(shape, dtype=dtype))
            if node._hooks:
                for idx, hook in node._hooks:
                    r = hook(grads[idx])
                    if r is not None:
                        grads[idx] = r
            if node._retained:
                for idx, t in node._retained:
                    t.grad = grads[idx] if create_graph else grads[idx].detach()
                    taken.add(id(t.grad.data))
            if capture:
                if id(node) in watch:
                    for idx, tid in watch[id(node)]:
                        captured[tid] = grads[idx]
                if id(node) not in needed:
                    continue  # below every input: autograd.grad does not go there
            if node._freed:
                raise RuntimeError(
                    "Trying to backward through the graph a second time; pass "
                    "retain_graph=True to the first backward (or autograd.grad)"
                )
            in_grads = node._fn.backward(node, *grads)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            name = node._fn.__name__
            n_in = len(node._inputs)
            if len(in_grads) < n_in or any(g is not None for g in in_grads[n_in:]):
                raise RuntimeError(
                    f"{name}.backward returned {len(in_grads)} gradient(s) but forward had "
                    f"{len(node._inputs)} input(s)"
                )
            for inp, g in zip(node._inputs, in_grads):
                if g is None or inp is None or not inp.requires_grad:
                    continue
                if not isinstance(g, Tensor):
                    g = Tensor._wrap(g) if hasattr(g, "shape") else Tensor(g, dtype=inp.dtype)
                if g.shape != inp.shape:
                    g = sum_to_shape(g, inp.shape, name)
                if g.dtype != inp.dtype:
                    g = g.to(dtype=inp.dtype)
                send(inp, g)
            if not retain_graph:
                node._release()

    if capture:
        return [captured.get(id(t)) for t in inputs]
    return None
