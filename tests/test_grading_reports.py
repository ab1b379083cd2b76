"""Reports (text, JSON, Gradescope), batch mode with its CSV, the CLI end to end, the GPU
policy and --visible-only."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from minitorch import backend
from minitorch.grading import grader
from minitorch.grading.__main__ import main
from minitorch.grading.report import render
from minitorch.grading.results import SubmissionResult
from minitorch.grading.spec import load_assignment, parse_assignment

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "grading" / "example.yaml"
FIX = Path(__file__).parent / "grading_fixtures"
TASKS = ["Linear", "SoftmaxCrossEntropy"]


@pytest.fixture(scope="module")
def result() -> SubmissionResult:
    prepared = grader.prepare(load_assignment(EXAMPLE), only=TASKS)
    return grader.grade(prepared, str(FIX / "wrong_transpose.py"), jobs=2)


def test_text_report_has_a_table_per_task_and_a_total(result: SubmissionResult) -> None:
    out = render(result, "text")
    assert "Task 1: Linear  (function `Linear`)" in out
    assert "backward          cpu          0.60 / 3.00  partial (1/5)" in out
    assert "gradient of `weight`: expected shape (3, 5), got (5, 3)" in out
    assert "does not define `SoftmaxCrossEntropy`" in out
    assert out.rstrip().endswith("Total: 5.60 / 25.00 (22.4%)")


def test_json_report_round_trips(result: SubmissionResult) -> None:
    data = json.loads(render(result, "json"))
    assert data["format"] == "minitorch-grading" and data["score"] == pytest.approx(5.6)
    linear = data["tasks"][0]
    assert [c["name"] for c in linear["checks"]] == ["forward", "outputs", "backward",
                                                     "inputs_unchanged", "gradcheck"]
    assert linear["checks"][2]["passed"] == 1 and linear["checks"][2]["total"] == 5


def test_gradescope_results_json(result: SubmissionResult) -> None:
    data = json.loads(render(result, "gradescope"))
    assert data["score"] == pytest.approx(5.6)
    assert set(data) >= {"score", "output", "tests", "execution_time"}
    tests = {t["name"]: t for t in data["tests"]}
    assert len(tests) == 11
    for t in data["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output", "visibility", "status"}
        assert t["status"] in ("passed", "failed")
    assert tests["Linear: forward"]["status"] == "passed"
    assert tests["Linear: backward"]["score"] == pytest.approx(0.6)
    assert "1 of 5 cases passed" in tests["Linear: backward"]["output"]
    assert tests["Linear: gradcheck"]["visibility"] == "after_due_date"
    assert tests["SoftmaxCrossEntropy: stability"]["visibility"] == "hidden"
    assert sum(t["score"] for t in data["tests"]) == pytest.approx(data["score"])
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(25)


def test_visible_only_skips_hidden_checks_without_failing_them() -> None:
    prepared = grader.prepare(load_assignment(EXAMPLE), visible_only=True, only=["Linear"])
    r = grader.grade(prepared, str(FIX / "hostile.py"))
    gc = r.tasks[0].checks[-1]
    assert gc.name == "gradcheck" and gc.status == "skipped" and gc.max_score == 0
    assert r.score == r.max_score == 8
    data = json.loads(render(r, "gradescope"))
    assert "status" not in data["tests"][-1] and "--visible-only" in data["tests"][-1]["output"]


def test_gpu_checks_are_skipped_not_failed_on_a_cpu_grader() -> None:
    a = parse_assignment({"tasks": [
        {"name": "ReLU", "kind": "function", "symbol": "_Relu", "reference": "relu",
         "points": 4, "checks": {"forward": 2, "backward": {"points": 2, "devices": ["cuda"]}}}]},
        "gpu.yaml")
    r = grader.grade(grader.prepare(a), str(FIX / "hostile.py"))
    fwd, bwd = r.tasks[0].checks
    assert (fwd.status, fwd.score) == ("passed", 2)
    assert bwd.status == "skipped" and "this grader runs on the CPU" in bwd.messages[0]
    assert r.max_score == 2
    both = grader.prepare(a, devices=("cpu", "cuda"))
    devices = [(c.device, c.points) for c in both.tasks[0].checks]
    if backend.is_cuda_available():
        assert devices == [("cpu", 1.0), ("cuda:0", 1.0), ("cuda:0", 2.0)]
    else:  # the CPU instance keeps the whole check; GPU instances are skipped
        assert devices == [("cpu", 2.0), ("cuda:0", 0.0), ("cuda:0", 0.0)]
        assert all(i in both.tasks[0].skipped for i in (1, 2))


@pytest.mark.gpu
def test_checks_also_run_on_the_gpu() -> None:
    prepared = grader.prepare(load_assignment(EXAMPLE), devices=("cpu", "cuda"),
                              only=["Linear"])
    r = grader.grade(prepared, str(FIX / "hostile.py"))
    assert {c.device for c in r.tasks[0].checks} == {"cpu", "cuda:0"}
    assert r.score == r.max_score == 10


def test_batch_mode_writes_gradescope_json_per_student_and_a_csv(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(FIX / "hostile.py", subs / "alice.py")
    shutil.copy(FIX / "wrong_transpose.py", subs / "bob.py")
    shutil.copy(FIX / "syntax_error.py", subs / "carol.py")
    (subs / "dave").mkdir()  # a package
    shutil.copy(FIX / "hostile.py", subs / "dave" / "__init__.py")
    (subs / "erin").mkdir()  # a plain folder of modules
    shutil.copy(FIX / "hostile.py", subs / "erin" / "layers.py")
    (subs / "notes.txt").write_text("not a submission")
    out = tmp_path / "out"
    rc = main(["--assignment", str(EXAMPLE), "--submission", str(subs), "--task", "Linear",
               "--jobs", "2", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "graded 5 submission(s)" in printed and "bob: 5.60 / 10.00" in printed
    with (out / "scores.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "dave", "erin"]
    assert [float(r["score"]) for r in rows] == pytest.approx([10, 5.6, 0, 10, 10])
    assert [float(r["Linear"]) for r in rows] == pytest.approx([10, 5.6, 0, 10, 10])
    for name in ("alice", "bob", "carol", "dave", "erin"):
        data = json.loads((out / name / "results.json").read_text())
        assert {"score", "tests"} <= set(data)
    assert not list(out.rglob("*.tmp"))


def test_cli_end_to_end(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "minitorch.grading", "--assignment", str(EXAMPLE),
         "--submission", str(FIX / "wrong_transpose.py"), "--task", "Linear",
         "--format", "gradescope", "--out", str(report), "--seed", "3"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "wrong_transpose: 5.60 / 10.00" in proc.stdout
    assert json.loads(report.read_text())["score"] == pytest.approx(5.6)


@pytest.mark.gpu
def test_a_result_on_the_wrong_device_is_named(tmp_path: Path) -> None:
    sub = tmp_path / "gpu_relu.py"
    sub.write_text(
        "from minitorch.autograd import Function\n"
        "class ReLU(Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        "        return x.clamp(min=0.0).to('cuda')  # always on the GPU\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        return g\n")
    a = load_assignment(EXAMPLE)
    prepared = grader.prepare(a, only=["ReLU"])
    t = grader.grade(prepared, str(sub)).tasks[0]
    fwd, outputs = t.checks[0], t.checks[1]
    assert fwd.status == "passed"  # the values are right
    assert "it is on cuda:0 but the inputs were on cpu" in outputs.messages[0]
