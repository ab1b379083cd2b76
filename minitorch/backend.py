"""The one NumPy/CuPy switch: every other module asks here for its array module.

This is the only module that imports CuPy, and it does so lazily, so that a machine without
CuPy (or without a GPU) imports minitorch as fast as one with it.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

Array = Any  # numpy.ndarray or cupy.ndarray

_cupy: Any = None
_cupy_error: str | None = None

INSTALL_HINT = (
    "install CuPy for your CUDA version, e.g. `pip install cupy-cuda12x` "
    '(or `pip install -e ".[cuda]"`)'
)


class DeviceError(RuntimeError):
    """A device was asked for that cannot be used, or devices were mixed."""


def _load_cupy() -> Any:
    """Import CuPy once; remember why it failed so the error can say so."""
    global _cupy, _cupy_error
    if _cupy is None and _cupy_error is None:
        try:
            _cupy = importlib.import_module("cupy")
        except ModuleNotFoundError as exc:
            if exc.name == "cupy":
                _cupy_error = "CuPy is not installed"
            else:
                _cupy_error = f"CuPy could not be imported (a dependency is missing: {exc})"
        except Exception as exc:  # noqa: BLE001  (a broken CUDA install fails in many ways)
            _cupy_error = f"CuPy could not be imported ({type(exc).__name__}: {exc})"
    return _cupy


def cupy_module() -> Any:
    """The cupy module, or None when it cannot be imported."""
    return _load_cupy()


def is_cuda_available() -> bool:
    cp = _load_cupy()
    if cp is None:
        return False
    try:
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def device_count() -> int:
    cp = _load_cupy()
    if cp is None:
        return 0
    try:
        return int(cp.cuda.runtime.getDeviceCount())
    except Exception:
        return 0


def parse_device(device: Any) -> str:
    """Normalise a device spec to 'cpu' or 'cuda:N'; None means 'cpu'."""
    if device is None:
        return "cpu"
    if not isinstance(device, str):
        device = str(device)  # e.g. a torch.device-like object
    d = device.strip().lower()
    if d == "cpu":
        return "cpu"
    if d == "cuda" or d.startswith("cuda:"):
        index = 0
        if ":" in d:
            tail = d.split(":", 1)[1]
            if not tail.isdigit():
                raise DeviceError(f"invalid device {device!r}: expected 'cpu', 'cuda' or 'cuda:N'")
            index = int(tail)
        _require_cuda(index)
        return f"cuda:{index}"
    raise DeviceError(f"invalid device {device!r}: expected 'cpu', 'cuda' or 'cuda:N'")


def _require_cuda(index: int = 0) -> None:
    cp = _load_cupy()
    if cp is None:
        raise DeviceError(f"device 'cuda' requested but {_cupy_error}; {INSTALL_HINT}")
    n = device_count()
    if n == 0:
        raise DeviceError(
            "device 'cuda' requested but CuPy sees no CUDA GPU "
            "(check `nvidia-smi` and CUDA_VISIBLE_DEVICES), or use --device cpu"
        )
    if index >= n:
        raise DeviceError(f"device 'cuda:{index}' requested but only {n} GPU(s) are visible")


def is_cupy_array(a: Any) -> bool:
    return _cupy is not None and isinstance(a, _cupy.ndarray)


def get_array_module(*arrays: Any) -> Any:
    """numpy, or cupy when any argument is a CuPy array (chainer's idiom)."""
    if _cupy is not None:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


def xp_for_device(device: str) -> Any:
    if device == "cpu":
        return np
    cp = _load_cupy()
    if cp is None:
        _require_cuda()
    return cp


def device_of(a: Any) -> str:
    if is_cupy_array(a):
        return f"cuda:{a.device.id}"
    return "cpu"


def to_device(a: Array, device: str) -> Array:
    """Move an array to a normalised device string; no copy when it is already there."""
    if device == "cpu":
        return a.get() if is_cupy_array(a) else np.asarray(a)
    cp = xp_for_device(device)
    index = int(device.split(":")[1])
    if isinstance(a, cp.ndarray) and a.device.id == index:
        return a
    with cp.cuda.Device(index):
        return cp.asarray(a)


def to_numpy(a: Array) -> np.ndarray:
    return a.get() if is_cupy_array(a) else np.asarray(a)


def scatter_add(xp: Any, target: Array, index: Any, values: Array) -> None:
    """target[index] += values with repeated indices accumulated (np.add.at on both backends)."""
    if xp is np:
        np.add.at(target, index, values)
    else:
        import cupyx  # only reached when CuPy arrays are in play

        cupyx.scatter_add(target, index, values)


def erf(a: Array) -> Array:
    """The error function on either backend (SciPy / cupyx when present)."""
    if is_cupy_array(a):
        import cupyx.scipy.special  # only reached when CuPy arrays are in play

        return cupyx.scipy.special.erf(a)
    try:
        from scipy.special import erf as scipy_erf  # optional: fast when SciPy is installed
    except ImportError:
        import math

        return np.vectorize(math.erf, otypes=[a.dtype])(a)
    return scipy_erf(a)


def philox_state(seed: int, device: str) -> Any:
    """A CuPy RandomState with the counter-based Philox generator on `device` (random.py's
    CUDA generator draws from one of these per call)."""
    cp = xp_for_device(device)
    from cupy.cuda import curand  # only reached when a CUDA device is in use

    with cp.cuda.Device(int(device.split(":")[1])):
        return cp.random.RandomState(seed, method=curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)


def synchronize(device: str | None = None) -> None:
    """Wait for all queued GPU work (a no-op on the CPU); used by benchmarks."""
    if device is not None and device.startswith("cuda") and _cupy is not None:
        _cupy.cuda.Device(int(device.split(":")[1])).synchronize()
