"""The whole example assignment: the reference solution and the framework's own implementations
get full marks, the template gets zero without a crash, and the wrong optimisers and schedule
lose exactly the checks they break."""

from __future__ import annotations

from pathlib import Path

import pytest

from minitorch.grading import grader
from minitorch.grading.results import SubmissionResult, TaskResult
from minitorch.grading.spec import load_assignment

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "grading" / "example.yaml"
FIX = Path(__file__).parent / "grading_fixtures"
EXAMPLES = ROOT / "examples" / "grading"


def grade(path: Path, tasks: list | None = None, forbid: bool = True) -> SubmissionResult:
    a = load_assignment(EXAMPLE)
    if not forbid:
        for t in a.tasks:
            t.forbid = []
    return grader.grade(grader.prepare(a, only=tasks), str(path), jobs=2)


def scores(t: TaskResult) -> dict:
    return {c.name: round(c.score, 9) for c in t.checks}


def messages(t: TaskResult, check: str) -> str:
    return "\n".join(next(c for c in t.checks if c.name == check).messages)


def _full(r: SubmissionResult) -> None:
    for t in r.tasks:
        assert t.score == pytest.approx(t.max_score), (t.name, t.error,
                                                       [c.messages for c in t.checks])
    assert r.score == pytest.approx(85) and r.max_score == 85


def test_reference_solution_gets_full_marks() -> None:
    r = grade(EXAMPLES / "reference_solution.py")
    _full(r)
    assert all(c.status == "passed" for t in r.tasks for c in t.checks)
    assert all(not t.error and not t.output for t in r.tasks)


def test_framework_implementations_get_full_marks() -> None:
    _full(grade(FIX / "framework_own.py", forbid=False))


def test_template_scores_zero_with_actionable_feedback() -> None:
    r = grade(EXAMPLES / "student_template.py")
    assert r.score == 0 and r.max_score == 85
    for t in r.tasks:
        assert not t.error, t.error  # it loads; every check fails on its own
        assert all("NotImplementedError" in "\n".join(c.messages) for c in t.checks), t.name


def test_adam_without_bias_correction_loses_the_trajectory_only() -> None:
    t = grade(FIX / "adam_no_bias_correction.py", ["Adam"]).tasks[0]
    unit = 15 / 11
    assert scores(t) == pytest.approx({"trajectory": 0, "param_groups": 2 * unit,
                                       "state_dict": 2 * unit, "grad_unchanged": unit,
                                       "none_grads": unit})
    assert "parameters: first differs after step 1: parameter 0: max abs error" in \
        messages(t, "trajectory")


def test_sgd_writing_weight_decay_into_the_gradient() -> None:
    t = grade(FIX / "sgd_inplace_grad.py", ["SGD"]).tasks[0]
    unit = 15 / 11
    # only the setting with weight_decay writes into .grad: 3 of the 4 settings pass
    assert scores(t) == pytest.approx({"trajectory": 5 * unit, "param_groups": 2 * unit,
                                       "state_dict": 2 * unit, "grad_unchanged": 0.75 * unit,
                                       "none_grads": unit})
    assert "step() changed parameter 0's .grad (step 1" in messages(t, "grad_unchanged")


def test_steplr_off_by_one() -> None:
    t = grade(FIX / "steplr_off_by_one.py", ["StepLR"]).tasks[0]
    assert scores(t) == pytest.approx({"lr_sequence": 0, "param_groups": 2, "state_dict": 2})
    msg = messages(t, "lr_sequence")
    assert "optimizer lr: first differs at step 2: expected 0.1, got 0.01" in msg
    assert "first differs at step 1: expected 0.1, got 0.05" in msg  # step_size=2, gamma=0.5
