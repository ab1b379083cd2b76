"""Kind `optimizer`: a student's mt.optim.Optimizer subclass.

Parameters follow the gradient of a fixed, non-quadratic objective,
g(p) = a * p + b + 0.5 sin(3p) (elementwise, fresh `.grad` each step), so a wrong update
shows up within a step or two. Checks, each isolating one property:
  trajectory      parameters after each of N steps vs the reference, for several settings
  param_groups    two groups with their own hyper-parameters behave like two optimizers
  state_dict      save at step k (through mt.save / mt.load), load into a fresh optimizer,
                  continue: identical to an uninterrupted run
  grad_unchanged  step() leaves every .grad as it found it
  none_grads      a parameter whose .grad is None is left alone
The last three compare the student's optimizer with itself, so an update-rule bug costs the
trajectory points only.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from ..cases import rng_for
from ..compare import compare, describe
from ..references import DEFAULT_OPTIMIZER, OPTIMIZERS, optim_class
from ..runtime import SubmissionError, changed, host, run_case, tensor
from ..spec import AssignmentError, Task
from .base import Planned, case_outcome

TOL = {"float64": (1e-6, 1e-9), "float32": (1e-4, 1e-6)}


def student_impl(obj: Any, task: dict) -> Any:
    from ...optim import Optimizer

    if not (isinstance(obj, type) and issubclass(obj, Optimizer)):
        raise SubmissionError(f"`{task['symbol']}` must be a class deriving from "
                              f"minitorch.optim.Optimizer; got {type(obj).__name__}")
    return obj


def gradient(p: np.ndarray, coef: dict) -> np.ndarray:
    """The objective's gradient at p (float64 maths, returned in p's dtype)."""
    q = p.astype(np.float64)
    return (coef["a"] * q + coef["b"] + 0.5 * np.sin(3 * q)).astype(p.dtype)


def _params(payload: dict, device: str, values: list | None = None) -> list:
    from ...nn import Parameter

    return [Parameter(tensor(a, device)) for a in (values or payload["params"])]


def _run(opt: Any, params: list, coefs: list, steps: int, device: str,
         watch: list | None = None, skip: tuple = ()) -> list:
    """`steps` optimizer steps; returns each parameter's values after each step."""
    traj: list = [[] for _ in params]
    for t in range(steps):
        for i, (p, c) in enumerate(zip(params, coefs, strict=True)):
            p.grad = None if i in skip else tensor(gradient(host(p), c), device)
        before = [None if p.grad is None else host(p.grad) for p in params]
        opt.step()
        for i, p in enumerate(params):
            traj[i].append(host(p))
            if watch is not None and before[i] is not None:
                delta = changed(before[i], host(p.grad) if p.grad is not None else np.nan)
                if delta is not None:
                    watch.append([t + 1, i, delta])
    return [np.stack(x) for x in traj]


def probe_trajectory(cls: Any, payload: dict, device: str) -> list:
    def one(case: dict) -> list:
        params = _params(payload, device)
        opt = cls(params, **case["setting"])
        return _run(opt, params, payload["coefs"], payload["steps"], device)

    return [run_case(one, case) for case in payload["cases"]]


def probe_param_groups(cls: Any, payload: dict, device: str) -> list:
    def one(case: dict) -> dict:
        g0, g1 = case["groups"]
        n0 = len(payload["params"]) - 1  # the last parameter forms the second group
        params = _params(payload, device)
        opt = cls([{"params": params[:n0], **g0}, {"params": params[n0:], **g1}],
                  **case["setting"])
        grouped = _run(opt, params, payload["coefs"], payload["steps"], device)
        alone = []
        for sl, g in ((slice(0, n0), g0), (slice(n0, None), g1)):
            ps = _params(payload, device)[sl]
            alone += _run(cls(ps, **{**case["setting"], **g}), ps, payload["coefs"][sl],
                          payload["steps"], device)
        return {"grouped": grouped, "alone": alone}

    return [run_case(one, case) for case in payload["cases"]]


def _round_trip(state: Any) -> Any:
    """Through mt.save / mt.load, as a checkpoint would be."""
    from ...serialization import load, save

    fd, path = tempfile.mkstemp(suffix=".mt", dir=os.getcwd())
    os.close(fd)
    try:
        try:
            save(state, path)
        except TypeError as exc:
            raise SubmissionError(f"state_dict() holds something mt.save cannot store "
                                  f"({exc}); keep state as tensors, arrays and numbers") from None
        return load(path)
    finally:
        os.unlink(path)


def probe_state_dict(cls: Any, payload: dict, device: str) -> list:
    k, m = payload["split"]

    def one(case: dict) -> dict:
        params = _params(payload, device)
        straight = _run(cls(params, **case["setting"]), params, payload["coefs"], k + m, device)
        params = _params(payload, device)
        opt = cls(params, **case["setting"])
        _run(opt, params, payload["coefs"], k, device)
        saved = _round_trip(opt.state_dict())
        fresh = _params(payload, device, [host(p) for p in params])
        opt2 = cls(fresh, **case["setting"])
        opt2.load_state_dict(saved)
        resumed = _run(opt2, fresh, payload["coefs"], m, device)
        return {"straight": [s[k:] for s in straight], "resumed": resumed}

    return [run_case(one, case) for case in payload["cases"]]


def probe_grad_unchanged(cls: Any, payload: dict, device: str) -> list:
    def one(case: dict) -> list:
        params = _params(payload, device)
        watch: list = []
        _run(cls(params, **case["setting"]), params, payload["coefs"], payload["steps"], device,
             watch)
        return watch

    return [run_case(one, case) for case in payload["cases"]]


def probe_none_grads(cls: Any, payload: dict, device: str) -> list:
    def one(case: dict) -> dict:
        params = _params(payload, device)
        opt = cls(params, **case["setting"])
        traj = _run(opt, params, payload["coefs"], payload["steps"], device, skip=(0,))
        return {"frozen": describe(traj[0][-1])}

    return [run_case(one, case) for case in payload["cases"]]


PROBES = {"trajectory": probe_trajectory, "param_groups": probe_param_groups,
          "state_dict": probe_state_dict, "grad_unchanged": probe_grad_unchanged,
          "none_grads": probe_none_grads}


# ---- evaluation -------------------------------------------------------------------------------
def _tol(p: Planned) -> tuple:
    rtol, atol = TOL[p.payload["dtype"]]
    return (p.spec.rtol if p.spec.rtol is not None else rtol,
            p.spec.atol if p.spec.atol is not None else atol)


def first_difference(expected: list, got: list, rtol: float, atol: float, label: str) -> str | None:
    """The first step at which any parameter leaves the expected trajectory."""
    if not isinstance(got, list) or len(got) != len(expected):
        return f"{label}: expected {len(expected)} parameter trajectories"
    steps = expected[0].shape[0]
    for t in range(steps):
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            g = np.asarray(g)
            if g.shape != e.shape:
                return f"{label}: parameter {i} changed shape to {tuple(g.shape[1:])}"
            msg = compare(e[t], {"type": "Tensor", "value": g[t], "shape": list(g[t].shape)},
                          rtol, atol, f"parameter {i}")
            if msg:
                return f"{label}: first differs after step {t + 1}: {msg}"
    return None


def eval_trajectory(p: Planned, got: list) -> tuple:
    return case_outcome(p, got, lambda case, exp, res: [
        first_difference(exp["result"], res, *_tol(p), "parameters")])


def eval_param_groups(p: Planned, got: list) -> tuple:
    return case_outcome(p, got, lambda case, exp, res: [first_difference(
        res["alone"], res["grouped"], *_tol(p),
        "two param groups vs one optimizer per group (each group's own hyper-parameters must "
        "override the defaults)")])


def eval_state_dict(p: Planned, got: list) -> tuple:
    k = p.payload["split"][0]
    return case_outcome(p, got, lambda case, exp, res: [first_difference(
        res["straight"], res["resumed"], 1e-10, 1e-12,
        f"resumed from state_dict() after {k} steps vs an uninterrupted run (is all the "
        f"state in self.state[p] and restored by load_state_dict?)")])


def eval_grad_unchanged(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: Any, res: list) -> list:
        if not res:
            return []
        step, i, delta = res[0]
        return [f"step() changed parameter {i}'s .grad (step {step}, by up to {delta:.3g}); "
                "compute the update into new arrays (g = g + wd * p, not g += wd * p)"]

    return case_outcome(p, got, check)


def eval_none_grads(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: Any, res: dict) -> list:
        return [compare(p.payload["params"][0], res["frozen"], 0.0, 0.0,
                        "a parameter whose .grad is None (it must not move)")]

    return case_outcome(p, got, check)


CHECKS = {"trajectory": ("trajectory", eval_trajectory),
          "param_groups": ("param_groups", eval_param_groups),
          "state_dict": ("state_dict", eval_state_dict),
          "grad_unchanged": ("grad_unchanged", eval_grad_unchanged),
          "none_grads": ("none_grads", eval_none_grads)}
WHAT = {
    "trajectory": "parameters after each of {steps} steps vs minitorch's {ref}, for settings "
                  "{settings}",
    "param_groups": "two parameter groups with their own hyper-parameters ({groups}) behave "
                    "like one optimizer per group",
    "state_dict": "state_dict() -> mt.save -> mt.load -> load_state_dict() mid-run continues "
                  "exactly like an uninterrupted run",
    "grad_unchanged": "step() leaves every parameter's .grad unchanged",
    "none_grads": "a parameter whose .grad is None is not updated",
}


def forbid_default(task: Task) -> list:
    """The reference's own update: calling (or subclassing) it would solve the task."""
    name = task.reference.rsplit(".", 1)[-1]
    cls = optim_class(task.reference, f"task {task.name!r}")
    return [f"minitorch.optim.{name}.{m}" for m in ("step", "_update", "_init_state")
            if hasattr(cls, m)]


def _label(setting: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in setting.items()) or "defaults"


def plan(task: Task, seed: int) -> list:
    where = f"task {task.name!r}"
    cls = optim_class(task.reference, where)
    ref = OPTIMIZERS.get(task.reference.rsplit(".", 1)[-1], DEFAULT_OPTIMIZER)
    opts = task.options
    settings = opts.get("settings", ref["settings"])
    groups = opts.get("groups", ref["groups"])
    steps = opts.get("steps", 8)
    shapes = opts.get("params", [[3, 4], [5], [1]])
    dtype = opts.get("dtype", "float64")
    if not isinstance(settings, list) or not settings or \
            any(not isinstance(s, dict) for s in settings):
        raise AssignmentError(f"{where}: settings must be a non-empty list of mappings")
    if not isinstance(groups, list) or len(groups) != 2 or \
            any(not isinstance(g, dict) for g in groups):
        raise AssignmentError(f"{where}: groups must be a list of two mappings")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= 1000:
        raise AssignmentError(f"{where}: steps must be an int in [2, 1000]")
    if dtype not in TOL:
        raise AssignmentError(f"{where}: dtype must be float32 or float64")
    if not isinstance(shapes, list) or len(shapes) < 2 or any(
            not isinstance(s, list) or any(not isinstance(d, int) or d <= 0 for d in s)
            for s in shapes):
        raise AssignmentError(f"{where}: params must be a list of at least two shapes")
    rng = rng_for(seed, task.name)
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    coefs = [{"a": rng.uniform(0.5, 2.0, s), "b": rng.standard_normal(s)} for s in shapes]
    for s in settings + [{**settings[0], **g} for g in groups]:
        try:
            from ...nn import Parameter

            cls([Parameter(tensor(params[0], "cpu"))], **s)
        except (TypeError, ValueError) as exc:
            raise AssignmentError(f"{where}: {task.reference} rejects settings {s}: {exc}") \
                from None
    base = {"params": params, "coefs": coefs, "steps": steps, "dtype": dtype,
            "split": [steps // 2, steps - steps // 2]}
    per_setting = [{"setting": s, "label": _label(s)} for s in settings]
    planned = []
    for spec in task.checks:
        probe, evaluate = CHECKS[spec.name]
        cases = per_setting
        if spec.name == "param_groups":
            cases = [{"setting": settings[0], "groups": groups,
                      "label": f"{_label(settings[0])}; groups {groups}"}]
        payload = {**base, "cases": cases}
        expected = PROBES[probe](cls, payload, "cpu") if spec.name == "trajectory" else None
        what = WHAT[spec.name].format(steps=steps, ref=task.reference, groups=groups,
                                      settings="; ".join(c["label"] for c in per_setting))
        planned.append(Planned(spec=spec, probe=probe, payload=payload, evaluate=evaluate,
                               expected=expected, what=what))
    return planned
