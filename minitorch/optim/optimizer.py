"""Optimizer: the bookkeeping every algorithm shares (PyTorch's split, chainer's lazy state).

The base class owns parameter groups (per-group hyper-parameters), lazily created
per-parameter state, `zero_grad`, closures, `maximize`, weight-decay plumbing and
`state_dict` / `load_state_dict`. An algorithm writes only two small methods on raw arrays:

    _init_state(p, state, group)     fill `state` (a dict) for parameter array `p`
    _update(p, g, state, group)      update `p` in place from gradient array `g`

`g` is never `p.grad.data` modified in place: maximize and weight decay make new arrays.
Hyper-parameters are Python floats and steps are Python ints, so `step` never syncs a GPU.
State arrays are created with `xp.zeros_like(p)`, i.e. on the parameter's device, and follow
the parameter when the model moves (`model.to("cuda")` after some steps keeps working).
"""

from __future__ import annotations

import contextlib
import copy
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend, fpenv
from ..autograd import enable_grad
from ..tensor import Tensor


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def check_range(name: str, value: Any, lo: float | None = None, hi: float | None = None,
                hi_open: bool = False, lo_open: bool = False) -> None:
    """Raise a one-line ValueError unless lo <= value <= hi (or < where open)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"Invalid {name}: {value!r} (expected a number)")
    bad = (lo is not None and (value <= lo if lo_open else value < lo)) or \
          (hi is not None and (value >= hi if hi_open else value > hi))
    if bad or value != value:  # value != value catches NaN
        left = "-inf" if lo is None else f"{lo}"
        right = "inf" if hi is None else f"{hi}"
        interval = ("(" if lo_open else "[") + f"{left}, {right}" + (")" if hi_open else "]")
        raise ValueError(f"Invalid {name}: {value} (expected a value in {interval})")


def check_betas(betas: Any, name: str = "betas") -> None:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid {name}: {betas!r} (expected a pair (beta1, beta2))")
    for i, b in enumerate(betas):
        check_range(f"beta parameter at index {i}", b, 0.0, 1.0, hi_open=True)


def _pythonize(v: Any) -> Any:
    """Tensors / NumPy scalars / 0-d arrays -> Python numbers (hyper-parameters stay floats)."""
    if isinstance(v, Tensor):
        return v.item() if v.numel() == 1 else v
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple):
        return tuple(_pythonize(x) for x in v)
    return v


def _is_array(v: Any) -> bool:
    return isinstance(v, np.ndarray) or backend.is_cupy_array(v)


def _copy_tree(v: Any) -> Any:
    """Deep copy of a state value: arrays are copied, containers rebuilt, scalars shared."""
    if _is_array(v):
        return v.copy()
    if isinstance(v, Tensor):
        return v.data.copy()
    if isinstance(v, dict):
        return {k: _copy_tree(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy_tree(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_copy_tree(x) for x in v)
    return v


def _cast_tree(v: Any, device: str, dtype: Any) -> Any:
    """A copy of a state value with its arrays on `device` (floating ones in `dtype`)."""
    if isinstance(v, Tensor):
        v = v.data
    if _is_array(v):
        out = backend.to_device(v, device)
        if out.dtype.kind == "f" and np.dtype(dtype).kind == "f" and out.dtype != dtype:
            return out.astype(dtype)
        return out.copy() if out is v else out
    if isinstance(v, dict):
        return {k: _cast_tree(x, device, dtype) for k, x in v.items()}
    if isinstance(v, list):
        return [_cast_tree(x, device, dtype) for x in v]
    if isinstance(v, tuple):
        return tuple(_cast_tree(x, device, dtype) for x in v)
    return v


def _cast_like(v: Any, p: Any) -> Any:
    """_cast_tree onto parameter array p's device and dtype."""
    return _cast_tree(v, backend.device_of(p), p.dtype)


# Elements per block of a blocked in-place update (see Optimizer._blocks): 64k float32 = 256 KiB
# per array, so the 4-6 arrays of an Adam block stay within a core's L2 cache. Measured on the
# 784-512-512-10 MLP (benchmarks/profile_step.py): 2.2 ms -> 1.4 ms per Adam step vs whole arrays.
BLOCK = 65536


class Optimizer:
    """Base class: `Optimizer(params, defaults)`; params is an iterable of Tensors, of
    (name, Tensor) pairs, or of dicts (parameter groups with their own hyper-parameters)."""

    def __init__(self, params: Any, defaults: dict) -> None:
        self.defaults = {k: _pythonize(v) for k, v in defaults.items()}
        self._validate(self.defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got a single {type(params).__name__}; wrap it in a list"
            )
        if isinstance(params, set):
            raise TypeError("optimizer parameters must be an ordered collection (a list), not "
                            "a set: the order of a set changes between runs")
        if isinstance(params, dict):
            params = [params]
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---- hooks for algorithms ----------------------------------------------------------------
    def _validate(self, group: dict) -> None:
        """Raise ValueError for a bad hyper-parameter in `group` (called for defaults too)."""
        if "lr" in group and not isinstance(group["lr"], _Required):
            check_range("learning rate", _pythonize(group["lr"]), 0.0)
        if "weight_decay" in group:
            check_range("weight_decay value", _pythonize(group["weight_decay"]), 0.0)

    def _check_param(self, p: Tensor, index: int) -> None:
        """Extra per-parameter checks of an algorithm (e.g. Muon needs matrices)."""

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        """Create the per-parameter state for array `p` (lazily, at its first step)."""

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _update or step")

    def _scratch(self, p: Any, shape: tuple | None = None) -> Any:
        """A work array like array `p` (or of `shape`, p's dtype), reused across steps and
        parameters (never part of the state, never saved): lets an update run in place, with
        `out=` arguments, instead of allocating a temporary per operation."""
        work = self.__dict__.get("_work")
        if work is None:
            work = self.__dict__["_work"] = {}
        shape = p.shape if shape is None else shape
        key = (type(p), shape, p.dtype, str(getattr(p, "device", "")))
        buf = work.get(key)
        if buf is None:
            if type(p) is np.ndarray:
                buf = np.empty(shape, dtype=p.dtype)
            else:  # CuPy: on the parameter's GPU, not whichever is current
                with p.device:
                    buf = backend.get_array_module(p).empty(shape, dtype=p.dtype)
            work[key] = buf
        return buf

    def _blocks(self, *arrays: Any) -> Any:
        """Yield matching pieces of equally shaped arrays, plus a work array of the piece's
        shape, for an update of several elementwise passes. On the CPU, contiguous arrays
        larger than BLOCK elements are cut into flat blocks, so each block goes through all
        the passes while it is in cache (one trip to memory instead of one per pass); the
        arithmetic per element is unchanged, so the results are bitwise the same. On the GPU
        (one kernel per pass over the whole array) the arrays are yielded whole."""
        a0 = arrays[0]
        n = a0.size
        if (type(a0) is not np.ndarray or n <= BLOCK
                or not all(type(a) is np.ndarray and a.shape == a0.shape
                           and a.dtype == a0.dtype and a.flags.c_contiguous for a in arrays)):
            yield (*arrays, self._scratch(a0))
            return
        flats = [a.reshape(-1) for a in arrays]
        tmp = self._scratch(a0, (BLOCK,))
        for i in range(0, n, BLOCK):
            j = min(i + BLOCK, n)
            yield (*(f[i:j] for f in flats), tmp[:j - i])

    # ---- parameter groups --------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyper-parameters (e.g. when unfreezing)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        if "params" not in group:
            raise ValueError("param_group must have a 'params' entry")
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters must be an ordered collection (a list), not "
                            "a set: the order of a set changes between runs")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with or without names; "
                                 "some parameter names are missing")
            group["param_names"] = names
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {i} of the "
                                f"group is a {type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"can't optimize a non-leaf Tensor (parameter {i} of the group "
                                 "was computed by an operation; use .detach())")
            if p.dtype.kind not in "fc":
                raise ValueError(f"can't optimize parameter {i}: it has integer dtype {p.dtype}")
            self._check_param(p, i)
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter appears more than once in the parameter group")
        group["params"] = params
        for name, default in self.defaults.items():
            if isinstance(default, _Required) and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        for k in list(group):
            if k not in ("params", "param_names"):
                group[k] = _pythonize(group[k])
        self._validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                raise ValueError("all optimizer param groups should be with or without names")
        self.param_groups.append(group)

    def _params(self) -> list:
        return [p for g in self.param_groups for p in g["params"]]

    # ---- stepping ----------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every gradient: set .grad to None (default) or to new zero arrays."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:  # a new array: never write into a gradient someone may still hold
                        p.grad = Tensor._wrap(p.grad._xp().zeros_like(p.grad.data))

    # The update runs with denormal floats flushed to zero on the CPU (minitorch.fpenv): state
    # that decays toward zero (Adam's m for a dead unit) otherwise enters the denormal range,
    # where each operation is 10-100x slower on x86; only values below the smallest normal
    # float (1.2e-38 in float32) differ, becoming 0. Set to False (per optimizer or on the
    # class) for bit-for-bit IEEE behaviour in that range.
    flush_denormal: bool = True

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter with a gradient; returns closure() when given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with fpenv.flush_denormal() if self.flush_denormal else contextlib.nullcontext():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group: dict) -> None:
        maximize = group.get("maximize", False)
        for p in group["params"]:
            if p.grad is None:
                continue
            g = p.grad.data
            if maximize:
                g = -g
            state = self.state[p]
            if not state:
                self._init_state(p.data, state, group)
            else:
                self._follow_device(p, state)
            self._update(p.data, g, state, group)

    def _follow_device(self, p: Tensor, state: dict) -> None:
        """Move `state` to the parameter's device if the parameter moved since."""
        for v in state.values():
            if _is_array(v):
                if type(v) is type(p.data) and (type(v) is np.ndarray
                                                or v.device == p.data.device):
                    return
                break
        else:
            return
        for k, v in list(state.items()):
            state[k] = _cast_like(v, p.data)

    def to(self, device: Any = None) -> Optimizer:
        """Move every state array to `device`, or by default to its parameter's device."""
        dev = backend.parse_device(device) if device is not None else None
        for p, st in self.state.items():
            for k, v in list(st.items()):
                st[k] = _cast_like(v, p.data) if dev is None else _cast_tree(v, dev, p.dtype)
        return self

    # ---- saving ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{'state': {index: {...}}, 'param_groups': [{hyper-parameters, 'params': [index]}]}.

        A snapshot: arrays are copied, so later steps do not change it. Parameters are referred
        to by their position over all groups, as in PyTorch. Saveable with `mt.save`."""
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
            for p in g["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in g["params"]]
            groups.append(packed)
        state = {index[id(p)]: _copy_tree(s) for p, s in self.state.items()
                 if id(p) in index and s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state; arrays go to each parameter's device and
        (floating ones) dtype. The optimizer must have the same group layout."""
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and "
                             "'param_groups' entries (as returned by Optimizer.state_dict())")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter group(s), "
                             f"this optimizer has {len(self.param_groups)}")
        id_map = {}
        for i, (g, sg) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(f"loaded state dict's parameter group {i} has "
                                 f"{len(sg['params'])} parameters, this optimizer's has "
                                 f"{len(g['params'])}")
            id_map.update(zip(sg["params"], g["params"], strict=True))
        group_of = {id(p): g for g in self.param_groups for p in g["params"]}
        new_state: defaultdict = defaultdict(dict)
        for k, s in state_dict["state"].items():
            if k not in id_map:
                raise ValueError(f"loaded state dict has state for parameter index {k!r}, "
                                 "which is in none of its parameter groups")
            p = id_map[k]
            cast = _cast_like(s, p.data)
            self._check_loaded_state(p, cast, group_of[id(p)], k)
            new_state[p] = cast
        new_groups = []
        for g, sg in zip(self.param_groups, saved_groups, strict=True):
            ng = {key: copy.deepcopy(v) for key, v in sg.items() if key != "params"}
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            new_groups.append(ng)
        self.param_groups[:] = new_groups  # in place: Lookahead and schedulers share the list
        self.state = new_state

    def _check_loaded_state(self, p: Tensor, state: dict, group: dict, index: Any) -> None:
        """Shapes of loaded arrays must match what this algorithm would create for p."""
        fresh: dict = {}
        try:
            self._init_state(p.data, fresh, group)
        except Exception:  # an algorithm whose state needs more than p (none today)
            return
        for key, v in fresh.items():
            if _is_array(v) and _is_array(state.get(key)) and state[key].shape != v.shape:
                raise ValueError(
                    f"loaded state for parameter {index}: {key!r} has shape "
                    f"{tuple(state[key].shape)} but the parameter needs {tuple(v.shape)}"
                )

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k not in ("params", "param_names"):
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)

