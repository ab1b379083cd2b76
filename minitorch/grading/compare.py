"""Describing returned values and comparing them with expected ones, in words a student can act
on: what was expected, what came back, the largest absolute and relative errors and where.

`describe` runs where the value was produced (the student's process, or the grader for the
reference) and turns anything into plain data: its type, device, dtype, shape and a host NumPy
copy of its values when it has any. `compare` runs in the grader.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_ELEMENTS = 4_000_000  # larger returned values are described but not shipped back


def describe(value: Any) -> dict:
    """Plain-data description of a returned value (type, device, dtype, shape, values)."""
    from .. import backend
    from ..tensor import Tensor

    d: dict[str, Any] = {"type": type(value).__name__, "device": None, "dtype": None,
                         "shape": None, "value": None, "requires_grad": False}
    arr = None
    if isinstance(value, Tensor):
        d["type"] = "Tensor"
        d["requires_grad"] = bool(value.requires_grad)
        arr = value.data
    elif isinstance(value, np.ndarray) or backend.is_cupy_array(value):
        d["type"] = "cupy.ndarray" if backend.is_cupy_array(value) else "numpy.ndarray"
        arr = value
    elif value is None:
        d["type"] = "None"
        return d
    elif isinstance(value, (bool, int, float, np.generic, list, tuple)):
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError):
            return d
    else:
        return d
    if not hasattr(arr, "shape") or not hasattr(arr, "dtype"):
        return d
    d["device"] = backend.device_of(arr)
    d["dtype"] = str(arr.dtype)
    d["shape"] = [int(s) for s in arr.shape]
    if arr.size <= MAX_ELEMENTS and arr.dtype.kind in "biuf":
        d["value"] = np.array(backend.to_numpy(arr), copy=True)
    return d


def fmt_index(idx: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]" if idx else "(scalar)"


def fmt_shape(shape: Any) -> str:
    return str(tuple(shape)) if shape is not None else "?"


def _what(desc: dict) -> str:
    if desc.get("shape") is None:
        return desc["type"] if desc["type"] != "None" else "None"
    return f"a {desc['type']} of shape {fmt_shape(desc['shape'])}"


def compare(expected: np.ndarray, got: dict, rtol: float, atol: float, label: str) -> str | None:
    """None when `got` matches `expected` within |got - exp| <= atol + rtol |exp|; otherwise
    one line saying how it differs."""
    exp = np.asarray(expected)
    val = got.get("value")
    if val is None:
        return f"{label}: expected a Tensor of shape {fmt_shape(exp.shape)}, got {_what(got)}"
    val = np.asarray(val)
    if tuple(val.shape) != tuple(exp.shape):
        return f"{label}: expected shape {fmt_shape(exp.shape)}, got {fmt_shape(val.shape)}"
    if exp.size == 0:
        return None
    e = exp.astype(np.float64)
    v = val.astype(np.float64)
    bad_finite = np.isfinite(e) & ~np.isfinite(v)
    if bad_finite.any():
        idx = np.unravel_index(int(np.argmax(bad_finite)), e.shape)
        n = int(bad_finite.sum())
        return (f"{label}: got {v[idx]} at {fmt_index(idx)} (expected {e[idx]:.6g}); "
                f"{n} of {e.size} values are not finite")
    both_nan = np.isnan(e) & np.isnan(v)
    err = np.where(both_nan, 0.0, np.abs(v - e))
    err = np.where(np.isnan(err), np.inf, err)
    tol = atol + rtol * np.abs(e)
    bad = err > tol
    if not bad.any():
        return None
    ia = np.unravel_index(int(np.argmax(err)), e.shape)
    rel = err / np.maximum(np.abs(e), 1e-300)
    rel = np.where(np.isnan(rel), np.inf, rel)
    ir = np.unravel_index(int(np.argmax(rel)), e.shape)
    return (f"{label}: max abs error {err[ia]:.3g} at {fmt_index(ia)} (expected {e[ia]:.6g}, "
            f"got {v[ia]:.6g}); max rel error {rel[ir]:.3g} at {fmt_index(ir)}; "
            f"{int(bad.sum())} of {e.size} values outside rtol={rtol:g}, atol={atol:g}")


def compare_meta(expected_shape: Any, expected_dtype: str, device: str, got: dict,
                 label: str) -> str | None:
    """Type, device, dtype and shape of a returned value; None when all match."""
    problems = []
    if got["type"] != "Tensor":
        problems.append(f"expected a minitorch Tensor, got {got['type']}")
    if got.get("device") is not None and got["device"] != device:
        problems.append(f"it is on {got['device']} but the inputs were on {device}")
    if got.get("dtype") is not None and got["dtype"] != expected_dtype:
        problems.append(f"dtype {got['dtype']}, expected {expected_dtype} (the inputs' dtype)")
    if got.get("shape") is not None and tuple(got["shape"]) != tuple(expected_shape):
        problems.append(f"shape {fmt_shape(got['shape'])}, expected {fmt_shape(expected_shape)}")
    if got.get("shape") is None and got["type"] != "Tensor":
        problems.append("it has no shape")
    return f"{label}: " + "; ".join(problems) if problems else None
