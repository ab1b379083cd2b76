"""The framework's own implementations that student work is graded against, by name.

An assignment task names its reference (`reference: linear`); this registry maps the name to
the callable and to defaults (input shapes, edge cases, hyper-parameter settings, the names a
student may not call). A task may override every default; a dotted path into minitorch
(`minitorch.nn.functional.gelu`) works too when the task gives its own inputs and cases.
References run only in the grading process, never in a student's process.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .spec import AssignmentError

F_ = "minitorch.nn.functional."
T_ = "minitorch.tensor.Tensor."
O_ = "minitorch.ops."


def _x(dims: str = "N,D", **kw: Any) -> dict:
    return {"name": "x", "shape": dims.split(","), **kw}


def _unary(fn: str, op: str, method: str, extra: tuple = (), away: float = 0.0) -> dict:
    x = _x(away_from_zero=away) if away else _x()
    return {
        "call": fn, "inputs": [x],
        "cases": [{"N": 4, "D": 6}, {"N": 1, "D": 1}, {"N": 3, "D": 7, "scale": 30.0},
                  {"N": 5, "D": 4, "dtype": "float64"}],
        "gradcheck_cases": [{"N": 3, "D": 4}],
        "forbid": [F_ + fn.rsplit(".", 1)[1], O_ + op + ".apply", T_ + method, *extra],
    }


_CE_FORBID = [F_ + "cross_entropy", F_ + "nll_loss", F_ + "log_softmax", F_ + "softmax",
              O_ + "SoftmaxCrossEntropy.apply", O_ + "LogSoftmax.apply", O_ + "Softmax.apply",
              O_ + "LogSumExp.apply", T_ + "log_softmax", T_ + "softmax", T_ + "logsumexp",
              "minitorch.nn.losses.CrossEntropyLoss.forward"]

FUNCTIONS: dict[str, dict] = {
    "linear": {
        "call": F_ + "linear",
        "inputs": [{"name": "x", "shape": ["N", "IN"]}, {"name": "weight", "shape": ["OUT", "IN"]},
                   {"name": "bias", "shape": ["OUT"]}],
        "cases": [{"N": 4, "IN": 5, "OUT": 3}, {"N": 1, "IN": 3, "OUT": 2},
                  {"N": 6, "IN": 1, "OUT": 1}, {"N": 8, "IN": 6, "OUT": 4, "scale": 100.0},
                  {"N": 3, "IN": 4, "OUT": 2, "dtype": "float64"}],
        "gradcheck_cases": [{"N": 3, "IN": 4, "OUT": 2}],
        "forbid": [F_ + "linear", O_ + "Linear.apply", "minitorch.nn.layers.Linear.forward"],
    },
    "relu": _unary(F_ + "relu", "ReLU", "relu", away=1e-3),
    "sigmoid": _unary(F_ + "sigmoid", "Sigmoid", "sigmoid"),
    "tanh": _unary(F_ + "tanh", "Tanh", "tanh"),
    "softmax": {**_unary(F_ + "softmax", "Softmax", "softmax"),
                "forbid": [F_ + "softmax", O_ + "Softmax.apply", T_ + "softmax"]},
    "log_softmax": {**_unary(F_ + "log_softmax", "LogSoftmax", "log_softmax"),
                    "forbid": [F_ + "log_softmax", O_ + "LogSoftmax.apply", T_ + "log_softmax",
                               O_ + "LogSumExp.apply", T_ + "logsumexp"]},
}

LOSSES: dict[str, dict] = {
    "cross_entropy": {
        "call": F_ + "cross_entropy",
        "inputs": [{"name": "logits", "shape": ["N", "C"]},
                   {"name": "target", "shape": ["N"], "dtype": "int", "low": 0, "high": "C"}],
        "cases": [{"N": 5, "C": 4}, {"N": 1, "C": 3}, {"N": 7, "C": 2, "scale": 10.0},
                  {"N": 4, "C": 6, "dtype": "float64"}],
        "gradcheck_cases": [{"N": 3, "C": 4}],
        "stability_cases": [{"N": 4, "C": 5, "scale": 1e4}, {"N": 1, "C": 3, "scale": 3e4}],
        "forbid": _CE_FORBID,
    },
    "mse_loss": {
        "call": F_ + "mse_loss",
        "inputs": [{"name": "input", "shape": ["N", "D"]}, {"name": "target", "shape": ["N", "D"]}],
        "cases": [{"N": 4, "D": 3}, {"N": 1, "D": 1}, {"N": 5, "D": 2, "scale": 100.0}],
        "gradcheck_cases": [{"N": 3, "D": 2}],
        "stability_cases": [{"N": 3, "D": 4, "scale": 1e3}],
        "forbid": [F_ + "mse_loss", "minitorch.nn.losses.MSELoss.forward"],
    },
    "binary_cross_entropy_with_logits": {
        "call": F_ + "binary_cross_entropy_with_logits",
        "inputs": [{"name": "logits", "shape": ["N"]},
                   {"name": "target", "shape": ["N"], "dtype": "prob"}],
        "cases": [{"N": 6}, {"N": 1}, {"N": 5, "scale": 10.0}],
        "gradcheck_cases": [{"N": 4}],
        "stability_cases": [{"N": 6, "scale": 1e4}],
        "forbid": [F_ + "binary_cross_entropy_with_logits", O_ + "Softplus.apply",
                   "minitorch.nn.losses.BCEWithLogitsLoss.forward"],
    },
}
LOSSES["softmax_cross_entropy"] = LOSSES["cross_entropy"]

MODULES: dict[str, dict] = {
    "Linear": {
        "call": "minitorch.nn.Linear", "init_args": [5, 3],
        "inputs": [{"name": "x", "shape": ["N", 5]}],
        "cases": [{"N": 4}, {"N": 1}, {"N": 6, "scale": 100.0}],
        "gradcheck_cases": [{"N": 2}],
        "forbid": [F_ + "linear", O_ + "Linear.apply", "minitorch.nn.layers.Linear.forward"],
    },
    "BatchNorm1d": {
        "call": "minitorch.nn.BatchNorm1d", "init_args": [4],
        "inputs": [{"name": "x", "shape": ["N", 4]}],
        "cases": [{"N": 6}, {"N": 2}, {"N": 8, "scale": 100.0}],
        "gradcheck_cases": [{"N": 3}],
        "forbid": [F_ + "batch_norm", "minitorch.nn.layers.BatchNorm1d.forward"],
    },
    "LayerNorm": {
        "call": "minitorch.nn.LayerNorm", "init_args": [4],
        "inputs": [{"name": "x", "shape": ["N", 4]}],
        "cases": [{"N": 5}, {"N": 1}, {"N": 3, "scale": 100.0}],
        "gradcheck_cases": [{"N": 2}],
        "forbid": [F_ + "layer_norm", "minitorch.nn.layers.LayerNorm.forward"],
    },
}

OPTIMIZERS: dict[str, dict] = {
    "SGD": {"settings": [{"lr": 0.1}, {"lr": 0.05, "momentum": 0.9},
                         {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
                         {"lr": 0.1, "momentum": 0.5, "dampening": 0.3}],
            "groups": [{"lr": 0.1}, {"lr": 0.01}]},
    "Adam": {"settings": [{"lr": 0.01}, {"lr": 0.1, "betas": [0.8, 0.95], "eps": 0.1},
                          {"lr": 0.05, "weight_decay": 0.1}],
             "groups": [{"lr": 0.01}, {"lr": 0.001}]},
}
DEFAULT_OPTIMIZER = {"settings": [{"lr": 0.01}], "groups": [{"lr": 0.01}, {"lr": 0.001}]}

SCHEDULERS: dict[str, dict] = {
    "StepLR": {"settings": [{"step_size": 3}, {"step_size": 2, "gamma": 0.5},
                            {"step_size": 1, "gamma": 0.9}]},
}
DEFAULT_SCHEDULER: dict = {"settings": []}

I_ = "minitorch.nn.init."
_INIT_FORBID = [I_ + n for n in ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_",
                                 "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                                 "lecun_uniform_", "lecun_normal_", "orthogonal_")]


@dataclass
class Dist:
    """What an initialiser's output should look like."""

    family: str                      # uniform | normal | trunc_normal | orthogonal
    mean: float = 0.0
    std: float = 1.0
    low: float = -math.inf           # support, for uniform and trunc_normal
    high: float = math.inf
    gain: float = 1.0                # orthogonal
    fans: tuple = ()                 # (fan_in, fan_out) the scale was computed from
    # (description, std) of common mistakes, to say which one a wrong spread matches
    mistakes: list = field(default_factory=list)


def _fans(shape: tuple) -> tuple:
    import numpy as np

    from ..nn.init import calculate_fan_in_and_fan_out
    from ..tensor import Tensor

    return calculate_fan_in_and_fan_out(Tensor._wrap(np.empty(shape, dtype=np.float32)))


def _fan_mistakes(shape: tuple, std_of: Callable) -> list:
    """Spreads the usual fan mistakes would give, as (description, std)."""
    fi, fo = _fans(shape)
    out = [("fan_in and fan_out swapped", std_of(fo, fi))]
    if len(shape) > 2:
        out.append(("the receptive field (the trailing dimensions) left out of the fans",
                    std_of(shape[1], shape[0])))
    out.append(("fan_in used for both fans", std_of(fi, fi)))
    out.append(("fan_out used for both fans", std_of(fo, fo)))
    return [(d, s) for d, s in out if not math.isclose(s, std_of(fi, fo), rel_tol=1e-3)]


def _uniform_dist(bound_of: Callable, shape: tuple, gain_note: float | None) -> Dist:
    fi, fo = _fans(shape)
    a = bound_of(fi, fo)
    mistakes = _fan_mistakes(shape, lambda i, o: bound_of(i, o) / math.sqrt(3))
    if gain_note is not None and gain_note != 1.0:
        mistakes.append(("the gain left out", a / gain_note / math.sqrt(3)))
    return Dist("uniform", 0.0, a / math.sqrt(3), -a, a, fans=(fi, fo), mistakes=mistakes)


def _normal_dist(std_of: Callable, shape: tuple, gain_note: float | None) -> Dist:
    fi, fo = _fans(shape)
    mistakes = _fan_mistakes(shape, std_of)
    s = std_of(fi, fo)
    if gain_note is not None and gain_note != 1.0:
        mistakes.append(("the gain left out", s / gain_note))
    return Dist("normal", 0.0, s, fans=(fi, fo), mistakes=mistakes)


def _kaiming(kw: dict) -> tuple:
    from ..nn.init import calculate_gain

    gain = calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0.0))
    mode = kw.get("mode", "fan_in")
    return gain, (lambda i, o: i) if mode == "fan_in" else (lambda i, o: o)


def _trunc(kw: dict) -> Dist:
    """N(mean, std^2) restricted to [a, b]: the moments of the truncated normal."""
    mu, s = float(kw.get("mean", 0.0)), float(kw.get("std", 1.0))
    a, b = float(kw.get("a", -2.0)), float(kw.get("b", 2.0))
    al, be = (a - mu) / s, (b - mu) / s
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    zed = cdf(be) - cdf(al)
    m = mu + s * (pdf(al) - pdf(be)) / zed
    var = s * s * (1 + (al * pdf(al) - be * pdf(be)) / zed - ((pdf(al) - pdf(be)) / zed) ** 2)
    return Dist("trunc_normal", m, math.sqrt(var), a, b)


def init_dist(name: str, shape: tuple, kw: dict) -> Dist:
    """The distribution `name`(tensor of `shape`, **kw) must produce."""
    gain = float(kw.get("gain", 1.0))
    if name == "uniform_":
        lo, hi = float(kw.get("a", 0.0)), float(kw.get("b", 1.0))
        return Dist("uniform", (lo + hi) / 2, (hi - lo) / math.sqrt(12), lo, hi)
    if name == "normal_":
        return Dist("normal", float(kw.get("mean", 0.0)), float(kw.get("std", 1.0)))
    if name == "trunc_normal_":
        return _trunc(kw)
    if name == "xavier_uniform_":
        return _uniform_dist(lambda i, o: gain * math.sqrt(6.0 / (i + o)), shape, gain)
    if name == "xavier_normal_":
        return _normal_dist(lambda i, o: gain * math.sqrt(2.0 / (i + o)), shape, gain)
    if name == "kaiming_uniform_":
        g, fan = _kaiming(kw)
        return _uniform_dist(lambda i, o: g * math.sqrt(3.0 / fan(i, o)), shape, None)
    if name == "kaiming_normal_":
        g, fan = _kaiming(kw)
        return _normal_dist(lambda i, o: g / math.sqrt(fan(i, o)), shape, None)
    if name == "lecun_uniform_":
        return _uniform_dist(lambda i, o: math.sqrt(3.0 / i), shape, None)
    if name == "lecun_normal_":
        return _normal_dist(lambda i, o: 1.0 / math.sqrt(i), shape, None)
    if name == "orthogonal_":
        return Dist("orthogonal", gain=gain)
    raise KeyError(name)


INITS = ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
         "kaiming_uniform_", "kaiming_normal_", "lecun_uniform_", "lecun_normal_", "orthogonal_")
INIT_SETTINGS = {"xavier_uniform_": [{}, {"gain": 2.0}], "xavier_normal_": [{}, {"gain": 2.0}],
                 "orthogonal_": [{}, {"gain": 0.5}], "kaiming_uniform_": [{}, {"a": 0.2}],
                 "kaiming_normal_": [{}, {"mode": "fan_out", "nonlinearity": "relu"}]}
INIT_SHAPES = [[200, 300], [32, 16, 3, 3], [500, 12]]


def init_checks(name: str) -> list[str]:
    """The init checks that apply to a reference initialiser."""
    family = init_dist(name, (4, 4), {}).family
    if family == "orthogonal":
        return ["in_place", "orthogonality", "reproducible"]
    checks = ["in_place", "mean", "variance"]
    if family in ("uniform", "trunc_normal"):
        checks.append("bounds")
    return checks + ["distribution", "reproducible"]


def resolve_dotted(path: str, where: str) -> Any:
    """Import `minitorch.a.b.C.attr`; only minitorch's own objects can be references."""
    if not path.startswith("minitorch."):
        raise AssignmentError(f"{where}: reference {path!r} is neither a known name nor a "
                              "dotted path inside minitorch")
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            break
        return obj
    raise AssignmentError(f"{where}: cannot find {path!r} in minitorch")


def optim_class(name: str, where: str, scheduler: bool = False) -> Any:
    """mt.optim.<name> or mt.optim.lr_scheduler.<name>."""
    module = "minitorch.optim.lr_scheduler" if scheduler else "minitorch.optim"
    if "." in name:
        return resolve_dotted(name, where)
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise AssignmentError(f"{where}: {module} is not available ({exc})") from None
    if not hasattr(mod, name):
        raise AssignmentError(f"{where}: unknown reference {name!r}: {module} has no {name}")
    return getattr(mod, name)
