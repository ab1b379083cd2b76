"""Helpers the probes share, in the student's process and in the grader.

A probe is a function `probe(impl, payload, device) -> plain data` that exercises an
implementation (the student's or the reference) on the inputs in `payload`. The same probe
code runs the reference in the grader, so both sides are exercised identically. In the
student's process (`STUDENT.active`), an exception inside one case becomes that case's error
text, trimmed to the student's own frames; in the grader it propagates, because a failing
reference means a broken assignment.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np


class CheckTimeout(BaseException):
    """A check ran past its time limit (raised by the alarm in the student's process).
    A BaseException so that a student's `except Exception` cannot swallow it."""


class SubmissionError(Exception):
    """The submission does not have the expected form (the message says what to change)."""


class _Student:
    active = False         # True in the student's process
    roots: tuple = ()      # the submission's file or folder: frames kept in tracebacks
    memory_limit_mb = 0


STUDENT = _Student()


def _inside(filename: str, roots: tuple) -> bool:
    path = os.path.realpath(filename)
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _short(filename: str) -> str:
    path = os.path.realpath(filename)
    for r in STUDENT.roots:
        if path == r:
            return os.path.basename(path)
        if path.startswith(r.rstrip(os.sep) + os.sep):
            return os.path.relpath(path, os.path.dirname(r) if os.path.isfile(r) else r)
    parts = path.split(os.sep)
    if "minitorch" in parts:  # framework frames: show the package-relative path
        return os.sep.join(parts[len(parts) - 1 - parts[::-1].index("minitorch"):])
    return os.path.basename(path)


def format_exception(exc: BaseException) -> str:
    """The exception and the student's own frames (never a full raw traceback)."""
    if isinstance(exc, SystemExit):
        return (f"your code called sys.exit({exc.code!r}); a submission must not exit, "
                "return or raise instead")
    if isinstance(exc, SubmissionError):
        return str(exc)
    if isinstance(exc, SyntaxError):  # its location is the file, not a frame
        where = f"{_short(exc.filename)}, line {exc.lineno}" if exc.filename else "?"
        code = f"\n  {exc.text.rstrip()}" if exc.text else ""
        return f"{type(exc).__name__}: {exc.msg} ({where}){code}"
    msg = str(exc)
    if len(msg) > 600:
        msg = msg[:600] + " ..."
    head = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    if isinstance(exc, MemoryError) and STUDENT.memory_limit_mb:
        head += f" (the memory limit is {STUDENT.memory_limit_mb} MiB)"
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if _inside(f.filename, STUDENT.roots)]
    lines = [head]
    for f in mine[-4:]:
        code = f" -> {f.line.strip()}" if f.line else ""
        lines.append(f"  at {_short(f.filename)}, line {f.lineno}, in {f.name}{code}")
    if frames and (not mine or frames[-1] is not mine[-1]):
        last = frames[-1]
        where = "called from your code" if mine else "your code is not on the stack"
        lines.append(f"  (raised in {_short(last.filename)}, line {last.lineno}, in "
                     f"{last.name}; {where})")
    return "\n".join(lines)


def run_case(fn: Callable, *args: Any) -> dict:
    """{'ok': True, 'result': fn(*args)} or, in the student's process, {'error': text}."""
    if not STUDENT.active:
        return {"ok": True, "result": fn(*args)}
    try:
        return {"ok": True, "result": fn(*args)}
    except CheckTimeout:
        raise
    except (Exception, SystemExit) as exc:
        return {"ok": False, "error": format_exception(exc)}


def tensor(arr: Any, device: str, requires_grad: bool = False) -> Any:
    """A fresh Tensor copy of a host array on `device`."""
    from ..tensor import Tensor

    t = Tensor(np.array(arr, copy=True), device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def host(t: Any) -> np.ndarray:
    from .. import backend

    return np.array(backend.to_numpy(t.data), copy=True)


def changed(before: np.ndarray, after: Any) -> float | None:
    """None when `after` still equals `before` (NaN-aware); else the largest change."""
    a = np.asarray(after)
    if a.shape != before.shape:
        return float("inf")
    same = (a == before) | (np.isnan(a.astype(np.float64)) & np.isnan(before.astype(np.float64)))
    if same.all():
        return None
    return float(np.nanmax(np.abs(a.astype(np.float64) - before.astype(np.float64))))


def central_differences(f: Callable, base: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f / d base by (f(base + eps e_k) - f(base - eps e_k)) / 2 eps, for a scalar f."""
    num = np.zeros(base.size)
    for k in range(base.size):
        vals = []
        for step in (eps, -eps):
            moved = base.copy()
            moved.reshape(-1)[k] += step
            vals.append(f(moved))
        num[k] = (vals[0] - vals[1]) / (2 * eps)
    return num.reshape(base.shape)
