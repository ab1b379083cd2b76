"""Kind `scheduler`: a student's learning-rate scheduler class, `cls(optimizer, **setting)`.

The optimizer is minitorch's own SGD. Checks:
  lr_sequence   every group's lr and get_last_lr() after construction and after each of N
                `optimizer.step(); scheduler.step()` rounds vs the reference scheduler
  param_groups  two groups with different base lrs follow what each would alone
  state_dict    scheduler (and optimizer) state saved mid-run through mt.save / mt.load and
                loaded into fresh objects continue exactly like an uninterrupted run
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..references import DEFAULT_SCHEDULER, SCHEDULERS, optim_class
from ..runtime import SubmissionError, run_case
from ..spec import AssignmentError, Task
from .base import Planned, case_outcome
from .optimizer import _round_trip

RTOL, ATOL = 1e-7, 1e-12


def student_impl(obj: Any, task: dict) -> Any:
    if not isinstance(obj, type):
        raise SubmissionError(f"`{task['symbol']}` must be a scheduler class, constructed as "
                              f"{task['symbol']}(optimizer, ...); got {type(obj).__name__}")
    return obj


def _optimizer(base_lrs: list) -> Any:
    from ...creation import zeros
    from ...nn import Parameter
    from ...optim import SGD

    groups = [{"params": [Parameter(zeros(2))], "lr": lr} for lr in base_lrs]
    return SGD(groups, lr=base_lrs[0])


def _record(opt: Any, sched: Any) -> tuple:
    last = sched.get_last_lr()
    if not isinstance(last, (list, tuple)):
        raise SubmissionError(f"get_last_lr() returned {type(last).__name__}; return a list "
                              "with one learning rate per parameter group")
    return [float(g["lr"]) for g in opt.param_groups], [float(x) for x in last]


def _run(cls: Any, setting: dict, base_lrs: list, steps: int) -> dict:
    opt = _optimizer(base_lrs)
    sched = cls(opt, **setting)
    lrs, last = [], []
    for t in range(steps + 1):
        if t:
            opt.step()
            sched.step()
        a, b = _record(opt, sched)
        lrs.append(a)
        last.append(b)
    return {"lr": np.array(lrs), "last": np.array(last, dtype=np.float64)}


def probe_lr_sequence(cls: Any, payload: dict, device: str) -> list:
    return [run_case(_run, cls, c["setting"], payload["base_lrs"][:1], payload["steps"])
            for c in payload["cases"]]


def probe_param_groups(cls: Any, payload: dict, device: str) -> list:
    def one(case: dict) -> dict:
        lrs = payload["base_lrs"]
        both = _run(cls, case["setting"], lrs, payload["steps"])["lr"]
        alone = np.stack([_run(cls, case["setting"], [lr], payload["steps"])["lr"][:, 0]
                          for lr in lrs], axis=1)
        return {"grouped": both, "alone": alone}

    return [run_case(one, c) for c in payload["cases"]]


def probe_state_dict(cls: Any, payload: dict, device: str) -> list:
    k, m = payload["split"]

    def one(case: dict) -> dict:
        lrs = payload["base_lrs"][:1]
        straight = _run(cls, case["setting"], lrs, k + m)["lr"][k + 1:]
        opt = _optimizer(lrs)
        sched = cls(opt, **case["setting"])
        for _ in range(k):
            opt.step()
            sched.step()
        saved = _round_trip({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()})
        opt2 = _optimizer(lrs)  # the usual resume order: build both, then load both
        sched2 = cls(opt2, **case["setting"])
        opt2.load_state_dict(saved["optimizer"])
        sched2.load_state_dict(saved["scheduler"])
        resumed = []
        for _ in range(m):
            opt2.step()
            sched2.step()
            resumed.append(_record(opt2, sched2)[0])
        return {"straight": straight, "resumed": np.array(resumed)}

    return [run_case(one, c) for c in payload["cases"]]


PROBES = {"lr_sequence": probe_lr_sequence, "param_groups": probe_param_groups,
          "state_dict": probe_state_dict}


def _seq(exp: np.ndarray, got: Any, what: str, offset: int = 0) -> str | None:
    g = np.asarray(got, dtype=np.float64)
    if g.shape != exp.shape:
        return f"{what}: expected {exp.shape[0]} values, got shape {g.shape}"
    bad = np.abs(g - exp) > ATOL + RTOL * np.abs(exp)
    if not bad.any():
        return None
    t = int(np.argmax(bad.reshape(bad.shape[0], -1).any(axis=1)))
    j = int(np.argmax(bad[t].ravel()))  # the first group that differs
    group = f" (group {j})" if exp.shape[1] > 1 else ""
    lo, hi = max(0, t - 2), min(t + 3, exp.shape[0])

    def show(a: np.ndarray) -> str:
        return "[" + ", ".join(f"{x:.6g}" for x in a[lo:hi, j]) + "]"

    return (f"{what}: first differs at step {t + offset}{group}: expected "
            f"{exp[t, j]:.6g}, got {g[t, j]:.6g} (steps {lo + offset}..{hi - 1 + offset}: "
            f"expected {show(exp)}, got {show(g)})")


def eval_lr_sequence(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: dict, res: dict) -> list:
        e = exp["result"]
        return [_seq(e["lr"], res["lr"], "optimizer lr"),
                _seq(e["last"], res["last"], "get_last_lr()")]

    return case_outcome(p, got, check)


def eval_param_groups(p: Planned, got: list) -> tuple:
    return case_outcome(p, got, lambda case, exp, res: [_seq(
        np.asarray(res["alone"], dtype=np.float64), res["grouped"],
        "two groups vs each group alone")])


def eval_state_dict(p: Planned, got: list) -> tuple:
    k = p.payload["split"][0]
    return case_outcome(p, got, lambda case, exp, res: [_seq(
        np.asarray(res["straight"], dtype=np.float64), res["resumed"],
        f"resumed from state_dict() after {k} steps vs uninterrupted", offset=k + 1)])


CHECKS = {"lr_sequence": ("lr_sequence", eval_lr_sequence),
          "param_groups": ("param_groups", eval_param_groups),
          "state_dict": ("state_dict", eval_state_dict)}
WHAT = {
    "lr_sequence": "lr after construction and after each of {steps} steps vs minitorch's "
                   "{ref}, for settings {settings}",
    "param_groups": "groups with base lrs {lrs} each follow their own schedule",
    "state_dict": "state_dict() saved after {k} steps and loaded into a new scheduler "
                  "continues exactly",
}


def forbid_default(task: Task) -> list:
    name = task.reference.rsplit(".", 1)[-1]
    cls = optim_class(task.reference, f"task {task.name!r}", scheduler=True)
    return [f"minitorch.optim.lr_scheduler.{name}.{m}" for m in ("get_lr", "step")
            if m in vars(cls)]


def plan(task: Task, seed: int) -> list:
    where = f"task {task.name!r}"
    cls = optim_class(task.reference, where, scheduler=True)
    ref = SCHEDULERS.get(task.reference.rsplit(".", 1)[-1], DEFAULT_SCHEDULER)
    settings = task.options.get("settings", ref["settings"])
    steps = task.options.get("steps", 12)
    base_lrs = task.options.get("base_lrs", [0.1, 0.02])
    if not isinstance(settings, list) or not settings or \
            any(not isinstance(s, dict) for s in settings):
        raise AssignmentError(f"{where}: settings must be a non-empty list of keyword "
                              f"mappings for {task.reference}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= 10000:
        raise AssignmentError(f"{where}: steps must be an int in [2, 10000]")
    if not isinstance(base_lrs, list) or len(base_lrs) != 2 or any(
            isinstance(x, bool) or not isinstance(x, (int, float)) or x <= 0 for x in base_lrs):
        raise AssignmentError(f"{where}: base_lrs must be two positive numbers")
    base = {"steps": steps, "base_lrs": [float(x) for x in base_lrs],
            "split": [steps // 2, steps - steps // 2]}
    cases = [{"setting": s, "label": ", ".join(f"{k}={v}" for k, v in s.items()) or "defaults"}
             for s in settings]
    planned = []
    for spec in task.checks:
        probe, evaluate = CHECKS[spec.name]
        payload = {**base, "cases": cases}
        try:
            expected = PROBES[probe](cls, payload, "cpu") if probe == "lr_sequence" else None
        except (TypeError, ValueError) as exc:
            raise AssignmentError(f"{where}: {task.reference} rejects the settings: {exc}") \
                from None
        what = WHAT[spec.name].format(steps=steps, ref=task.reference, lrs=base["base_lrs"],
                                      k=base["split"][0],
                                      settings="; ".join(c["label"] for c in cases))
        planned.append(Planned(spec=spec, probe=probe, payload=payload, evaluate=evaluate,
                               expected=expected, what=what))
    return planned
