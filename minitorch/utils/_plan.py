"""Choosing checkpoint boundaries for a sequence of layers from measured activation sizes.

A probe runs the layers once, one at a time with recording on, on the real input (RNG and
module buffers restored afterwards, so the probe changes nothing), and measures what each
layer's nodes hold for backward (the meter's definition, minitorch.utils.memory): bytes of its
own intermediates, and whether it holds its input and its output. From these the bytes a
segment of layers [i, j) holds, H(i, j), follow exactly (boundaries are deduplicated).

Running segments s_0 = 0 < s_1 < ... < s_k = n, all but the last checkpointed, the graph holds
at most  max_m ( sum_{q<m} |x_{s_q}| + H(s_m, s_{m+1}) )  for backward: while segment m is
recorded (in the forward for the last one, in the recomputation for the others) the inputs of
the segments before it are held by their checkpoint nodes. The sequence's output is counted as
held (a loss keeps it); the planner's input is counted even where it is a leaf that requires
grad, which the meter leaves out. Every checkpointed layer is recomputed exactly once, so the extra
compute is the forward of everything outside the last segment.

- budget B: the longest plain last segment for which the layers before it can be cut so that
  the bound above stays <= B; those cuts minimise the held segment inputs (a dynamic program
  over cut points, O(n^2)), which leaves the most room for every later segment;
- default (no budget): the least B that some plan meets (bisection), then as above. For n
  similar layers the bound is about (k - 1)·|x| + n·a/k with k segments, least at
  k ~ sqrt(n·a/|x|): Chen et al. 2016's sqrt(n) segments, placed by measured sizes rather
  than by counting layers, and smaller later where more segment inputs are already held.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .. import random as _random
from ..autograd import enable_grad
from ..tensor import Tensor
from .memory import buffer_key, format_bytes, node_arrays


@dataclass
class CheckpointPlan:
    """Segments (start, end) over n_layers layers; the last runs without checkpointing."""

    bounds: list
    n_layers: int
    predicted_peak: int  # bytes held for backward by the sequence, by the formula above
    budget: int | None = None
    layer_bytes: list = field(default_factory=list)  # H(l, l+1) per layer

    @property
    def recomputed_layers(self) -> int:
        return self.bounds[-1][0]

    def __repr__(self) -> str:
        cuts = [b[0] for b in self.bounds[1:]]
        return (f"CheckpointPlan({len(self.bounds)} segments over {self.n_layers} layers, cuts "
                f"at {cuts}, predicted peak {format_bytes(self.predicted_peak)}"
                + (f", budget {format_bytes(self.budget)})" if self.budget is not None else ")"))


class _Profile:
    """Per-layer measurements; H(i, j) and the plan's peak computed from them."""

    def __init__(self, inter: list, holds_in: list, holds_out: list, size: list,
                 same: list) -> None:
        self.n = len(inter)
        self.inter, self.holds_in, self.holds_out = inter, holds_in, holds_out
        group = [0]
        for i in range(self.n):  # a layer returning (a view of) its input: one buffer
            group.append(group[-1] if same[i] else i + 1)
        self.group, self.size = group, size
        self._table: list | None = None

    def held_groups(self, i: int, j: int) -> set:
        g = {self.group[i]}  # the segment's input: its checkpoint node holds it
        for k in range(i + 1, j + 1):
            if (k < j and self.holds_in[k]) or self.holds_out[k - 1] or k == self.n:
                g.add(self.group[k])  # the sequence's output counts: a loss keeps it
        return g

    def held(self, i: int, j: int) -> int:
        """H(i, j): bytes the recorded layers [i, j) hold, from a table built once, O(n^2)."""
        if self._table is None:
            self._table = [self._row(a) for a in range(self.n)]
        return self._table[i][j]

    def _row(self, a: int) -> list:
        row = [0] * (self.n + 1)
        groups, total = {self.group[a]}, self.size[self.group[a]] + 0
        for b in range(a + 1, self.n + 1):
            total += self.inter[b - 1]
            out = self.group[b]
            closing = (self.holds_out[b - 1] or b == self.n) and out not in groups
            row[b] = total + (self.size[out] if closing else 0)
            # extending past b makes boundary b interior: held if either neighbour holds it
            if out not in groups and (self.holds_out[b - 1] or (b < self.n and self.holds_in[b])):
                groups.add(out)
                total += self.size[out]
        return row

    def peak(self, cuts: list) -> int:
        """Exact bound for segments between consecutive cuts (cuts[0] = 0, cuts[-1] = n)."""
        best, before = 0, set()
        for a, b in zip(cuts, cuts[1:]):
            groups = self.held_groups(a, b) | before
            best = max(best, sum(self.inter[a:b]) + sum(self.size[g] for g in groups))
            before.add(self.group[a])
        return best


def _alias(x: Tensor) -> Tensor:
    from ..func import _Alias

    leaf = Tensor._wrap(x.data)
    leaf.requires_grad = True
    return _Alias.apply(leaf)


def _segment_buffers(out: Tensor, stop: Any) -> dict:
    bufs: dict[int, int] = {}
    seen: set[int] = set()
    stack = [out.grad_fn] if out.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen or node is stop:
            continue
        seen.add(id(node))
        bufs.update(buffer_key(a) for a in node_arrays(node))
        stack.extend(t.grad_fn for t in node._inputs if t is not None and t.grad_fn is not None)
    return bufs


def profile_layers(layers: list, x: Any) -> _Profile:
    """Run each layer once, recorded, and measure what its nodes hold (see module doc)."""
    from .checkpoint import find_modules, restore_buffers, snapshot_buffers

    inter, holds_in, holds_out, size, same = [], [], [], [], []
    snapshot = snapshot_buffers(find_modules(layers))
    try:
        with _random.fork_rng(), enable_grad():
            for i, layer in enumerate(layers):
                if not isinstance(x, Tensor):
                    raise TypeError(f"checkpoint_sequential: layer {i} got a "
                                    f"{type(x).__name__}, expected a Tensor")
                xin = _alias(x) if x.dtype.kind in "fc" else x
                out = layer(xin)
                if not isinstance(out, Tensor):
                    raise TypeError(f"checkpoint_sequential: layer {i} returned a "
                                    f"{type(out).__name__}, expected a Tensor")
                bufs = _segment_buffers(out, xin.grad_fn)
                kin, nin = buffer_key(x.data)
                kout, nout = buffer_key(out.data)
                size.append(nin)
                holds_in.append(kin in bufs)
                holds_out.append(kout in bufs)
                same.append(kin == kout)
                inter.append(sum(v for k, v in bufs.items() if k not in (kin, kout)))
                x = Tensor._wrap(out.data)
                del out, xin, bufs
            size.append(buffer_key(x.data)[1])
    finally:
        restore_buffers(snapshot)
    return _Profile(inter, holds_in, holds_out, size, same)


def _budget_cuts(p: _Profile, budget: int) -> list | None:
    n, inf = p.n, float("inf")
    best = [inf] * (n + 1)  # least bytes of held segment inputs with layers [0, e) covered
    prev = [-1] * (n + 1)
    best[0] = 0
    for e in range(1, n + 1):
        for s in range(e):
            if best[s] == inf or best[s] + p.held(s, e) > budget:
                continue
            cand = best[s] + p.size[p.group[s]]
            if cand < best[e]:
                best[e], prev[e] = cand, s
    for tail in range(n):  # the longest plain last segment that fits
        if best[tail] != inf and best[tail] + p.held(tail, n) <= budget:
            cuts = [tail]
            while cuts[-1] > 0:
                cuts.append(prev[cuts[-1]])
            return cuts[::-1] + [n]
    return None


def _min_budget(p: _Profile) -> int:
    lo, hi = 0, max(1, p.peak(list(range(p.n + 1))))
    while _budget_cuts(p, hi) is None:  # checkpointing every layer is not always the minimum
        hi *= 2
    while lo < hi:
        mid = (lo + hi) // 2
        if _budget_cuts(p, mid) is None:
            lo = mid + 1
        else:
            hi = mid
    return hi


def plan_checkpoints(functions: Any, input: Any, budget: int | None = None  # noqa: A002
                     ) -> CheckpointPlan:
    """Measure the layers on `input` and choose segment boundaries (see the module doc)."""
    from .checkpoint import _layers

    layers = _layers(functions)
    p = profile_layers(layers, input)
    if budget is None:
        cuts = _budget_cuts(p, _min_budget(p))
    else:
        if budget < 0:
            raise ValueError(f"checkpoint_sequential: budget must be >= 0 bytes, got {budget}")
        cuts = _budget_cuts(p, int(budget))
        if cuts is None:
            raise ValueError(
                f"checkpoint_sequential: no segmentation of these {p.n} layers holds at most "
                f"{format_bytes(budget)} for backward; the least possible is "
                f"{format_bytes(_min_budget(p))} ({_min_budget(p)} bytes)")
    bounds = [(a, b) for a, b in zip(cuts, cuts[1:])]
    return CheckpointPlan(bounds, p.n, p.peak(cuts), budget,
                          [p.held(i, i + 1) for i in range(p.n)])


# plans for segments="auto", keyed by the layers (weakly) and what the sizes depend on
_cache: OrderedDict = OrderedDict()


def plan_for(functions: Any, layers: list, x: Any, budget: int | None) -> CheckpointPlan:
    training = tuple(getattr(m, "training", None) for m in layers)
    key = (tuple(id(f) for f in layers), getattr(x, "shape", None), getattr(x, "dtype", None),
           getattr(x, "device", None), budget, training)
    hit = _cache.get(key)
    if hit is not None and all(r() is f for r, f in zip(hit[0], layers)):
        _cache.move_to_end(key)
        return hit[1]
    plan = plan_checkpoints(layers, x, budget)
    try:
        refs = [weakref.ref(f) for f in layers]
    except TypeError:  # not weak-referenceable: do not cache
        return plan
    _cache[key] = (refs, plan)
    if len(_cache) > 32:
        _cache.popitem(last=False)
    return plan
