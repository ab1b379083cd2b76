"""Assignment files: YAML -> validated Assignment / Task / CheckSpec objects.

Every problem is reported as one AssignmentError line that names the file, the task and the
key, so an instructor can fix a typo without reading a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml

KINDS = ("function", "module", "loss", "optimizer", "scheduler", "init")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
DEVICES = ("cpu", "cuda")

# Check names per kind, with the relative weight a check gets when the assignment names no
# points for it. Order is execution order: cheap value checks first, so a timeout late in a
# task keeps the credit already earned.
CHECKS: dict[str, dict[str, float]] = {
    "function": {"forward": 3, "outputs": 1, "backward": 3, "inputs_unchanged": 1,
                 "gradcheck": 2},
    "loss": {"forward": 3, "outputs": 1, "backward": 3, "inputs_unchanged": 1, "gradcheck": 1,
             "stability": 2},
    "module": {"parameters": 1, "forward": 3, "backward": 3, "train_eval": 1,
               "inputs_unchanged": 1, "gradcheck": 1},
    "optimizer": {"trajectory": 5, "param_groups": 2, "state_dict": 2, "grad_unchanged": 1,
                  "none_grads": 1},
    "scheduler": {"lr_sequence": 6, "param_groups": 2, "state_dict": 2},
    "init": {"in_place": 1, "mean": 1, "variance": 3, "bounds": 2, "distribution": 2,
             "orthogonality": 3, "reproducible": 1},
}

# Keys a task may carry besides the common ones, per kind.
KIND_KEYS: dict[str, tuple] = {
    "function": ("inputs", "cases", "gradcheck_cases"),
    "loss": ("inputs", "cases", "gradcheck_cases", "stability_cases"),
    "module": ("inputs", "cases", "gradcheck_cases", "init_args", "init_kwargs"),
    "optimizer": ("settings", "steps", "params", "dtype", "groups"),
    "scheduler": ("settings", "steps", "base_lrs"),
    "init": ("settings", "shapes"),
}
TASK_KEYS = ("name", "kind", "symbol", "reference", "points", "checks", "visibility",
             "time_limit", "check_time_limit", "memory_limit_mb", "output_limit_kb", "forbid",
             "rtol", "atol", "devices")
CHECK_KEYS = ("points", "rtol", "atol", "time_limit", "visibility", "devices")
LIMIT_DEFAULTS = {"time_limit": 60.0, "check_time_limit": 20.0, "memory_limit_mb": 2048,
                  "output_limit_kb": 256}


class AssignmentError(ValueError):
    """The assignment file cannot be used; the message names the file, task and key."""


@dataclass
class CheckSpec:
    name: str
    points: float
    visibility: str
    time_limit: float
    devices: tuple | None = None  # None: the devices the grader runs on
    rtol: float | None = None
    atol: float | None = None


@dataclass
class Task:
    index: int
    name: str
    kind: str
    symbol: str
    reference: str
    points: float
    checks: list[CheckSpec]
    time_limit: float
    memory_limit_mb: int
    output_limit_kb: int
    forbid: list[str] | None  # None: the reference's default list
    options: dict[str, Any] = field(default_factory=dict)  # the kind-specific keys


@dataclass
class Assignment:
    name: str
    path: str
    seed: int
    tasks: list[Task]

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tasks)


def _number(value: Any, where: str, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AssignmentError(f"{where} must be a number, got {value!r}")
    if positive and value <= 0:
        raise AssignmentError(f"{where} must be positive, got {value!r}")
    if not positive and value < 0:
        raise AssignmentError(f"{where} must not be negative, got {value!r}")
    return float(value)


def _visibility(value: Any, where: str) -> str:
    if value not in VISIBILITIES:
        raise AssignmentError(f"{where}: visibility must be one of {', '.join(VISIBILITIES)}, "
                              f"got {value!r}")
    return value


def _devices(value: Any, where: str) -> tuple:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or any(d not in DEVICES for d in value):
        raise AssignmentError(f"{where}: devices must be a list drawn from {DEVICES}, "
                              f"got {value!r}")
    return tuple(value)


def _unknown(d: dict, allowed: tuple, where: str) -> None:
    extra = sorted(set(d) - set(allowed))
    if extra:
        raise AssignmentError(f"{where}: unknown key(s) {', '.join(map(repr, extra))} "
                              f"(allowed: {', '.join(allowed)})")


def _checks(raw: Any, task: dict, kind: str, where: str, defaults: dict) -> list[CheckSpec]:
    """Per-check points: explicit ones are kept, the rest share what is left of the task's."""
    available = CHECKS[kind]
    if raw is None:
        names = list(available)
        if kind == "init":  # only the checks that suit the initialiser's distribution
            from .references import INITS, init_checks

            ref = str(task.get("reference", task["symbol"])).rsplit(".", 1)[-1]
            names = init_checks(ref) if ref in INITS else names
        raw = {name: {} for name in names}
    if isinstance(raw, list):
        raw = {name: {} for name in raw}
    if not isinstance(raw, dict) or not raw:
        raise AssignmentError(f"{where}: checks must be a mapping of check name to points or "
                              f"options, or a list of check names")
    total = task["points"]
    specs, explicit, weights = [], 0.0, {}
    for name, opts in raw.items():
        cw = f"{where}, check {name!r}"
        if name not in available:
            raise AssignmentError(f"{cw}: unknown check for kind {kind!r} "
                                  f"(available: {', '.join(available)})")
        if opts is None:
            opts = {}
        if isinstance(opts, (int, float)) and not isinstance(opts, bool):
            opts = {"points": opts}
        if not isinstance(opts, dict):
            raise AssignmentError(f"{cw}: expected points or a mapping, got {opts!r}")
        _unknown(opts, CHECK_KEYS, cw)
        points = None
        if "points" in opts:
            points = _number(opts["points"], f"{cw}: points", positive=False)
            explicit += points
        else:
            weights[name] = available[name]
        specs.append(CheckSpec(
            name=name, points=points if points is not None else 0.0,
            visibility=_visibility(opts.get("visibility", task.get(
                "visibility", defaults.get("visibility", "visible"))), cw),
            time_limit=_number(opts.get("time_limit", task.get(
                "check_time_limit", defaults.get("check_time_limit",
                                                 LIMIT_DEFAULTS["check_time_limit"]))),
                f"{cw}: time_limit"),
            devices=_devices(opts["devices"], cw) if "devices" in opts else (
                _devices(task["devices"], where) if "devices" in task else None),
            rtol=_number(opts["rtol"], f"{cw}: rtol", False) if "rtol" in opts else (
                _number(task["rtol"], f"{where}: rtol", False) if "rtol" in task else None),
            atol=_number(opts["atol"], f"{cw}: atol", False) if "atol" in opts else (
                _number(task["atol"], f"{where}: atol", False) if "atol" in task else None),
        ))
    rest = total - explicit
    if not weights and abs(rest) > 1e-9:
        raise AssignmentError(f"{where}: the checks' points add up to {explicit:g} but the task "
                              f"is worth {total:g}")
    if weights and rest < -1e-9:
        raise AssignmentError(f"{where}: the checks' explicit points ({explicit:g}) exceed the "
                              f"task's {total:g}")
    wsum = sum(weights.values())
    for s in specs:
        if s.name in weights:
            s.points = rest * weights[s.name] / wsum
    return specs


def _task(raw: Any, index: int, path: str, defaults: dict, seen: set) -> Task:
    where = f"{path}: task {index + 1}"
    if not isinstance(raw, dict):
        raise AssignmentError(f"{where}: expected a mapping, got {type(raw).__name__}")
    if isinstance(raw.get("name"), str):
        where += f" ({raw['name']!r})"
    for key in ("name", "kind", "symbol", "points"):
        if key not in raw:
            raise AssignmentError(f"{where}: missing required key {key!r}")
    kind = raw["kind"]
    if kind not in KINDS:
        raise AssignmentError(f"{where}: unknown kind {kind!r} (expected one of "
                              f"{', '.join(KINDS)})")
    _unknown(raw, TASK_KEYS + KIND_KEYS[kind], where)
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise AssignmentError(f"{where}: name must be a non-empty string")
    if name in seen:
        raise AssignmentError(f"{where}: duplicate task name {name!r}")
    seen.add(name)
    symbol = raw["symbol"]
    if not isinstance(symbol, str) or not symbol.isidentifier():
        raise AssignmentError(f"{where}: symbol must be a Python identifier, got {symbol!r}")
    reference = raw.get("reference", symbol)
    if not isinstance(reference, str) or not reference:
        raise AssignmentError(f"{where}: reference must be a name, got {reference!r}")
    raw = dict(raw)
    raw["points"] = _number(raw["points"], f"{where}: points")
    if "visibility" in raw:
        _visibility(raw["visibility"], where)
    forbid = raw.get("forbid", defaults.get("forbid"))
    if forbid is not None and (not isinstance(forbid, list)
                               or any(not isinstance(f, str) for f in forbid)):
        raise AssignmentError(f"{where}: forbid must be a list of dotted names")
    limits = {k: _number(raw.get(k, defaults.get(k, v)), f"{where}: {k}")
              for k, v in LIMIT_DEFAULTS.items()}
    return Task(
        index=index, name=name, kind=kind, symbol=symbol, reference=reference,
        points=raw["points"], checks=_checks(raw.get("checks"), raw, kind, where, defaults),
        time_limit=limits["time_limit"], memory_limit_mb=int(limits["memory_limit_mb"]),
        output_limit_kb=int(limits["output_limit_kb"]), forbid=forbid,
        options={k: raw[k] for k in KIND_KEYS[kind] if k in raw},
    )


def parse_assignment(data: Any, path: str = "<assignment>") -> Assignment:
    """Validate a loaded YAML document (structure only; references are resolved later)."""
    if not isinstance(data, dict):
        raise AssignmentError(f"{path}: expected a mapping at the top level")
    _unknown(data, ("name", "seed", "defaults", "tasks"), path)
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise AssignmentError(f"{path}: defaults must be a mapping")
    _unknown(defaults, tuple(LIMIT_DEFAULTS) + ("visibility", "forbid"), f"{path}: defaults")
    if "visibility" in defaults:
        _visibility(defaults["visibility"], f"{path}: defaults")
    tasks = data.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise AssignmentError(f"{path}: 'tasks' must be a non-empty list")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise AssignmentError(f"{path}: seed must be a non-negative integer, got {seed!r}")
    seen: set = set()
    return Assignment(
        name=str(data.get("name") or os.path.splitext(os.path.basename(path))[0]),
        path=path, seed=seed,
        tasks=[_task(t, i, path, defaults, seen) for i, t in enumerate(tasks)],
    )


def load_assignment(path: str | os.PathLike) -> Assignment:
    """Read and validate an assignment YAML file (references are resolved by the planner)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise AssignmentError(f"assignment file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise AssignmentError(f"{path}: not valid YAML{at}: "
                              f"{getattr(exc, 'problem', None) or exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AssignmentError(f"{path}: cannot read: {exc}") from None
    return parse_assignment(data, path)
