"""Kind `init`: a student's initialiser `fn_(tensor, **kwargs)`, checked by statistics.

Students may draw their numbers in any order, so values are not compared with the reference's;
instead, for several shapes (non-square, 4-D with a receptive field) and settings: in-place
fill of the given tensor, mean and variance within six standard errors of the expected ones,
support bounds, the shape of the distribution (Kolmogorov-Smirnov on standardised samples, so a
normal where a uniform is due fails even at the right variance), orthogonality, and
reproducibility under mt.manual_seed. A wrong spread is matched against the usual fan mistakes
(receptive field left out, fans swapped, gain dropped) to say which one it looks like.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..cases import rng_for
from ..references import _INIT_FORBID, INIT_SETTINGS, INIT_SHAPES, INITS, init_checks, init_dist
from ..runtime import SubmissionError, host, run_case
from ..spec import AssignmentError, Task
from .base import Planned, case_outcome

SENTINEL = 7.25
Z = 6.0          # standard errors allowed for mean and variance
KS = 2.3         # KS critical value * sqrt(n) (alpha ~ 5e-5)


def student_impl(obj: Any, task: dict) -> Any:
    if not callable(obj) or isinstance(obj, type):
        raise SubmissionError(f"`{task['symbol']}` must be a function taking a tensor "
                              f"(def {task['symbol']}(tensor, ...)); got {type(obj).__name__}")
    return obj


def _sample(fn: Any, s: dict, device: str) -> dict:
    from ... import manual_seed
    from ...creation import full
    from ...nn import Parameter
    from ...tensor import Tensor

    t = Parameter(full(tuple(s["shape"]), SENTINEL, device=device))
    manual_seed(int(s["seed"]))
    ret = fn(t, **s["kwargs"])
    values = host(t)
    modified = not np.all(values == SENTINEL)
    if not modified and isinstance(ret, Tensor) and ret.shape == t.shape:
        values = host(ret)  # judge the numbers even when they were not written in place
    return {"same": ret is t, "modified": bool(modified), "values": values,
            "dtype": str(t.dtype), "shape": [int(d) for d in t.shape], "device": t.device,
            "graph": t.grad_fn is not None, "requires_grad": bool(t.requires_grad),
            "returned": type(ret).__name__}


def probe_sample(fn: Any, payload: dict, device: str) -> list:
    return [run_case(_sample, fn, s, device) for s in payload["cases"]]


def probe_reproducible(fn: Any, payload: dict, device: str) -> list:
    def one(s: dict) -> dict:
        return {"values": [_sample(fn, {**s, "seed": seed}, device)["values"]
                           for seed in s["seeds"]]}

    return [run_case(one, s) for s in payload["cases"]]


PROBES = {"sample": probe_sample, "reproducible": probe_reproducible}


# ---- statistics -------------------------------------------------------------------------------
def _dist(p: Planned, case: dict) -> Any:
    return init_dist(p.payload["reference"], tuple(case["shape"]), case["kwargs"])


def _diagnose(dist: Any, std: float) -> str:
    text = f"std {std:.4g}, expected {dist.std:.4g} (ratio {std / dist.std:.3f})"
    if dist.fans:
        text += f"; fan_in={dist.fans[0]}, fan_out={dist.fans[1]}"
    for what, s in dist.mistakes:
        if abs(std / s - 1) < 0.03:
            return text + f"; this matches {what}"
    return text


def _kurtosis(dist: Any, v: np.ndarray) -> float:
    if dist.family == "uniform":
        return 1.8
    if dist.family == "normal":
        return 3.0
    c = v - v.mean()
    return float(np.mean(c**4) / max(np.mean(c**2) ** 2, 1e-300))


def eval_in_place(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: Any, r: dict) -> list:
        msgs = []
        if not r["modified"]:
            msgs.append("the tensor passed in still holds its old values: fill it in place "
                        "(e.g. tensor.data[...] = values)")
        if not r["same"]:
            msgs.append(f"returned {r['returned']}, not the tensor it was given")
        if r["dtype"] != "float32" or tuple(r["shape"]) != tuple(case["shape"]):
            msgs.append(f"the tensor became {r['dtype']} {tuple(r['shape'])}; keep its dtype "
                        "and shape")
        if r["graph"] or not r["requires_grad"]:
            msgs.append("the parameter lost requires_grad or gained a graph (work on .data, "
                        "or under mt.no_grad())")
        return msgs

    return case_outcome(p, got, check)


def _values(r: dict) -> np.ndarray:
    return np.asarray(r["values"], dtype=np.float64).ravel()


def eval_mean(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: Any, r: dict) -> list:
        d, v = _dist(p, case), _values(r)
        if not np.all(np.isfinite(v)):
            return ["the values are not all finite"]
        # the standard error from the larger of the expected and the observed spread: a
        # too-wide distribution (wrong fans) must lose the variance points, not, by chance,
        # the mean's as well
        tol = Z * max(d.std, float(v.std())) / math.sqrt(v.size) + 1e-7
        if abs(v.mean() - d.mean) > tol:
            return [f"mean {v.mean():.4g}, expected {d.mean:.4g} +- {tol:.2g}"]
        return []

    return case_outcome(p, got, check)


def eval_variance(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: Any, r: dict) -> list:
        d, v = _dist(p, case), _values(r)
        if not np.all(np.isfinite(v)):
            return ["the values are not all finite"]
        var = v.var()
        tol = Z * d.std**2 * math.sqrt((_kurtosis(d, v) - 1) / v.size)
        if abs(var - d.std**2) > tol:
            return [f"variance {var:.4g}, expected {d.std**2:.4g} +- {tol:.2g}: "
                    + _diagnose(d, math.sqrt(var))]
        return []

    return case_outcome(p, got, check)


def eval_bounds(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: Any, r: dict) -> list:
        d, v = _dist(p, case), _values(r)
        span = d.high - d.low
        slack = 1e-6 * max(abs(d.low), abs(d.high))
        if v.min() < d.low - slack or v.max() > d.high + slack:
            return [f"values span [{v.min():.4g}, {v.max():.4g}], outside the bounds "
                    f"[{d.low:.4g}, {d.high:.4g}]: " + _diagnose(d, float(v.std()))]
        reach = 12 * span / v.size if d.family == "uniform" else 0.05 * span
        if v.min() > d.low + reach or v.max() < d.high - reach:
            return [f"values span [{v.min():.4g}, {v.max():.4g}] but should fill "
                    f"[{d.low:.4g}, {d.high:.4g}]: " + _diagnose(d, float(v.std()))]
        return []

    return case_outcome(p, got, check)


def _cdf(family: str, z: np.ndarray, d: Any, kw: dict) -> np.ndarray:
    if family == "uniform":  # standardised: U[-sqrt 3, sqrt 3]
        return np.clip((z + math.sqrt(3)) / (2 * math.sqrt(3)), 0, 1)
    erf = np.frompyfunc(math.erf, 1, 1)
    if family == "normal":
        return (0.5 * (1 + erf(z / math.sqrt(2)))).astype(np.float64)
    # truncated normal, unstandardised (z are raw values)
    mu, s = float(kw.get("mean", 0.0)), float(kw.get("std", 1.0))
    phi = lambda x: 0.5 * (1 + erf(np.asarray(x) / math.sqrt(2)))  # noqa: E731
    lo, hi = phi((d.low - mu) / s), phi((d.high - mu) / s)
    return np.clip(((phi((z - mu) / s) - lo) / (hi - lo)).astype(np.float64), 0, 1)


def eval_distribution(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: Any, r: dict) -> list:
        d, v = _dist(p, case), np.sort(_values(r))
        if not np.all(np.isfinite(v)) or v.std() == 0:
            return ["the values are constant or not finite"]
        if d.family == "trunc_normal":
            cdf = _cdf(d.family, v, d, case["kwargs"])
        else:
            cdf = _cdf(d.family, (v - v.mean()) / v.std(), d, case["kwargs"])
        n = v.size
        stat = float(np.max(np.maximum(np.arange(1, n + 1) / n - cdf, cdf - np.arange(n) / n)))
        crit = KS / math.sqrt(n)
        if stat > crit:
            return [f"the values do not look {d.family.replace('_', ' ')}ly distributed "
                    f"(Kolmogorov-Smirnov distance {stat:.3g} > {crit:.3g})"]
        return []

    return case_outcome(p, got, check)


def eval_orthogonality(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: Any, r: dict) -> list:
        gain = float(case["kwargs"].get("gain", 1.0))
        w = np.asarray(r["values"], dtype=np.float64)
        w = w.reshape(w.shape[0], -1)
        prod = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        err = np.abs(prod - gain**2 * np.eye(prod.shape[0]))
        if err.max() > 1e-4 * max(1.0, gain**2):
            i, j = np.unravel_index(int(np.argmax(err)), err.shape)
            side = "W W^T" if w.shape[0] <= w.shape[1] else "W^T W"
            return [f"{side} should be {gain**2:g} I; entry [{i}, {j}] is off by "
                    f"{err[i, j]:.3g}"]
        return []

    return case_outcome(p, got, check)


def eval_reproducible(p: Planned, got: list) -> tuple:
    def check(case: dict, exp: Any, r: dict) -> list:
        a, b, c = (np.asarray(x) for x in r["values"])
        msgs = []
        if not np.array_equal(a, b):
            msgs.append("two calls after mt.manual_seed(s) gave different values: draw from "
                        "minitorch's generator (mt.rand / mt.randn / nn.init.uniform_), not "
                        "numpy.random or random")
        if np.array_equal(a, c):
            msgs.append("different seeds gave identical values")
        return msgs

    return case_outcome(p, got, check)


CHECKS = {"in_place": ("sample", eval_in_place), "mean": ("sample", eval_mean),
          "variance": ("sample", eval_variance), "bounds": ("sample", eval_bounds),
          "distribution": ("sample", eval_distribution),
          "orthogonality": ("sample", eval_orthogonality),
          "reproducible": ("reproducible", eval_reproducible)}
WHAT = {
    "in_place": "fills the given tensor in place and returns it (dtype, shape, requires_grad "
                "kept)",
    "mean": "sample mean within six standard errors of {mean}",
    "variance": "sample variance within six standard errors of the expected one (fans from "
                "the shape, incl. the receptive field), for shapes {shapes}",
    "bounds": "all values inside the bounds and reaching them",
    "distribution": "the distribution's shape (Kolmogorov-Smirnov on standardised values)",
    "orthogonality": "W W^T (or W^T W) equals gain^2 I",
    "reproducible": "the same seed gives the same values, another seed different ones",
}


def forbid_default(task: Task) -> list:
    return list(_INIT_FORBID)


def applicable(reference: str) -> list:
    return init_checks(reference.rsplit(".", 1)[-1])


def plan(task: Task, seed: int) -> list:
    where = f"task {task.name!r}"
    name = task.reference.rsplit(".", 1)[-1]
    if name not in INITS:
        raise AssignmentError(f"{where}: unknown initialiser reference {task.reference!r} "
                              f"(known: {', '.join(INITS)})")
    ok = init_checks(name)
    for spec in task.checks:
        if spec.name not in ok:
            raise AssignmentError(f"{where}: check {spec.name!r} does not apply to {name} "
                                  f"(applicable: {', '.join(ok)})")
    shapes = task.options.get("shapes", INIT_SHAPES)
    settings = task.options.get("settings", INIT_SETTINGS.get(name, [{}]))
    if not isinstance(shapes, list) or not shapes or any(
            not isinstance(s, list) or len(s) < 2 or any(
                not isinstance(d, int) or d <= 0 for d in s) for s in shapes):
        raise AssignmentError(f"{where}: shapes must be a list of shapes with >= 2 dims")
    if not isinstance(settings, list) or not settings or any(
            not isinstance(s, dict) for s in settings):
        raise AssignmentError(f"{where}: settings must be a list of keyword-argument mappings")
    rng = rng_for(seed, task.name)
    samples = []
    for kw in settings:
        for shape in shapes:
            try:
                init_dist(name, tuple(shape), kw)
            except (TypeError, ValueError) as exc:
                raise AssignmentError(f"{where}: settings {kw} do not suit {name}: {exc}") from None
            label = f"shape {tuple(shape)}" + (f", {kw}" if kw else "")
            samples.append({"shape": shape, "kwargs": kw, "label": label,
                            "seed": int(rng.integers(1 << 31))})
    smallest = min(samples, key=lambda s: int(np.prod(s["shape"])))
    repro = [{**smallest, "seeds": [smallest["seed"]] * 2 + [smallest["seed"] + 1]}]
    planned = []
    for spec in task.checks:
        probe, evaluate = CHECKS[spec.name]
        cases = repro if probe == "reproducible" else samples
        d = init_dist(name, tuple(shapes[0]), settings[0])
        what = WHAT[spec.name].format(mean=f"{d.mean:g}",
                                      shapes=", ".join(str(tuple(s)) for s in shapes))
        planned.append(Planned(spec=spec, probe=probe, evaluate=evaluate, what=what,
                               payload={"cases": cases, "reference": name}))
    return planned
