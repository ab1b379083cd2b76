"""Planning an assignment (reference values, once) and grading submissions against the plan.

`prepare` runs in the grader only: it resolves every task's reference, generates the seeded
inputs and computes the reference's results. `grade` then runs each task of a submission in
its own process (sandbox.run_task), which receives the inputs alone, and scores what comes
back. One plan serves any number of submissions (batch mode computes references once).
"""

from __future__ import annotations

import os
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .. import backend
from ..random import fork_rng
from . import kinds
from .kinds.base import Planned
from .results import CheckResult, SubmissionResult, TaskResult, status_of
from .sandbox import ChildRun, Limits, run_task
from .spec import Assignment, AssignmentError, Task
from .tamper import check_forbid_paths


@dataclass
class PreparedTask:
    task: Task
    checks: list            # Planned, one per (check, device)
    skipped: dict = field(default_factory=dict)  # index in checks -> reason
    forbid: list = field(default_factory=list)


@dataclass
class Prepared:
    assignment: Assignment
    seed: int
    devices: tuple
    tasks: list


def prepare(assignment: Assignment, seed: int | None = None, devices: tuple = ("cpu",),
            visible_only: bool = False, only: list | None = None) -> Prepared:
    """Reference results for every check; raises AssignmentError for a broken assignment."""
    seed = assignment.seed if seed is None else int(seed)
    devs = tuple(dict.fromkeys("cpu" if d == "cpu" else "cuda:0" for d in devices))
    cuda_ok = "cuda:0" in devs and backend.is_cuda_available()
    selected = assignment.tasks
    if only:
        unknown = sorted(set(only) - {t.name for t in assignment.tasks})
        if unknown:
            raise AssignmentError(f"{assignment.path}: no task named {', '.join(unknown)}")
        selected = [t for t in assignment.tasks if t.name in only]
    prepared = []
    for task in selected:
        module = kinds.KINDS[task.kind]
        try:
            with fork_rng():  # building reference modules must not move the caller's RNG
                planned = module.plan(task, seed)
        except AssignmentError as exc:
            raise AssignmentError(f"{assignment.path}: {exc}") from None
        except Exception as exc:  # the reference itself failed on the configured inputs
            raise AssignmentError(f"{assignment.path}: task {task.name!r}: the reference "
                                  f"{task.reference!r} failed on the configured inputs: "
                                  f"{type(exc).__name__}: {exc}") from None
        forbid = module.forbid_default(task) if task.forbid is None else list(task.forbid)
        check_forbid_paths(forbid, f"{assignment.path}: task {task.name!r}")
        pt = PreparedTask(task=task, checks=[], forbid=forbid)
        for p in planned:
            want = ["cpu" if d == "cpu" else "cuda:0" for d in (p.spec.devices or devs)]
            reasons = []
            for dev in want:
                reason = None
                if dev != "cpu" and dev not in devs:
                    reason = "GPU check; this grader runs on the CPU (--device cuda adds the GPU)"
                elif dev != "cpu" and not cuda_ok:
                    reason = "GPU check; no GPU is available to the grader"
                elif visible_only and p.spec.visibility != "visible":
                    reason = f"{p.spec.visibility} check, not run with --visible-only"
                reasons.append(reason)
            runnable = sum(r is None for r in reasons)  # a check's points go to where it runs
            for dev, reason in zip(want, reasons, strict=True):
                if reason:
                    pt.skipped[len(pt.checks)] = reason
                pt.checks.append(Planned(**{**p.__dict__, "device": dev, "points": 0.0 if reason
                                            else p.spec.points / runnable}))
        prepared.append(pt)
    return Prepared(assignment=assignment, seed=seed, devices=devs, tasks=prepared)


def _limits(pt: PreparedTask) -> Limits:
    t = pt.task
    return Limits(time_limit=t.time_limit,
                  check_time_limit=max([c.spec.time_limit for c in pt.checks] or [10.0]),
                  memory_mb=t.memory_limit_mb, output_kb=t.output_limit_kb,
                  cuda=any(c.device != "cpu" for c in pt.checks))


def _not_run(run: ChildRun, checks: list, pos: int) -> str:
    """Why the check at position `pos` of the child's list has no result."""
    if run.running == -1:
        return f"not run: {run.stop_reason} while your submission was being imported"
    if run.running is not None and run.running == pos:
        return f"stopped: {run.stop_reason} while this check ran"
    for j in range(pos):
        rec = run.results.get(j)
        if rec is not None and rec.get("status") == "timeout":
            return f"not run: the task stopped when `{checks[j].spec.name}` timed out"
    if run.running is not None and 0 <= run.running < len(checks):
        return (f"not run: the task stopped while `{checks[run.running].spec.name}` ran "
                f"({run.stop_reason})")
    return f"not run: {run.stop_reason or 'the task stopped early'}"


def _score(p: Planned, rec: dict | None, why_missing: str) -> CheckResult:
    res = CheckResult(name=p.spec.name, device=p.device, visibility=p.spec.visibility,
                      max_score=p.points, score=0.0, status="failed", what=p.what)
    if rec is None:
        res.messages = [why_missing]
        return res
    res.elapsed = float(rec.get("elapsed", 0.0) or 0.0)
    status = rec.get("status")
    if status == "timeout":
        res.messages = [f"timed out: took longer than the check's limit of "
                        f"{p.spec.time_limit:g} s (an infinite loop?)"]
        return res
    if status != "ok":
        res.messages = [str(rec.get("error", "failed"))]
        return res
    try:
        passed, total, messages = p.evaluate(p, rec.get("result"))
    except Exception as exc:  # a malformed result: the student's process sent back garbage
        passed, total = 0, 1
        messages = [f"could not read the result of this check ({type(exc).__name__}: {exc})"]
    res.passed, res.total, res.messages = passed, total, list(messages)
    res.score = p.points * passed / total if total else 0.0
    res.status = status_of(res.score, passed, total)
    return res


def _void(result: TaskResult, reason: str) -> None:
    result.error = (result.error + "\n" if result.error else "") + reason
    for c in result.checks:
        if c.status != "skipped" and c.score > 0:
            c.messages.append("no points: " + reason.split(";")[0])
        if c.status != "skipped":
            c.score = 0.0
            c.status = "failed"


def grade_task(pt: PreparedTask, submission: str) -> TaskResult:
    task = pt.task
    result = TaskResult(name=task.name, kind=task.kind, symbol=task.symbol,
                        max_score=sum(c.points for i, c in enumerate(pt.checks)
                                      if i not in pt.skipped), score=0.0)
    runnable = [i for i in range(len(pt.checks)) if i not in pt.skipped]
    run = ChildRun(finished=True)
    if runnable:
        plan = {"kind": task.kind, "symbol": task.symbol, "submission": submission,
                "task": {"symbol": task.symbol, "name": task.name}, "forbid": pt.forbid,
                "devices": sorted({pt.checks[i].device for i in runnable}),
                "checks": [{"probe": pt.checks[i].probe, "payload": pt.checks[i].payload,
                            "device": pt.checks[i].device,
                            "time_limit": pt.checks[i].spec.time_limit} for i in runnable]}
        run = run_task(plan, _limits(pt))
    result.elapsed, result.output = run.elapsed, run.output
    child_checks = [pt.checks[i] for i in runnable]
    for i, p in enumerate(pt.checks):
        if i in pt.skipped:
            result.checks.append(CheckResult(
                name=p.spec.name, device=p.device, visibility=p.spec.visibility, max_score=0.0,
                score=0.0, status="skipped", what=p.what, messages=[pt.skipped[i]]))
            continue
        pos = runnable.index(i)
        if run.setup_error is not None:
            rec, why = None, "not run: your submission could not be loaded (see the task error)"
        else:
            rec, why = run.results.get(pos), _not_run(run, child_checks, pos)
        result.checks.append(_score(p, rec, why))
    if run.setup_error:
        result.error = run.setup_error
    elif run.running == -1:
        result.error = f"{run.stop_reason} while your submission was being imported"
    if run.tamper:
        shown = ", ".join(run.tamper[:5]) + (" ..." if len(run.tamper) > 5 else "")
        _void(result, f"your code replaced or deleted parts of minitorch ({shown}); changing "
                      "the framework is not allowed, so this task scores 0")
    if run.forbidden:
        _void(result, f"your code called {', '.join(run.forbidden)}, which this task does not "
                      "allow (implement it yourself); this task scores 0")
    limit = task.output_limit_kb * 1024
    if run.output_bytes > limit:
        _void(result, f"your code printed {run.output_bytes / 1024:.0f}+ KiB, more than the "
                      f"limit of {task.output_limit_kb} KiB (remove debug prints); this task "
                      "scores 0")
    result.score = sum(c.score for c in result.checks)
    return result


def _student_name(path: str) -> str:
    base = os.path.basename(os.path.normpath(path))
    return base[:-3] if base.endswith(".py") else base


def grade(prepared: Prepared, submission: str, jobs: int = 1,
          student: str | None = None) -> SubmissionResult:
    """Grade one submission (a .py file, a package folder or a folder of .py files). Never
    raises for anything the submission does; a grader fault is recorded in the result."""
    start = time.monotonic()
    path = os.path.abspath(submission)
    out = SubmissionResult(assignment=prepared.assignment.name, submission=path,
                           student=student or _student_name(path), seed=prepared.seed)

    def one(pt: PreparedTask) -> TaskResult:
        try:
            return grade_task(pt, path)
        except Exception as exc:  # a grader bug must not lose the other tasks' results
            tr = TaskResult(name=pt.task.name, kind=pt.task.kind, symbol=pt.task.symbol,
                            max_score=pt.task.points, score=0.0)
            tr.error = ("internal grader error (not your fault; tell the instructor): "
                        + "".join(traceback.format_exception_only(type(exc), exc)).strip())
            return tr

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        out.tasks = list(pool.map(one, prepared.tasks))
    out.score = sum(t.score for t in out.tasks)
    out.max_score = sum(t.max_score for t in out.tasks)
    out.elapsed = time.monotonic() - start
    return out
