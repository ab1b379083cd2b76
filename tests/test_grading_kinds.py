"""Kinds function, loss, module and init: the framework's own implementations get full marks
(which also calibrates the statistical init checks), deliberately wrong ones lose exactly the
checks they break, with feedback naming the problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from minitorch.grading import grader
from minitorch.grading.references import INITS
from minitorch.grading.results import SubmissionResult, TaskResult
from minitorch.grading.spec import load_assignment, parse_assignment

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "grading" / "example.yaml"
FIX = Path(__file__).parent / "grading_fixtures"


def grade_example(fixture: Path, tasks: list) -> TaskResult:
    prepared = grader.prepare(load_assignment(EXAMPLE), only=tasks)
    return grader.grade(prepared, str(fixture), jobs=2).tasks[0]


def scores(t: TaskResult) -> dict:
    return {c.name: round(c.score, 6) for c in t.checks}


def messages(t: TaskResult, check: str) -> str:
    return "\n".join(next(c for c in t.checks if c.name == check).messages)


def test_wrong_transpose_loses_backward_and_gradcheck() -> None:
    t = grade_example(FIX / "wrong_transpose.py", ["Linear"])
    # the 1 x 1 weight case is the only one a transposed gradient gets right
    assert scores(t) == pytest.approx({"forward": 3, "outputs": 1, "backward": 0.6,
                                       "inputs_unchanged": 1, "gradcheck": 0})
    assert "gradient of `weight`: expected shape (3, 5), got (5, 3)" in messages(t, "backward")
    assert "finite differences of your forward, `weight`: expected shape (2, 4), got (4, 2)" \
        in messages(t, "gradcheck")


def test_unstable_softmax_loses_only_stability() -> None:
    t = grade_example(FIX / "unstable_softmax.py", ["SoftmaxCrossEntropy"])
    assert scores(t) == pytest.approx({"forward": 4, "outputs": 1, "backward": 4,
                                       "inputs_unchanged": 1, "gradcheck": 2, "stability": 0})
    msg = messages(t, "stability")
    assert "the loss is nan" in msg and "subtract the row maximum" in msg


def test_backward_writing_into_its_incoming_gradient_loses_inputs_unchanged() -> None:
    t = grade_example(FIX / "relu_inplace_grad.py", ["ReLU"])
    # the write zeroes grad_output where x <= 0: a case whose inputs are all positive cannot
    # notice it, every other case must
    prepared = grader.prepare(load_assignment(EXAMPLE), only=["ReLU"])
    plan = next(p for p in prepared.tasks[0].checks if p.spec.name == "inputs_unchanged")
    cases = plan.payload["cases"]
    clean = sum(bool((c["inputs"][0] > 0).all()) for c in cases)
    assert scores(t) == pytest.approx({"forward": 1.5, "outputs": 0.5, "backward": 1.5,
                                       "inputs_unchanged": 0.5 * clean / len(cases),
                                       "gradcheck": 1.0})
    assert clean < len(cases)
    assert "the incoming gradient (grad_output) was modified in place" in \
        messages(t, "inputs_unchanged")


def test_xavier_with_wrong_fans_and_numpy_rng() -> None:
    t = grade_example(FIX / "xavier_wrong_fan.py", ["xavier_uniform_"])
    # 2 of the 6 (shape, gain) samples are 4-D, where leaving out the receptive field matters
    assert scores(t) == pytest.approx({"in_place": 1, "mean": 1, "variance": 2, "bounds": 4 / 3,
                                       "distribution": 2, "reproducible": 0})
    assert "this matches the receptive field (the trailing dimensions) left out of the fans" \
        in messages(t, "variance")
    assert "not numpy.random" in messages(t, "reproducible")


def _own(tasks: list, name: str = "own.yaml") -> SubmissionResult:
    a = parse_assignment({"seed": 11, "tasks": tasks}, name)
    for t in a.tasks:
        t.forbid = []  # the reference itself is handed in
    return grader.grade(grader.prepare(a), str(FIX / "framework_own.py"), jobs=2)


def test_framework_initialisers_get_full_marks() -> None:
    r = _own([{"name": n, "kind": "init", "symbol": n, "reference": n, "points": 6}
              for n in INITS])
    for t in r.tasks:
        assert t.score == pytest.approx(6), (t.name, [c.messages for c in t.checks])


def test_a_normal_handed_in_for_a_uniform_fails_shape_and_bounds() -> None:
    r = _own([{"name": "x", "kind": "init", "symbol": "xavier_normal_",
               "reference": "xavier_uniform_", "points": 10}])
    t = r.tasks[0]
    assert {k: v > 0 for k, v in scores(t).items()} == {
        "in_place": True, "mean": True, "variance": True, "bounds": False,
        "distribution": False, "reproducible": True}
    assert "do not look uniformly distributed" in messages(t, "distribution")


def test_framework_modules_get_full_marks() -> None:
    r = _own([{"name": n, "kind": "module", "symbol": f"nn_{n}", "reference": n, "points": 10}
              for n in ("Linear", "BatchNorm1d", "LayerNorm")])
    for t in r.tasks:
        assert t.score == pytest.approx(10), (t.name, [c.messages for c in t.checks])


BROKEN_MODULES = '''
import minitorch as mt
from minitorch import nn


class PlainLinear(nn.Module):
    """weight is a plain Tensor: not registered, so it cannot be loaded or trained"""
    def __init__(self, i, o):
        super().__init__()
        self.weight = mt.randn(o, i)
        self.bias = nn.Parameter(mt.zeros(o))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class BiasedBatchNorm(nn.Module):
    """running_var from the biased batch variance: training right, eval wrong"""
    def __init__(self, n, eps=1e-5, momentum=0.1):
        super().__init__()
        self.weight, self.bias = nn.Parameter(mt.ones(n)), nn.Parameter(mt.zeros(n))
        self.register_buffer("running_mean", mt.zeros(n))
        self.register_buffer("running_var", mt.ones(n))
        self.eps, self.momentum = eps, momentum

    def forward(self, x):
        if self.training:
            m = x.mean(dim=0)
            v = ((x - m) ** 2).mean(dim=0)
            with mt.no_grad():
                self.running_mean.data = (0.9 * self.running_mean + 0.1 * m).data
                self.running_var.data = (0.9 * self.running_var + 0.1 * v).data
        else:
            m, v = self.running_mean, self.running_var
        return (x - m) / (v + self.eps).sqrt() * self.weight + self.bias
'''


def test_broken_modules(tmp_path: Path) -> None:
    sub = tmp_path / "modules.py"
    sub.write_text(textwrap.dedent(BROKEN_MODULES))
    a = parse_assignment({"tasks": [
        {"name": "lin", "kind": "module", "symbol": "PlainLinear", "reference": "Linear",
         "points": 10},
        {"name": "bn", "kind": "module", "symbol": "BiasedBatchNorm", "reference": "BatchNorm1d",
         "points": 10}]}, "m.yaml")
    lin, bn = grader.grade(grader.prepare(a), str(sub), jobs=2).tasks
    assert lin.score == 0
    assert "parameter `weight` (3, 5) is not registered (it is a plain Tensor: wrap it in " \
        "nn.Parameter)" in messages(lin, "parameters")
    assert "your module has no parameter `weight`" in messages(lin, "forward")
    assert scores(bn) == pytest.approx({"parameters": 1, "forward": 3, "backward": 3,
                                        "train_eval": 0, "inputs_unchanged": 1, "gradcheck": 1})
    assert "eval-mode output: max abs error" in messages(bn, "train_eval")
