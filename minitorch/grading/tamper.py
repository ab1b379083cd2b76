"""In the student's process: detect changes to minitorch, and refuse calls to forbidden names.

The reference never runs in the student's process, so patching minitorch cannot change what a
submission is compared with; it is still detected (and costs the task its points), because a
submission that rewrites the framework is not doing the assignment. `snapshot` records every
function, class, method and module reachable from minitorch's modules and classes before the
submission is imported; `tampered` lists what was replaced or deleted since.

`forbid` replaces named framework functions (the ones that would solve the task, such as
F.relu for a ReLU task) by guards that raise ForbiddenCall and remember the call, so a
submission that catches the exception is still caught.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_MISSING = object()
_calls: list[str] = []


class ForbiddenCall(BaseException):
    """A forbidden framework function was called (BaseException: `except Exception` in student
    code does not hide it)."""


def forbidden_calls() -> list[str]:
    return sorted(set(_calls))


def _owner(path: str) -> tuple:
    """(object holding the attribute, attribute name) for a dotted path into minitorch."""
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:-1]:
            obj = getattr(obj, attr)
        return obj, parts[-1]
    raise ImportError(path)


def _guard(path: str, raw: Any) -> Any:
    def blocked(*args: Any, **kwargs: Any) -> Any:
        _calls.append(path)
        raise ForbiddenCall(f"{path} may not be used in this task")

    blocked.__name__ = getattr(raw, "__name__", "blocked")
    if isinstance(raw, classmethod):
        return classmethod(lambda cls, *a, **k: blocked())
    if isinstance(raw, staticmethod):
        return staticmethod(blocked)
    return blocked


def forbid(paths: list[str]) -> None:
    """Install guards on every dotted path (each must exist: the grader validated them)."""
    for path in paths:
        owner, attr = _owner(path)
        if isinstance(owner, type):
            raw = next((k.__dict__[attr] for k in owner.__mro__ if attr in k.__dict__), None)
        else:
            raw = getattr(owner, attr)
        setattr(owner, attr, _guard(path, raw))


def check_forbid_paths(paths: list[str], where: str) -> None:
    """Grader side: every forbidden name must exist (a typo would silently forbid nothing)."""
    from .spec import AssignmentError

    for path in paths:
        if not path.startswith("minitorch."):
            raise AssignmentError(f"{where}: forbid entry {path!r} is not inside minitorch")
        try:
            owner, attr = _owner(path)
        except (ImportError, AttributeError):
            owner, attr = None, None
        if owner is None or not hasattr(owner, attr):
            raise AssignmentError(f"{where}: forbid entry {path!r} does not exist")


def _watched(value: Any) -> bool:
    return isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.ModuleType,
                              type, classmethod, staticmethod, property, types.MethodType))


def snapshot() -> list:
    """(label, live namespace, attribute, object) for everything watched in minitorch."""
    entries: list = []
    seen_classes: set[int] = set()
    for name, mod in list(sys.modules.items()):
        if mod is None or not (name == "minitorch" or name.startswith("minitorch.")):
            continue
        entries.append((name, sys.modules, name, mod))
        for attr, value in list(vars(mod).items()):
            if not _watched(value):
                continue
            entries.append((f"{name}.{attr}", vars(mod), attr, value))
            if isinstance(value, type) and value.__module__.startswith("minitorch") \
                    and id(value) not in seen_classes:
                seen_classes.add(id(value))
                label = f"{value.__module__}.{value.__qualname__}"
                for cattr, cvalue in list(vars(value).items()):
                    if _watched(cvalue):
                        entries.append((f"{label}.{cattr}", vars(value), cattr, cvalue))
    return entries


def tampered(entries: list) -> list[str]:
    """Labels of the watched objects that were replaced or deleted."""
    return sorted({label for label, ns, attr, value in entries
                   if ns.get(attr, _MISSING) is not value})
