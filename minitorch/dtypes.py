"""dtypes: NumPy's dtype objects under PyTorch's names; float32 is the default."""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)  # noqa: A001  (PyTorch's alias)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_default = float32


def get_default_dtype() -> np.dtype:
    return _default


def set_default_dtype(dtype: Any) -> None:
    global _default
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _default = d


def as_dtype(dtype: Any) -> np.dtype | None:
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"unknown dtype {dtype!r}") from exc


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"
