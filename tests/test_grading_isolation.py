"""Isolation: a submission that raises, exits, hangs, allocates without bound, prints
megabytes, crashes, returns the wrong type, cheats or tampers with minitorch loses the points of
that task, with feedback that says why, and nothing more. Short limits keep this file fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from minitorch.grading import grader
from minitorch.grading.results import SubmissionResult, TaskResult
from minitorch.grading.spec import load_assignment

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "grading" / "example.yaml"
FIX = Path(__file__).parent / "grading_fixtures"


def grade(fixture: str, tasks: list, assignment: Path = EXAMPLE, check_time: float | None = None,
          jobs: int = 2) -> SubmissionResult:
    a = load_assignment(assignment)
    if check_time is not None:
        for t in a.tasks:
            for c in t.checks:
                c.time_limit = check_time
    prepared = grader.prepare(a, only=tasks)
    return grader.grade(prepared, str(FIX / fixture), jobs=jobs)


def task(result: SubmissionResult, name: str) -> TaskResult:
    return next(t for t in result.tasks if t.name == name)


def scores(t: TaskResult) -> dict:
    return {c.name: round(c.score, 6) for c in t.checks}


def text(t: TaskResult) -> str:
    return "\n".join([t.error] + [m for c in t.checks for m in c.messages])


@pytest.fixture(scope="module")
def hostile() -> SubmissionResult:
    return grade("hostile.py", None, FIX / "hostile.yaml")


def test_a_correct_task_keeps_full_marks_beside_hostile_ones(hostile: SubmissionResult) -> None:
    assert task(hostile, "Linear").score == 10
    assert all(c.status == "passed" for c in task(hostile, "Linear").checks)


def test_sys_exit_is_caught_per_case(hostile: SubmissionResult) -> None:
    t = task(hostile, "Exits")
    assert t.score == 0
    assert "your code called sys.exit(3)" in text(t)


def test_unbounded_allocation_hits_the_memory_limit(hostile: SubmissionResult) -> None:
    t = task(hostile, "Hog")
    assert t.score == 0
    msg = t.checks[0].messages[0]
    assert "MemoryError" in msg and "the memory limit is 600 MiB" in msg
    # the student's own frame, never a raw traceback
    assert "at hostile.py, line" in msg and "Traceback" not in msg


def test_printing_megabytes_costs_the_task(hostile: SubmissionResult) -> None:
    t = task(hostile, "Chatty")
    assert t.score == 0 and t.max_score == 5
    assert "more than the limit of 64 KiB" in t.error
    assert t.output.startswith("debug debug") and len(t.output) <= 4096


def test_a_native_crash_is_reported(hostile: SubmissionResult) -> None:
    t = task(hostile, "Crash")
    assert t.score == 0
    assert "killed by SIGSEGV" in t.checks[0].messages[0]
    assert "not run" in t.checks[1].messages[0]


def test_hard_time_limit_keeps_earlier_checks(hostile: SubmissionResult) -> None:
    t = task(hostile, "Stubborn")
    assert scores(t) == {"forward": 1.5, "outputs": 0.5, "backward": 0, "inputs_unchanged": 0,
                         "gradcheck": 0}
    assert "time limit was reached" in t.checks[2].messages[0]
    assert "not run: the task stopped while `backward` ran" in t.checks[3].messages[0]
    assert t.elapsed < 15


def test_wrong_return_types_get_clear_feedback(hostile: SubmissionResult) -> None:
    t = task(hostile, "AsList")
    assert scores(t)["forward"] == 1.5  # the values themselves are right
    assert "expected a minitorch Tensor, got list" in t.checks[1].messages[0]
    assert "forward returned list, not a Tensor" in t.checks[2].messages[0]
    wide = task(hostile, "Wide")  # float64 for float32 inputs: only `outputs` suffers
    assert scores(wide) == pytest.approx({"forward": 1.5, "outputs": 0.125, "backward": 1.5,
                                          "inputs_unchanged": 0.5, "gradcheck": 1.0})
    assert "dtype float64, expected float32" in wide.checks[1].messages[0]


def test_calling_the_reference_is_forbidden(hostile: SubmissionResult) -> None:
    t = task(hostile, "Cheat")
    assert t.score == 0
    assert "minitorch.tensor.Tensor.relu, which this task does not allow" in t.error


def test_wrong_kind_of_symbol_and_missing_symbol(hostile: SubmissionResult) -> None:
    assert "must be a class deriving from minitorch.autograd.Function" in \
        task(hostile, "NotAFunction").error
    assert "does not define `Sigmoid`" in task(hostile, "Missing").error
    assert hostile.score == pytest.approx(10 + 2 + 1.5 + 4.625)


def test_os_exit_loses_only_its_task() -> None:
    r = grade("os_exit.py", ["ReLU", "Sigmoid"])
    relu = task(r, "ReLU")
    assert relu.score == 0
    assert "exited with code 0 before finishing" in relu.checks[0].messages[0]
    assert task(r, "Sigmoid").score == 5


def test_monkey_patching_minitorch_loses_the_task() -> None:
    r = grade("monkeypatch.py", ["ReLU", "Sigmoid"])
    relu = task(r, "ReLU")
    assert relu.score == 0
    assert "minitorch.nn.functional.relu" in relu.error
    assert "minitorch.ops.elementwise.ReLU.forward" in relu.error
    assert "changing the framework is not allowed" in relu.error
    # the leaky values are compared with the untouched reference, so they fail on their own
    assert relu.checks[0].status == "failed"
    assert task(r, "Sigmoid").score == 5


def test_infinite_loop_times_out_and_stops_the_task() -> None:
    r = grade("infinite_loop.py", ["Sigmoid"], check_time=1.5)
    t = task(r, "Sigmoid")
    assert scores(t) == {"forward": 1.5, "outputs": 0.5, "backward": 0, "inputs_unchanged": 0,
                         "gradcheck": 0}
    assert "timed out: took longer than the check's limit of 1.5 s" in t.checks[2].messages[0]
    assert "not run: the task stopped when `backward` timed out" in t.checks[3].messages[0]


def test_syntax_error_and_near_miss_names() -> None:
    r = grade("syntax_error.py", ["Linear", "ReLU"])
    for t in r.tasks:
        assert t.score == 0
        assert "SyntaxError" in t.error and "line 5" in t.error
    r = grade("missing_symbol.py", ["Sigmoid"])
    assert "does not define `Sigmoid`; did you mean `Sigmoud`?" in r.tasks[0].error
