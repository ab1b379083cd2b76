"""Seeded test inputs: input specs with symbolic dimensions, bound by cases.

An input spec is {name, shape: [N, "IN", 3], dtype: float|int|prob, low, high, away_from_zero};
a case binds the dimension names ({N: 1, IN: 4}) and may set `scale` (magnitude of float
inputs) and `dtype` (float32 or float64). Every array comes from a NumPy generator seeded by
(assignment seed, task name, check, case), so adding a task never changes another's inputs and
the same seed always produces the same inputs.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from .spec import AssignmentError

CASE_KEYS = ("scale", "dtype")
FLOAT_DTYPES = ("float32", "float64")
INPUT_KEYS = ("name", "shape", "dtype", "low", "high", "away_from_zero")


def rng_for(seed: int, *labels: Any) -> np.random.Generator:
    """A generator that depends on the seed and on stable labels (never on Python's hash)."""
    words = [seed] + [zlib.crc32(str(label).encode()) for label in labels]
    return np.random.default_rng(words)


def validate_inputs(inputs: Any, where: str) -> list[dict]:
    if not isinstance(inputs, list) or not inputs:
        raise AssignmentError(f"{where}: inputs must be a non-empty list of input specs")
    out = []
    for i, spec in enumerate(inputs):
        w = f"{where}, input {i + 1}"
        if not isinstance(spec, dict) or "shape" not in spec:
            raise AssignmentError(f"{w}: expected a mapping with a 'shape'")
        extra = sorted(set(spec) - set(INPUT_KEYS))
        if extra:
            raise AssignmentError(f"{w}: unknown key(s) {extra} (allowed: {INPUT_KEYS})")
        shape = spec["shape"]
        if not isinstance(shape, list) or any(
                not (isinstance(d, str) or (isinstance(d, int) and d > 0)) for d in shape):
            raise AssignmentError(f"{w}: shape must be a list of positive ints or dimension "
                                  f"names, got {shape!r}")
        dtype = spec.get("dtype", "float")
        if dtype not in ("float", "int", "prob"):
            raise AssignmentError(f"{w}: dtype must be float, int or prob, got {dtype!r}")
        if dtype == "int" and "high" not in spec:
            raise AssignmentError(f"{w}: integer inputs need 'high' (exclusive upper bound)")
        out.append({"name": str(spec.get("name", f"input{i}")), **spec, "dtype": dtype})
    return out


def _dims(inputs: list[dict]) -> set:
    names = set()
    for spec in inputs:
        names.update(d for d in spec["shape"] if isinstance(d, str))
        for key in ("low", "high"):
            if isinstance(spec.get(key), str):
                names.add(spec[key])
    return names


def validate_cases(cases: Any, inputs: list[dict], where: str, key: str = "cases") -> list[dict]:
    if not isinstance(cases, list) or not cases:
        raise AssignmentError(f"{where}: {key} must be a non-empty list of mappings")
    needed = _dims(inputs)
    out = []
    for i, case in enumerate(cases):
        w = f"{where}, {key} {i + 1}"
        if not isinstance(case, dict):
            raise AssignmentError(f"{w}: expected a mapping of dimension names to sizes")
        missing = sorted(needed - set(case))
        if missing:
            raise AssignmentError(f"{w}: no size for dimension(s) {', '.join(missing)}")
        for name, value in case.items():
            if name == "scale":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                    raise AssignmentError(f"{w}: scale must be a positive number")
            elif name == "dtype":
                if value not in FLOAT_DTYPES:
                    raise AssignmentError(f"{w}: dtype must be float32 or float64")
            elif name not in needed:
                raise AssignmentError(f"{w}: {name!r} is not a dimension of the inputs "
                                      f"({', '.join(sorted(needed)) or 'none'})")
            elif isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise AssignmentError(f"{w}: size of {name} must be a positive int")
        out.append(dict(case))
    return out


def _bind(value: Any, case: dict) -> Any:
    return case[value] if isinstance(value, str) else value


def make_inputs(inputs: list[dict], case: dict, rng: np.random.Generator) -> list[np.ndarray]:
    """Arrays for one case: floats N(0, scale^2) in the case's dtype, ints uniform in
    [low, high), probabilities uniform in (0, 1)."""
    dtype = np.dtype(case.get("dtype", "float32"))
    scale = float(case.get("scale", 1.0))
    arrays = []
    for spec in inputs:
        shape = tuple(_bind(d, case) for d in spec["shape"])
        if spec["dtype"] == "int":
            low, high = int(_bind(spec.get("low", 0), case)), int(_bind(spec["high"], case))
            arrays.append(rng.integers(low, high, shape).astype(np.int64))
            continue
        if spec["dtype"] == "prob":
            arrays.append(rng.uniform(0.02, 0.98, shape).astype(dtype))
            continue
        x = rng.standard_normal(shape)
        away = float(spec.get("away_from_zero", 0.0))
        if away:  # keep kinks (relu at 0) out of reach of finite differences
            x = np.where(np.abs(x) < away, np.copysign(away, x) + x, x)
        arrays.append((x * scale).astype(dtype))
    return arrays


def describe_case(inputs: list[dict], arrays: list[np.ndarray], case: dict) -> str:
    """'x (1, 3), weight (2, 3), bias (2,); scale 100; float64' for feedback."""
    parts = [f"{spec['name']} {tuple(a.shape)}" for spec, a in zip(inputs, arrays, strict=True)]
    text = ", ".join(parts)
    if case.get("scale", 1.0) != 1.0:
        text += f"; magnitude ~{float(case['scale']):g}"
    if case.get("dtype", "float32") != "float32":
        text += f"; {case['dtype']}"
    return text
