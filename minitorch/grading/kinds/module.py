"""Kind `module`: a student's nn.Module subclass, built with the task's init_args.

Parameter values are passed in by name (the student's module must register parameters with the
reference's names and shapes), so forward and gradients are compared on identical weights.
Checks: parameter registration, forward values, gradients of the input and of every
parameter, train/eval behaviour (training-mode passes that update buffers, then eval-mode
outputs), inputs unchanged, and a float64 finite-difference gradcheck of the student's module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..cases import describe_case, make_inputs, rng_for, validate_cases, validate_inputs
from ..compare import compare, describe, fmt_shape
from ..references import MODULES, resolve_dotted
from ..runtime import SubmissionError, central_differences, changed, host, run_case, tensor
from ..spec import AssignmentError, Task
from .base import Planned, case_outcome
from .function import (
    EPS,
    GRAD_TOLERANCES,
    GRADCHECK_TOL,
    TOLERANCES,
    _tol,
    eval_forward,
    eval_unchanged,
)


def student_impl(obj: Any, task: dict) -> Any:
    from ...nn import Module

    if not (isinstance(obj, type) and issubclass(obj, Module)):
        raise SubmissionError(f"`{task['symbol']}` must be a class deriving from "
                              f"minitorch.nn.Module; got {type(obj).__name__}")
    return obj


def _build(cls: Any, payload: dict, device: str, dtype: str = "float32") -> Any:
    """Construct, load the given parameter values by name, move to `device`."""
    from ...nn import Module

    m = cls(*payload["init_args"], **payload["init_kwargs"])
    if not isinstance(m, Module):
        raise SubmissionError(f"constructing the module gave {type(m).__name__}, not a Module")
    named = dict(m.named_parameters())
    for name, arr in payload["params"].items():
        if name not in named:
            raise SubmissionError(f"your module has no parameter `{name}` (it has: "
                                  f"{', '.join(named) or 'none'}); register it under that name")
        p = named[name]
        if tuple(p.shape) != tuple(arr.shape):
            raise SubmissionError(f"parameter `{name}` has shape {fmt_shape(p.shape)}, "
                                  f"expected {fmt_shape(arr.shape)}")
        p.data = np.array(arr, dtype=dtype)
    return m.to(device)


def _params(m: Any, names: list) -> list:
    named = dict(m.named_parameters())
    return [named[n] for n in names]


def probe_parameters(cls: Any, payload: dict, device: str) -> list:
    from ...nn import Parameter
    from ...tensor import Tensor

    def one(_: dict) -> dict:
        m = cls(*payload["init_args"], **payload["init_kwargs"])
        params = [[n, [int(s) for s in p.shape], bool(p.requires_grad)]
                  for n, p in m.named_parameters()]
        loose = [n for n, v in vars(m).items()
                 if isinstance(v, Tensor) and not isinstance(v, Parameter)]
        return {"params": params, "loose": loose}

    return [run_case(one, {})]


def probe_forward(cls: Any, payload: dict, device: str) -> list:
    m = _build(cls, payload, device)
    return [run_case(lambda c: describe(m(tensor(c["inputs"][0], device))), case)
            for case in payload["cases"]]


def probe_backward(cls: Any, payload: dict, device: str) -> list:
    from ...autograd import grad

    m = _build(cls, payload, device)

    def one(case: dict) -> dict:
        x = tensor(case["inputs"][0], device, requires_grad=True)
        out = m(x)
        v = tensor(case["cotangent"], device)
        gs = grad([out], [x] + _params(m, payload["param_names"]), [v], allow_unused=True)
        modified = []
        for what, before, now in (("input `x`", case["inputs"][0], x),
                                  ("the incoming gradient", case["cotangent"], v)):
            delta = changed(before, host(now))
            if delta is not None:
                modified.append([what, delta])
        return {"out": describe(out), "grads": [describe(g) for g in gs], "modified": modified}

    return [run_case(one, case) for case in payload["cases"]]


def probe_train_eval(cls: Any, payload: dict, device: str) -> list:
    m = _build(cls, payload, device)
    m.train()
    train = [run_case(lambda c: describe(m(tensor(c["inputs"][0], device))), case)
             for case in payload["cases"]]
    m.eval()
    evals = [run_case(lambda c: describe(m(tensor(c["inputs"][0], device))), case)
             for case in payload["cases"]]
    return [{"ok": t.get("ok") and e.get("ok"), "error": t.get("error") or e.get("error"),
             "result": {"train": t.get("result"), "eval": e.get("result")}}
            for t, e in zip(train, evals, strict=True)]


def probe_gradcheck(cls: Any, payload: dict, device: str) -> list:
    from ...autograd import grad, no_grad

    def one(case: dict) -> dict:
        m = _build(cls, payload, device, "float64")
        params = _params(m, payload["param_names"])
        x0 = case["inputs"][0]
        x = tensor(x0, device, requires_grad=True)
        out = m(x)
        v = case["cotangent"]
        analytic = [describe(g) for g in grad([out], [x] + params, [tensor(v, device)],
                                              allow_unused=True)]
        from ...tensor import Tensor

        def f(xa: np.ndarray) -> float:
            o = m(tensor(xa, device))
            if not isinstance(o, Tensor):
                raise SubmissionError(f"forward returned {type(o).__name__}, not a Tensor")
            return float(np.sum(v * host(o).astype(np.float64)))

        def at(target: Any) -> Any:  # f of the input, or of one parameter's values
            if target is None:
                return f

            def g(moved: np.ndarray) -> float:
                target.data = tensor(moved, device).data
                return f(x0)

            return g

        numerical = []
        with no_grad():
            for target in [None] + params:
                base = x0 if target is None else host(target)
                numerical.append(central_differences(at(target), base, EPS))
                if target is not None:
                    target.data = tensor(base, device).data
        return {"analytic": analytic, "numerical": numerical, "out_dtype": str(out.dtype)}

    return [run_case(one, case) for case in payload["cases"]]


PROBES = {"parameters": probe_parameters, "forward": probe_forward, "backward": probe_backward,
          "train_eval": probe_train_eval, "gradcheck": probe_gradcheck}


# ---- evaluation -------------------------------------------------------------------------------
def eval_parameters(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: dict, res: dict) -> list:
        want = {n: (tuple(s), rg) for n, s, rg in exp["result"]["params"]}
        have = {n: (tuple(s), rg) for n, s, rg in res["params"]}
        msgs = []
        for n, (shape, _) in want.items():
            if n not in have:
                hint = " (it is a plain Tensor: wrap it in nn.Parameter)" \
                    if n in res["loose"] else ""
                msgs.append(f"parameter `{n}` {fmt_shape(shape)} is not registered{hint}")
            elif have[n][0] != shape:
                msgs.append(f"parameter `{n}` has shape {fmt_shape(have[n][0])}, expected "
                            f"{fmt_shape(shape)}")
            elif not have[n][1]:
                msgs.append(f"parameter `{n}` does not require grad")
        extra = sorted(set(have) - set(want))
        if extra:
            msgs.append(f"unexpected parameter(s) {', '.join(f'`{n}`' for n in extra)}")
        return msgs

    return case_outcome(p, got, check)


def eval_backward(p: Planned, got: list) -> tuple:
    names = ["input `x`"] + [f"parameter `{n}`" for n in p.payload["param_names"]]

    def check(case: dict, exp: dict, res: dict) -> list:
        msgs = []
        for name, eg, g in zip(names, exp["result"]["grads"], res["grads"], strict=True):
            if eg["type"] == "None":
                continue
            if g["type"] == "None":
                msgs.append(f"gradient of {name}: none (is it used in forward, through "
                            "differentiable operations?)")
                continue
            msgs.append(compare(eg["value"], g, *_tol(p, GRAD_TOLERANCES, eg["dtype"]),
                                f"gradient of {name}"))
        return msgs

    return case_outcome(p, got, check)


def eval_train_eval(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: dict, res: dict) -> list:
        msgs = []
        for mode in ("train", "eval"):
            e = exp["result"][mode]
            msgs.append(compare(e["value"], res[mode], *_tol(p, TOLERANCES, e["dtype"]),
                                f"{mode}-mode output"))
        return msgs

    return case_outcome(p, got, check)


def eval_gradcheck(p: Planned, got: list) -> tuple:
    rtol, atol = (p.spec.rtol or GRADCHECK_TOL[0], p.spec.atol or GRADCHECK_TOL[1])
    names = ["input `x`"] + [f"parameter `{n}`" for n in p.payload["param_names"]]

    def check(case: dict, exp: Any, res: dict) -> list:
        msgs = []
        for name, num, ana in zip(names, res["numerical"], res["analytic"], strict=True):
            label = f"gradient vs finite differences of your forward, {name}"
            if ana["type"] == "None":
                if np.any(np.abs(num) > atol):
                    msgs.append(f"{label}: no gradient, but the output depends on it")
                continue
            msgs.append(compare(num, ana, rtol, atol, label))
        return msgs

    return case_outcome(p, got, check)


CHECKS = {
    "parameters": ("parameters", eval_parameters, "cases"),
    "forward": ("forward", eval_forward, "cases"),
    "backward": ("backward", eval_backward, "cases"),
    "train_eval": ("train_eval", eval_train_eval, "cases"),
    "inputs_unchanged": ("backward", eval_unchanged, "cases"),
    "gradcheck": ("gradcheck", eval_gradcheck, "gradcheck_cases"),
}
WHAT = {
    "parameters": "parameters registered with the reference's names and shapes ({params})",
    "forward": "forward values vs minitorch's {ref} with the same weights, on {n} inputs",
    "backward": "gradients of the input and of {params} vs minitorch's {ref}, on {n} inputs",
    "train_eval": "outputs in training mode, then in eval mode, vs minitorch's {ref}",
    "inputs_unchanged": "forward and backward leave the input and the incoming gradient "
                        "unchanged",
    "gradcheck": "your gradients agree with central finite differences of your forward "
                 "(float64)",
}


def forbid_default(task: Task) -> list:
    return list(MODULES.get(task.reference, {}).get("forbid", []))


def plan(task: Task, seed: int) -> list:
    where = f"task {task.name!r}"
    ref = dict(MODULES.get(task.reference, {}))
    if not ref:
        if not task.reference.startswith("minitorch."):
            raise AssignmentError(f"{where}: unknown module reference {task.reference!r} "
                                  f"(known: {', '.join(sorted(MODULES))}, or a dotted path)")
        ref = {"call": task.reference}
    if "inputs" in task.options or "cases" in task.options:
        ref.pop("gradcheck_cases", None)
    ref.update(task.options)
    for key in ("inputs", "cases"):
        if key not in ref:
            raise AssignmentError(f"{where}: give {key} for reference {task.reference!r}")
    inputs = validate_inputs(ref["inputs"], where)
    if len(inputs) != 1 or inputs[0]["dtype"] != "float":
        raise AssignmentError(f"{where}: a module task takes exactly one float input")
    cls = resolve_dotted(ref["call"], where)
    init_args = list(ref.get("init_args", []))
    init_kwargs = dict(ref.get("init_kwargs", {}))
    reference = cls(*init_args, **init_kwargs)
    rng = rng_for(seed, task.name, "parameters")
    params = {n: (rng.standard_normal(p.shape) * 0.5).astype(np.float32)
              for n, p in reference.named_parameters()}
    base = {"init_args": init_args, "init_kwargs": init_kwargs, "params": params,
            "param_names": list(params)}
    planned = []
    for spec in task.checks:
        probe, evaluate, which = CHECKS[spec.name]
        rng = rng_for(seed, task.name, spec.name)
        cases = []
        for case in validate_cases(ref.get(which, ref["cases"][:1]), inputs, where, which):
            if which == "gradcheck_cases":
                case = {**case, "dtype": "float64"}
            arrays = make_inputs(inputs, case, rng)
            cases.append({"inputs": arrays, "label": describe_case(inputs, arrays, case)})
        if spec.name == "parameters":  # one construction, no inputs
            args = ", ".join([repr(a) for a in init_args]
                             + [f"{k}={v!r}" for k, v in init_kwargs.items()])
            cases = [{"inputs": cases[0]["inputs"], "label": f"{task.symbol}({args})"}]
        payload = {**base, "cases": cases}
        if which == "gradcheck_cases":
            payload["params"] = {n: a.astype(np.float64) for n, a in params.items()}
        for c, out in zip(cases, probe_forward(cls, payload, "cpu"), strict=True):
            r = out["result"]
            c["cotangent"] = rng.standard_normal(r["shape"]).astype(r["dtype"])
        expected = None if probe == "gradcheck" else PROBES[probe](cls, payload, "cpu")
        what = WHAT[spec.name].format(ref=ref["call"].rsplit(".", 1)[-1], n=len(cases),
                                      params=", ".join(f"`{n}`" for n in params) or "none")
        planned.append(Planned(spec=spec, probe=probe, payload=payload, evaluate=evaluate,
                               expected=expected, what=what))
    return planned
