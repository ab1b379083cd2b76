"""Assignment files: validation messages, point splitting, seeded inputs, CLI errors, and the
rule that the student's process receives inputs only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from minitorch.grading import grader, sandbox
from minitorch.grading.__main__ import main
from minitorch.grading.spec import AssignmentError, load_assignment, parse_assignment

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "grading" / "example.yaml"
FIX = Path(__file__).parent / "grading_fixtures"


def _task(**kw: object) -> dict:
    base = {"name": "ReLU", "kind": "function", "symbol": "ReLU", "reference": "relu",
            "points": 5}
    return {**base, **kw}


def _parse(*tasks: dict, **top: object) -> object:
    return parse_assignment({"name": "t", "tasks": list(tasks), **top}, "a.yaml")


def test_example_assignment_loads_with_points_split() -> None:
    a = load_assignment(EXAMPLE)
    assert [t.name for t in a.tasks] == ["Linear", "ReLU", "Sigmoid", "SoftmaxCrossEntropy",
                                         "SGD", "Adam", "StepLR", "xavier_uniform_"]
    assert a.max_score == 85
    for t in a.tasks:
        assert sum(c.points for c in t.checks) == pytest.approx(t.points)
    linear = a.tasks[0]
    assert {c.name: c.visibility for c in linear.checks}["gradcheck"] == "after_due_date"
    # ReLU names no checks: the kind's defaults, weighted 3:1:3:1:2 over 5 points
    assert {c.name: c.points for c in a.tasks[1].checks} == pytest.approx(
        {"forward": 1.5, "outputs": 0.5, "backward": 1.5, "inputs_unchanged": 0.5,
         "gradcheck": 1.0})
    xavier = a.tasks[-1]
    assert "orthogonality" not in [c.name for c in xavier.checks]


def test_explicit_points_are_kept_and_the_rest_is_shared() -> None:
    a = _parse(_task(points=10, checks={"forward": 4, "backward": None, "gradcheck": None}))
    pts = {c.name: c.points for c in a.tasks[0].checks}
    assert pts == pytest.approx({"forward": 4, "backward": 6 * 3 / 5, "gradcheck": 6 * 2 / 5})


@pytest.mark.parametrize("tasks, top, message", [
    ([_task(kind="optimiser")], {}, "unknown kind 'optimiser'"),
    ([{"name": "x", "kind": "function", "points": 1}], {}, "missing required key 'symbol'"),
    ([_task(poitns=3)], {}, "unknown key(s) 'poitns'"),
    ([_task(visibility="secret")], {}, "visibility must be one of"),
    ([_task(checks={"forwrd": 1})], {}, "unknown check for kind 'function'"),
    ([_task(checks={"forward": 2, "backward": 2})], {}, "add up to 4 but the task is worth 5"),
    ([_task(checks={"forward": 6, "backward": None})], {}, "exceed the task's 5"),
    ([_task(), _task()], {}, "duplicate task name 'ReLU'"),
    ([_task(points=0)], {}, "points must be positive"),
    ([_task(symbol="not valid")], {}, "symbol must be a Python identifier"),
    ([_task(checks={"forward": {"points": 5, "devices": ["tpu"]}})], {}, "devices must be"),
    ([_task()], {"seed": -1}, "seed must be a non-negative integer"),
    ([], {}, "'tasks' must be a non-empty list"),
])
def test_bad_assignments_get_one_clear_line(tasks: list, top: dict, message: str) -> None:
    with pytest.raises(AssignmentError) as info:
        _parse(*tasks, **top)
    assert message in str(info.value)
    assert "\n" not in str(info.value) and str(info.value).startswith("a.yaml")


@pytest.mark.parametrize("task, message", [
    (_task(reference="rleu"), "unknown function reference 'rleu'"),
    (_task(reference="cross_entropy"), "is a loss; use that kind"),
    (_task(cases=[{"N": 2}]), "no size for dimension(s) D"),
    (_task(cases=[{"N": 2, "D": 3, "K": 1}]), "'K' is not a dimension"),
    (_task(forbid=["minitorch.nn.functional.rleu"]), "forbid entry"),
    (_task(kind="init", symbol="xavier_uniform_", reference="xavier_uniform_",
           checks=["orthogonality"]), "does not apply to xavier_uniform_"),
    (_task(reference="linear", inputs=[{"name": "x", "shape": ["N", 3]},
                                       {"name": "w", "shape": [2, 4]},
                                       {"name": "b", "shape": [2]}], cases=[{"N": 2}]),
     "the reference 'linear' failed on the configured inputs"),
])
def test_assignment_errors_found_while_planning(task: dict, message: str) -> None:
    with pytest.raises(AssignmentError) as info:
        grader.prepare(_parse(task))
    assert message in str(info.value)


def test_load_assignment_file_errors(tmp_path: Path) -> None:
    with pytest.raises(AssignmentError, match="assignment file not found"):
        load_assignment(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks: [\n  - {name: x\n")
    with pytest.raises(AssignmentError, match=r"not valid YAML \(line"):
        load_assignment(bad)


def test_inputs_depend_on_seed_only() -> None:
    a = load_assignment(EXAMPLE)
    x1 = grader.prepare(a, only=["Linear"]).tasks[0].checks[0].payload["cases"][0]["inputs"][0]
    x2 = grader.prepare(a, only=["Linear"]).tasks[0].checks[0].payload["cases"][0]["inputs"][0]
    x3 = grader.prepare(a, seed=5, only=["Linear"]).tasks[0].checks[0].payload["cases"][0][
        "inputs"][0]
    assert np.array_equal(x1, x2) and not np.array_equal(x1, x3)


def _arrays(obj: object) -> list:
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, dict):
        return [a for v in obj.values() for a in _arrays(v)]
    if isinstance(obj, (list, tuple)):
        return [a for v in obj for a in _arrays(v)]
    return []


def test_student_process_receives_inputs_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No reference output (value or gradient) is ever written for the student's process."""
    saved = []
    real_save = sandbox.save

    def spy(obj: object, path: str) -> None:
        saved.append(obj)
        real_save(obj, path)

    monkeypatch.setattr(sandbox, "save", spy)
    prepared = grader.prepare(load_assignment(EXAMPLE), only=["Linear"])
    result = grader.grade(prepared, str(FIX / "hostile.py"))
    assert result.score == result.max_score == 10
    sent = _arrays(saved)
    secret = [a for p in prepared.tasks[0].checks for a in _arrays(p.expected)
              if a.size > 1]
    assert sent and secret
    for s in secret:
        assert not any(x.shape == s.shape and np.array_equal(x, s) for x in sent)


@pytest.mark.parametrize("args, message", [
    (["--assignment", "nope.yaml", "--submission", str(FIX / "os_exit.py")],
     "assignment file not found"),
    (["--assignment", str(EXAMPLE), "--submission", "missing.py"], "submission not found"),
    (["--assignment", str(EXAMPLE), "--submission", str(FIX / "hostile.yaml")],
     "is not a .py file"),
    (["--assignment", str(EXAMPLE), "--submission", str(FIX / "os_exit.py"), "--task", "Nope"],
     "no task named Nope"),
    (["--assignment", str(EXAMPLE), "--submission", str(FIX / "os_exit.py"), "--jobs", "0"],
     "--jobs must be at least 1"),
])
def test_cli_refuses_to_run_with_exit_2(args: list, message: str,
                                        capsys: pytest.CaptureFixture) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_cli_bad_yaml_value(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump({"tasks": [_task(kind="layer")]}))
    assert main(["--assignment", str(path), "--submission", str(FIX / "os_exit.py")]) == 2
    assert "unknown kind 'layer'" in capsys.readouterr().err


def test_compare_says_what_differs_and_where() -> None:
    from minitorch.grading.compare import compare, compare_meta, describe

    exp = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    assert compare(exp, describe(exp.copy()), 1e-5, 1e-6, "out") is None
    got = exp.copy()
    got[1, 0] = 3.5
    msg = compare(exp, describe(got), 1e-5, 1e-6, "out")
    assert "max abs error 0.5 at [1, 0] (expected 3, got 3.5)" in msg
    assert "max rel error 0.167 at [1, 0]" in msg and "1 of 4 values" in msg
    assert "expected shape (2, 2), got (4,)" in compare(exp, describe(got.ravel()), 0, 0, "out")
    got[0, 1] = np.nan
    assert "got nan at [0, 1] (expected 2)" in compare(exp, describe(got), 1e-5, 1e-6, "out")
    assert "expected a Tensor of shape (2, 2), got None" in compare(exp, describe(None), 0, 0,
                                                                   "out")
    # a CuPy array (or a tensor on the GPU) where the grader ran on the CPU
    on_gpu = {"type": "cupy.ndarray", "device": "cuda:0", "dtype": "float32", "shape": [2, 2]}
    msg = compare_meta((2, 2), "float32", "cpu", on_gpu, "output")
    assert "expected a minitorch Tensor, got cupy.ndarray" in msg
    assert "it is on cuda:0 but the inputs were on cpu" in msg
