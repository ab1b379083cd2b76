"""Kinds `function` and `loss`: a student's mt.autograd.Function subclass.

Checks: forward values, output type/dtype/shape/device, backward gradients for every float
input (with a random cotangent, and exactly the input's shape: the student's backward is called
directly, so a bias gradient that was not summed over the batch is caught), inputs and the
incoming gradient not modified in place, a finite-difference gradcheck of the student's own
forward against their own backward in float64, and (loss) finite, correct values and gradients
for huge logits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..cases import describe_case, make_inputs, rng_for, validate_cases, validate_inputs
from ..compare import compare, compare_meta, describe, fmt_shape
from ..references import FUNCTIONS, LOSSES, resolve_dotted
from ..runtime import SubmissionError, central_differences, changed, host, run_case, tensor
from ..spec import AssignmentError, Task
from .base import Planned, case_outcome

TOLERANCES = {"float32": (1e-5, 1e-6), "float64": (1e-7, 1e-9)}
GRAD_TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-6, 1e-8)}
GRADCHECK_TOL = (1e-3, 1e-5)  # rtol, atol: central differences with eps 1e-6 in float64
EPS = 1e-6


# ---- the implementations under test -----------------------------------------------------------
class StudentFunction:
    """A student's Function subclass; its backward is called directly, bypassing the engine."""

    def __init__(self, obj: Any, symbol: str) -> None:
        from ...autograd import Function

        if not (isinstance(obj, type) and issubclass(obj, Function)):
            raise SubmissionError(
                f"`{symbol}` must be a class deriving from minitorch.autograd.Function "
                f"(class {symbol}(mt.autograd.Function) with static forward(ctx, ...) and "
                f"backward(ctx, grad_output)); got {type(obj).__name__}")
        for meth in ("forward", "backward"):
            if getattr(obj, meth) is getattr(Function, meth):
                raise SubmissionError(f"`{symbol}` does not define {meth}(ctx, ...)")
        self.cls = obj

    def call(self, *xs: Any) -> Any:
        return self.cls.apply(*xs)

    def grads(self, out: Any, xs: list, v: Any, diff: list) -> list:
        from ...autograd import no_grad
        from ...tensor import Tensor

        if not isinstance(out, Tensor):
            raise SubmissionError(f"forward returned {type(out).__name__}, not a Tensor, so "
                                  "no gradient can flow through it")
        ctx = out.grad_fn
        if ctx is None or getattr(ctx, "_fn", None) is not self.cls:
            raise SubmissionError("the Tensor returned by apply() is not connected to your "
                                  "Function (is its dtype floating point?)")
        with no_grad():
            raw = self.cls.backward(ctx, v)
        raw = tuple(raw) if isinstance(raw, (tuple, list)) else (raw,)
        if len(raw) != len(xs):
            raise SubmissionError(f"backward returned {len(raw)} value(s) but forward takes "
                                  f"{len(xs)} input(s): return one gradient per input (None "
                                  "for inputs that have none)")
        return [describe(g) if d else None for g, d in zip(raw, diff, strict=True)]


class ReferenceFunction:
    """The framework's function; gradients through the engine."""

    def __init__(self, fn: Any) -> None:
        from ...autograd import Function

        self.fn = fn.apply if isinstance(fn, type) and issubclass(fn, Function) else fn

    def call(self, *xs: Any) -> Any:
        return self.fn(*xs)

    def grads(self, out: Any, xs: list, v: Any, diff: list) -> list:
        from ...autograd import grad

        ins = [x for x, d in zip(xs, diff, strict=True) if d]
        gs = iter(grad([out], ins, [v], allow_unused=True))
        return [describe(next(gs)) if d else None for d in diff]


def student_impl(obj: Any, task: dict) -> StudentFunction:
    return StudentFunction(obj, task["symbol"])


# ---- probes (run on both sides) ---------------------------------------------------------------
def _inputs(case: dict, diff: list, device: str, grad: bool) -> list:
    return [tensor(a, device, requires_grad=grad and d)
            for a, d in zip(case["inputs"], diff, strict=True)]


def probe_forward(impl: Any, payload: dict, device: str) -> list:
    def one(case: dict) -> dict:
        return describe(impl.call(*_inputs(case, payload["diff"], device, False)))

    return [run_case(one, case) for case in payload["cases"]]


def probe_backward(impl: Any, payload: dict, device: str) -> list:
    def one(case: dict) -> dict:
        diff, names = payload["diff"], payload["names"]
        xs = _inputs(case, diff, device, True)
        out = impl.call(*xs)
        v = tensor(case["cotangent"], device)
        grads = impl.grads(out, xs, v, diff)
        modified = []
        for name, x, before in zip(names, xs, case["inputs"], strict=True):
            delta = changed(before, host(x))
            if delta is not None:
                modified.append([f"input `{name}`", delta])
        delta = changed(case["cotangent"], host(v))
        if delta is not None:
            modified.append(["the incoming gradient (grad_output)", delta])
        return {"out": describe(out), "grads": grads, "modified": modified}

    return [run_case(one, case) for case in payload["cases"]]


def _value(out: Any) -> np.ndarray:
    from ...tensor import Tensor

    if not isinstance(out, Tensor):
        raise SubmissionError(f"forward returned {type(out).__name__}, not a Tensor")
    return host(out).astype(np.float64)


def probe_gradcheck(impl: Any, payload: dict, device: str) -> list:
    """d<v, f(x)>/dx by central differences vs the analytic vector-Jacobian product."""
    from ...autograd import no_grad

    def one(case: dict) -> dict:
        diff, arrays = payload["diff"], case["inputs"]
        xs = _inputs(case, diff, device, True)
        out = impl.call(*xs)
        v = case["cotangent"]
        analytic = impl.grads(out, xs, tensor(v, device), diff)
        numerical = []
        with no_grad():
            for i, (a, d) in enumerate(zip(arrays, diff, strict=True)):
                def f(moved: np.ndarray, i: int = i) -> float:
                    args = [tensor(moved if j == i else b, device) for j, b in enumerate(arrays)]
                    return float(np.sum(v * _value(impl.call(*args))))

                numerical.append(central_differences(f, a, EPS) if d else None)
        return {"analytic": analytic, "numerical": numerical, "out_dtype": str(out.dtype)}

    return [run_case(one, case) for case in payload["cases"]]


PROBES = {"forward": probe_forward, "backward": probe_backward, "gradcheck": probe_gradcheck}


# ---- evaluation (grader side) -----------------------------------------------------------------
def _tol(p: Planned, table: dict, dtype: str) -> tuple:
    rtol, atol = table.get(dtype, table["float32"])
    return (p.spec.rtol if p.spec.rtol is not None else rtol,
            p.spec.atol if p.spec.atol is not None else atol)


def eval_forward(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: dict, res: dict) -> list:
        e = exp["result"]
        return [compare(e["value"], res, *_tol(p, TOLERANCES, e["dtype"]), "output")]

    return case_outcome(p, got, check)


def eval_outputs(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: dict, res: dict) -> list:
        e = exp["result"]
        return [compare_meta(e["shape"], e["dtype"], p.device, res, "output")]

    return case_outcome(p, got, check)


def _grad_msgs(p: Planned, e: dict, res: dict) -> list:
    msgs = []
    for name, eg, g in zip(p.payload["names"], e["grads"], res["grads"], strict=True):
        if eg is None:
            continue
        label = f"gradient of `{name}`"
        if g is None or g["type"] == "None":
            msgs.append(f"{label}: backward returned None; expected shape {fmt_shape(eg['shape'])}")
            continue
        msg = compare(eg["value"], g, *_tol(p, GRAD_TOLERANCES, eg["dtype"]), label)
        if msg and g.get("shape") and len(g["shape"]) > len(eg["shape"]):
            msg += " (sum the gradient over the dimensions the input was broadcast along)"
        msgs.append(msg)
    return msgs


def eval_backward(p: Planned, got: list) -> tuple:
    return case_outcome(p, got, lambda case, exp, res: _grad_msgs(p, exp["result"], res))


def eval_unchanged(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: dict, res: dict) -> list:
        return [f"{what} was modified in place (largest change {delta:.3g}); compute new "
                "tensors instead of writing into the ones you were given"
                for what, delta in res["modified"]]

    return case_outcome(p, got, check)


def eval_gradcheck(p: Planned, got: list) -> tuple:
    rtol, atol = (p.spec.rtol or GRADCHECK_TOL[0], p.spec.atol or GRADCHECK_TOL[1])

    def check(case: dict, exp: Any, res: dict) -> list:
        msgs = []
        for name, num, ana in zip(p.payload["names"], res["numerical"], res["analytic"],
                                  strict=True):
            if num is None:
                continue
            label = f"backward vs finite differences of your forward, `{name}`"
            if ana is None or ana["type"] == "None":
                msgs.append(f"{label}: backward returned None")
                continue
            msgs.append(compare(num, ana, rtol, atol, label))
        if any(msgs) and res["out_dtype"] != "float64":
            msgs.append(f"your forward returned {res['out_dtype']} for float64 inputs; finite "
                        "differences need the input's precision (keep the input dtype)")
        return msgs

    return case_outcome(p, got, check)


def eval_stability(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: dict, res: dict) -> list:
        e = exp["result"]
        out = res["out"]
        msgs = []
        val = out.get("value")
        if val is not None and np.asarray(val).shape == np.asarray(e["out"]["value"]).shape \
                and not np.all(np.isfinite(val)):
            msgs.append(f"the loss is {np.asarray(val).ravel()[0]} (expected "
                        f"{float(np.asarray(e['out']['value']).ravel()[0]):.6g}): subtract the "
                        "row maximum before exponentiating (log-sum-exp)")
        else:
            msgs.append(compare(e["out"]["value"], out, *_tol(p, TOLERANCES, e["out"]["dtype"]),
                                "loss"))
        return msgs + _grad_msgs(p, e, res)

    return case_outcome(p, got, check)


CHECKS = {  # check -> (probe, evaluator, which cases)
    "forward": ("forward", eval_forward, "cases"),
    "outputs": ("forward", eval_outputs, "cases"),
    "backward": ("backward", eval_backward, "cases"),
    "inputs_unchanged": ("backward", eval_unchanged, "cases"),
    "gradcheck": ("gradcheck", eval_gradcheck, "gradcheck_cases"),
    "stability": ("backward", eval_stability, "stability_cases"),
}


# ---- planning (grader side) -------------------------------------------------------------------
def _resolve(task: Task) -> dict:
    where = f"task {task.name!r}"
    table = LOSSES if task.kind == "loss" else FUNCTIONS
    ref = dict(table.get(task.reference, {}))
    if not ref:
        other = FUNCTIONS if task.kind == "loss" else LOSSES
        if task.reference in other:
            raise AssignmentError(f"{where}: reference {task.reference!r} is a "
                                  f"{'function' if task.kind == 'loss' else 'loss'}; use that kind")
        if not task.reference.startswith("minitorch."):
            raise AssignmentError(f"{where}: unknown {task.kind} reference {task.reference!r} "
                                  f"(known: {', '.join(sorted(table))}, or a dotted path)")
        ref = {"call": task.reference}
    if "inputs" in task.options or "cases" in task.options:  # derived lists follow the task's
        for key in ("gradcheck_cases", "stability_cases"):
            ref.pop(key, None)
    ref.update(task.options)
    for key in ("inputs", "cases"):
        if key not in ref:
            raise AssignmentError(f"{where}: reference {task.reference!r} has no default "
                                  f"{key}; give them in the task")
    ref["inputs"] = validate_inputs(ref["inputs"], where)
    for key in ("cases", "gradcheck_cases", "stability_cases"):
        if key == "stability_cases" and task.kind != "loss":
            continue
        ref[key] = validate_cases(ref.get(key, ref["cases"][:1]), ref["inputs"], where, key)
    ref["fn"] = resolve_dotted(ref["call"], where)
    return ref


def forbid_default(task: Task) -> list:
    table = LOSSES if task.kind == "loss" else FUNCTIONS
    return list(table.get(task.reference, {}).get("forbid", []))


def plan(task: Task, seed: int) -> list:
    ref = _resolve(task)
    impl = ReferenceFunction(ref["fn"])
    inputs = ref["inputs"]
    names = [s["name"] for s in inputs]
    diff = [s["dtype"] == "float" for s in inputs]
    planned = []
    for spec in task.checks:
        probe, evaluate, which = CHECKS[spec.name]
        rng = rng_for(seed, task.name, spec.name)
        cases = []
        for case in ref[which]:
            if which == "gradcheck_cases":
                case = {**case, "dtype": "float64"}
            arrays = make_inputs(inputs, case, rng)
            cases.append({"inputs": arrays, "label": describe_case(inputs, arrays, case)})
        payload = {"cases": cases, "names": names, "diff": diff}
        for c, out in zip(cases, probe_forward(impl, payload, "cpu"), strict=True):
            r = out["result"]
            c["cotangent"] = rng.standard_normal(r["shape"]).astype(r["dtype"])
        expected = None if probe == "gradcheck" else PROBES[probe](impl, payload, "cpu")
        what = WHAT[spec.name].format(ref=ref["call"].rsplit(".", 1)[-1], n=len(cases),
                                      names=", ".join(f"`{n}`" for n, d
                                                      in zip(names, diff, strict=True) if d),
                                      scale=max(float(c.get("scale", 1)) for c in ref[which]))
        planned.append(Planned(spec=spec, probe=probe, payload=payload, evaluate=evaluate,
                               expected=expected, what=what))
    return planned


WHAT = {
    "forward": "forward values vs minitorch's {ref} on {n} cases (incl. a batch of 1, large "
               "magnitudes and float64)",
    "outputs": "forward returns a Tensor with the inputs' dtype and device and the right shape",
    "backward": "gradients of {names} returned by your backward (random upstream gradient) vs "
                "minitorch's {ref}, on {n} cases",
    "inputs_unchanged": "forward and backward leave their inputs and the incoming gradient "
                        "unchanged",
    "gradcheck": "your backward agrees with central finite differences of your forward "
                 "(float64, eps 1e-6)",
    "stability": "finite, correct loss and gradients for logits of magnitude up to {scale:g}",
}
