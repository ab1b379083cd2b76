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
import stat
import tempfile
import zipfile
from typing import Any

import numpy as np

from . import backend

FORMAT = "minitorch-save"
VERSION = 1


class SerializationError(ValueError):
    """The file is not a minitorch save file, or is damaged."""


_SAFE_KINDS = "biufc"  # bool, integers, floats, complex: plain bytes, nothing to execute
_NON_FINITE = {"inf": float("inf"), "-inf": float("-inf"), "nan": float("nan")}


def _array(a: Any, arrays: list) -> int:
    arr = backend.to_numpy(a)
    if arr.dtype.kind not in _SAFE_KINDS:
        raise TypeError(f"mt.save: cannot save an array of dtype {arr.dtype} (object or "
                        "structured arrays would need pickle); use a numeric dtype")
    arrays.append(arr)
    return len(arrays) - 1


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
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"mt.save: cannot save a NumPy scalar of dtype {obj.dtype}")
        return {"__scalar__": _encode(obj.item(), arrays), "dtype": obj.dtype.str}
    if isinstance(obj, Tensor):
        return {"__tensor__": _array(obj.data, arrays), "device": obj.device,
                "requires_grad": bool(obj.requires_grad), "parameter": isinstance(obj, Parameter)}
    if isinstance(obj, np.ndarray) or backend.is_cupy_array(obj):
        return {"__array__": _array(obj, arrays), "device": backend.device_of(obj)}
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


def _bad(what: str) -> SerializationError:
    return SerializationError(f"malformed header: {what}")


def _index(obj: dict, key: str, arrays: list) -> int:
    idx = obj[key]
    if type(idx) is not int or not 0 <= idx < len(arrays):
        raise _bad(f"array index {idx!r}")
    return idx


def _flag(obj: dict, key: str) -> bool:
    value = obj.get(key, False)
    if type(value) is not bool:
        raise _bad(f"{key} must be true or false, got {value!r}")
    return value


def _decode(obj: Any, arrays: list, map_location: Any) -> Any:
    """Rebuild the object tree; every entry must match one known schema exactly."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if not isinstance(obj, dict):
        raise _bad(f"unexpected {type(obj).__name__}")
    keys = set(obj)
    if keys in ({"__list__"}, {"__tuple__"}, {"__dict__"}):
        items = next(iter(obj.values()))
        if not isinstance(items, list):
            raise _bad(f"{sorted(keys)[0]} must hold a list")
        if "__dict__" in keys:
            if not all(isinstance(kv, list) and len(kv) == 2 for kv in items):
                raise _bad("__dict__ must hold [key, value] pairs")
            return {_decode(k, arrays, map_location): _decode(v, arrays, map_location)
                    for k, v in items}
        out = [_decode(v, arrays, map_location) for v in items]
        return out if "__list__" in keys else tuple(out)
    if keys == {"__float__"}:
        if obj["__float__"] not in _NON_FINITE:
            raise _bad(f"__float__ {obj['__float__']!r}")
        return _NON_FINITE[obj["__float__"]]
    if keys == {"__scalar__", "dtype"}:
        try:
            dtype = np.dtype(obj["dtype"]) if isinstance(obj["dtype"], str) else None
        except TypeError:
            dtype = None
        value = _decode(obj["__scalar__"], arrays, map_location)
        if dtype is None or dtype.kind not in "biuf" or not isinstance(value, (int, float)):
            raise _bad(f"scalar {obj['__scalar__']!r} of dtype {obj['dtype']!r}")
        return dtype.type(value)
    if "__tensor__" in keys and keys <= {"__tensor__", "device", "requires_grad", "parameter"}:
        arr = _placed(arrays[_index(obj, "__tensor__", arrays)], obj, map_location)
        requires_grad, parameter = _flag(obj, "requires_grad"), _flag(obj, "parameter")
        from .nn.parameter import Parameter
        from .tensor import Tensor

        if parameter:
            return Parameter(Tensor._wrap(arr), requires_grad=requires_grad)
        t = Tensor._wrap(arr)
        t.requires_grad = requires_grad and arr.dtype.kind == "f"
        return t
    if "__array__" in keys and keys <= {"__array__", "device"}:
        return _placed(arrays[_index(obj, "__array__", arrays)], obj, map_location)
    raise _bad(f"unknown entry {sorted(keys)[:4]}")


def _placed(arr: np.ndarray, obj: dict, map_location: Any) -> Any:
    saved = obj.get("device", "cpu")
    if not isinstance(saved, str):
        raise _bad(f"device {saved!r}")
    return backend.to_device(arr, _target_device(saved, map_location))


def _target_device(saved: str, map_location: Any) -> str:
    if map_location is None:
        if saved != "cpu" and not backend.is_cuda_available():
            raise backend.DeviceError(
                f"mt.load: the file holds tensors saved on {saved} but no GPU is usable here; "
                "pass map_location='cpu'"
            )
        return backend.parse_device(saved)
    if isinstance(map_location, dict):
        return backend.parse_device(map_location.get(saved, saved))
    return backend.parse_device(map_location)


def _file_mode(path: str) -> int:
    """The mode a plain open() would give (mkstemp's files are private to the owner)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)  # overwriting: keep the file's mode
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def save(obj: Any, path: str | os.PathLike) -> None:
    """Save `obj` (a state dict or checkpoint) to `path`, atomically."""
    arrays: list = []
    header = {"format": FORMAT, "version": VERSION, "object": _encode(obj, arrays)}
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"mt.save: folder {folder} does not exist")
    mode = _file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.writestr("header.json", json.dumps(header))
                for i, arr in enumerate(arrays):
                    buf = io.BytesIO()
                    np.save(buf, arr, allow_pickle=False)
                    zf.writestr(f"arrays/{i}.npy", buf.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read_header(zf: zipfile.ZipFile, path: str) -> dict:
    header = json.loads(zf.read("header.json"))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise SerializationError(f"mt.load: {path} is not a minitorch save file")
    if set(header) != {"format", "version", "object"}:
        raise SerializationError(f"mt.load: {path} has a header with unknown or missing "
                                 f"entries {sorted(set(header) ^ {'format', 'version', 'object'})}")
    if header["version"] != VERSION:
        raise SerializationError(f"mt.load: {path} has format version {header['version']!r}; "
                                 f"this minitorch reads version {VERSION}")
    return header


def load(path: str | os.PathLike, map_location: Any = None) -> Any:
    """Load what `save` wrote. Never executes code from the file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"mt.load: no such file: {path}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"mt.load: {path} is not a file")
    try:
        with zipfile.ZipFile(path, "r") as zf:
            header = _read_header(zf, path)
            names = set(zf.namelist()) - {"header.json"}
            arrays = []
            for i in range(len(names)):
                # only the plain .npy format, never pickle (nor .npz, nor anything else)
                member = io.BytesIO(zf.read(f"arrays/{i}.npy"))
                arrays.append(np.lib.format.read_array(member, allow_pickle=False))
        return _decode(header["object"], arrays, map_location)
    except SerializationError:
        raise
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError,
            EOFError) as exc:
        raise SerializationError(
            f"mt.load: {path} is not a readable minitorch save file ({exc})"
        ) from None
    except RecursionError:
        raise SerializationError(f"mt.load: {path} is nested too deeply") from None
    except ValueError as exc:  # read_array refusing an object array, a truncated .npy
        raise SerializationError(f"mt.load: {path} holds an unsafe or damaged array ({exc})") \
            from None
