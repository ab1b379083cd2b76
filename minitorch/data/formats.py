"""Readers for the files the datasets ship as: IDX (MNIST, Fashion-MNIST) and CIFAR-10's
python batches. Both are read with NumPy in one pass (no per-sample Python loops).

CIFAR-10's python batches are pickled dicts holding a NumPy array, so reading them needs the
pickle machinery: that is the real format. It is read with a restricted unpickler whose
`find_class` refuses every global except the handful NumPy needs to rebuild a plain ndarray
(`_reconstruct`, `ndarray`, `dtype`, `_frombuffer`) and a latin-1-only `_codecs.encode` (how
Python 3 writes bytes at protocol 2). Any other global (a function, a class, `os.system`) is an
error, so loading a batch file can build only dicts, lists, strings, numbers and arrays and
never runs code from the file.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
from typing import Any

import numpy as np


class DatasetFormatError(ValueError):
    """A data file exists but is not in the format it should be."""


# ---- IDX (LeCun's format: magic 0x0000 | dtype code | ndim, then big-endian uint32 dims) -----
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def _read_bytes(path: str) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic (whatever its name)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DatasetFormatError(f"{path}: damaged gzip file ({exc})") from None
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a native-endian array of its shape."""
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DatasetFormatError(f"{path}: not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise DatasetFormatError(f"{path}: unknown IDX data type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetFormatError(f"{path}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DatasetFormatError(
            f"{path}: IDX header says shape {shape} ({expected} bytes of data) but the file "
            f"holds {len(raw) - header}"
        )
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


# ---- CIFAR python batches ---------------------------------------------------------------------
def _numpy_global(*names: str) -> Any:
    """The first of NumPy's private rebuild helpers that exists (numpy 2 moved core -> _core)."""
    for dotted in names:
        module, attr = dotted.rsplit(".", 1)
        try:
            mod = __import__(module, fromlist=[attr])
            return getattr(mod, attr)
        except (ImportError, AttributeError):
            continue
    return None


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """_codecs.encode restricted to latin-1: Python 3 pickles bytes this way at protocol 2."""
    if encoding.lower().replace("_", "-") not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _allowed_globals() -> dict:
    reconstruct = _numpy_global("numpy._core.multiarray._reconstruct",
                                "numpy.core.multiarray._reconstruct")
    frombuffer = _numpy_global("numpy._core.numeric._frombuffer", "numpy.core.numeric._frombuffer")
    table = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
             ("_codecs", "encode"): _latin1_encode}
    for core in ("numpy.core", "numpy._core"):
        table[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        table[(f"{core}.numeric", "_frombuffer")] = frombuffer
    return {k: v for k, v in table.items() if v is not None}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals needed to rebuild plain NumPy arrays."""

    _allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: a CIFAR batch holds only dicts, "
                "lists, strings, numbers and arrays"
            ) from None


def read_cifar_batch(path: str | os.PathLike) -> dict:
    """Read one CIFAR python batch into a dict with str keys; never executes code."""
    path = os.fspath(path)
    raw = _read_bytes(path)
    try:
        # latin-1 maps Python 2's str (the format's keys and NumPy's raw array data) 1:1 to
        # bytes-valued text, which is what NumPy expects when rebuilding a Python 2 array.
        obj = _RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except pickle.UnpicklingError as exc:
        raise DatasetFormatError(f"{path}: {exc}") from None
    except (EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        raise DatasetFormatError(f"{path}: not a CIFAR python batch ({exc})") from None
    if not isinstance(obj, dict):
        raise DatasetFormatError(f"{path}: expected a pickled dict, found {type(obj).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def cifar_arrays(batch: dict, path: str) -> tuple:
    """(images uint8 (N, 3, 32, 32), labels int64 (N,)) from one read batch."""
    if "data" not in batch:
        raise DatasetFormatError(f"{path}: CIFAR batch has no 'data' entry")
    key = next((k for k in ("labels", "fine_labels") if k in batch), None)
    if key is None:
        raise DatasetFormatError(f"{path}: CIFAR batch has no 'labels' entry")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch[key], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetFormatError(
            f"{path}: CIFAR 'data' should be uint8 of shape (N, 3072), got {data.dtype} "
            f"{data.shape}"
        )
    if labels.shape != (data.shape[0],):
        raise DatasetFormatError(
            f"{path}: {data.shape[0]} images but {labels.shape[0]} labels"
        )
    # rows are channel-major: 1024 red, 1024 green, 1024 blue values, each row-major 32x32
    return data.reshape(-1, 3, 32, 32), labels
