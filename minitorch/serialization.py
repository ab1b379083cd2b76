"""mt.save / mt.load: a safe, self-describing format for state dicts and checkpoints.

A file is a ZIP archive holding `header.json` (the object tree as JSON: dicts, lists, tuples,
numbers, strings, None) and one `.npy` member per array, read back with NumPy's
`allow_pickle=False`. Loading therefore never unpickles or executes anything from the file.
Writes go to a temporary file in the same folder that is fsync'ed and renamed over the target,
so a crash mid-write leaves the previous file intact.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

from . import backend

FORMAT = "minitorch-save"
VERSION = 1


class SerializationError(ValueError):
    """The file is not a minitorch save file, or is damaged."""


def _encode(obj: Any, arrays: list) -> Any:
    from .nn.parameter import Parameter
    from .tensor import Tensor

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)) and not isinstance(obj, np.generic):
        if isinstance(obj, float) and not np.isfinite(obj):
            return {"__float__": repr(obj)}
        return obj
    if isinstance(obj, np.generic):
        return {"__scalar__": _encode(obj.item(), arrays), "dtype": str(obj.dtype)}
    if isinstance(obj, Tensor):
        arrays.append(backend.to_numpy(obj.data))
        return {"__tensor__": len(arrays) - 1, "device": obj.device,
                "requires_grad": bool(obj.requires_grad), "parameter": isinstance(obj, Parameter)}
    if isinstance(obj, np.ndarray) or backend.is_cupy_array(obj):
        arrays.append(backend.to_numpy(obj))
        return {"__array__": len(arrays) - 1, "device": backend.device_of(obj)}
    if isinstance(obj, dict):
        return {"__dict__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, list):
        return {"__list__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    raise TypeError(
        f"mt.save: cannot save an object of type {type(obj).__name__}; save state dicts "
        "(dicts of tensors, arrays, numbers, strings, lists)"
    )


def _decode(obj: Any, arrays: list, map_location: Any) -> Any:
    if not isinstance(obj, dict):
        if isinstance(obj, list):
            raise SerializationError("malformed header: bare list")
        return obj
    if "__dict__" in obj:
        return {_key(_decode(k, arrays, map_location)): _decode(v, arrays, map_location)
                for k, v in obj["__dict__"]}
    if "__list__" in obj:
        return [_decode(v, arrays, map_location) for v in obj["__list__"]]
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays, map_location) for v in obj["__tuple__"])
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__scalar__" in obj:
        return np.dtype(obj["dtype"]).type(obj["__scalar__"])
    if "__tensor__" in obj or "__array__" in obj:
        idx = obj.get("__tensor__", obj.get("__array__"))
        if not isinstance(idx, int) or not 0 <= idx < len(arrays):
            raise SerializationError(f"malformed header: array index {idx!r}")
        device = _target_device(obj.get("device", "cpu"), map_location)
        arr = backend.to_device(arrays[idx], device)
        if "__array__" in obj:
            return arr
        from .nn.parameter import Parameter
        from .tensor import Tensor

        if obj.get("parameter"):
            return Parameter(Tensor._wrap(arr), requires_grad=bool(obj.get("requires_grad")))
        t = Tensor._wrap(arr)
        t.requires_grad = bool(obj.get("requires_grad")) and arr.dtype.kind == "f"
        return t
    raise SerializationError(f"malformed header: unknown entry {sorted(obj)[:3]}")


def _key(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


def _target_device(saved: str, map_location: Any) -> str:
    if map_location is None:
        if saved != "cpu" and not backend.is_cuda_available():
            raise backend.DeviceError(
                f"mt.load: the file holds tensors saved on {saved} but no GPU is usable here; "
                "pass map_location='cpu'"
            )
        return saved
    if isinstance(map_location, dict):
        return backend.parse_device(map_location.get(saved, saved))
    return backend.parse_device(map_location)


def save(obj: Any, path: str | os.PathLike) -> None:
    """Save `obj` (a state dict or checkpoint) to `path`, atomically."""
    arrays: list = []
    header = {"format": FORMAT, "version": VERSION, "object": _encode(obj, arrays)}
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"mt.save: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.writestr("header.json", json.dumps(header))
                for i, arr in enumerate(arrays):
                    buf = io.BytesIO()
                    # ascontiguousarray alone would turn a 0-d array into shape (1,)
                    np.save(buf, np.ascontiguousarray(arr).reshape(arr.shape),
                            allow_pickle=False)
                    zf.writestr(f"arrays/{i}.npy", buf.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path: str | os.PathLike, map_location: Any = None) -> Any:
    """Load what `save` wrote. Never executes code from the file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"mt.load: no such file: {path}")
    try:
        with zipfile.ZipFile(path, "r") as zf:
            header = json.loads(zf.read("header.json"))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise SerializationError(f"mt.load: {path} is not a minitorch save file")
            n = sum(1 for name in zf.namelist() if name.startswith("arrays/"))
            arrays = []
            for i in range(n):
                with zf.open(f"arrays/{i}.npy") as member:
                    arrays.append(np.load(io.BytesIO(member.read()), allow_pickle=False))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, EOFError) as exc:
        raise SerializationError(
            f"mt.load: {path} is not a readable minitorch save file ({exc})"
        ) from None
    except ValueError as exc:  # np.load refusing an object array, a truncated .npy
        raise SerializationError(f"mt.load: {path} holds an unsafe or damaged array ({exc})") \
            from None
    return _decode(header["object"], arrays, map_location)
