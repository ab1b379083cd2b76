"""mt.save / mt.load: round trips of nested structures, a format that never unpickles or runs
anything from the file, and atomic writes."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import stat
import zipfile
from typing import Any

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
from minitorch import serialization
from minitorch.serialization import SerializationError


def _same(a: Any, b: Any) -> None:
    """Deep equality that also checks types, dtypes and NaNs."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, mt.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and (a == b or (np.isnan(a) and np.isnan(b)))
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        assert a == b


def test_round_trip_of_nested_structures(tmp_path: Any) -> None:
    obj = {
        "weights": mt.randn(3, 4),
        "double": mt.randn(2, dtype=mt.float64, requires_grad=True),
        "param": nn.Parameter(mt.ones(2, 2)),
        "frozen": nn.Parameter(mt.ones(1), requires_grad=False),
        "labels": mt.tensor([1, 2, 3]),
        "mask": mt.tensor([True, False]),
        "half": mt.zeros(3, dtype=mt.float16),
        "scalar_tensor": mt.tensor(2.5),
        "empty": mt.zeros(0, 3),
        "array": np.arange(6, dtype=np.int32).reshape(2, 3),
        "transposed": np.arange(6.0).reshape(2, 3).T,  # not C-contiguous
        "np_scalars": [np.float32(1.5), np.int64(-7), np.bool_(True), np.float64("nan")],
        "floats": [1.5, float("inf"), float("-inf"), float("nan"), -0.0, 1e-310],
        "ints": [0, -1, 2 ** 62, 10 ** 30],
        "strings": ["", "héllo ✓", "__dict__", "\x00"],
        "nothing": None,
        "flags": (True, False),
        "nested": {"a": [{"b": ({"c": [mt.zeros(1)]},)}], "empty_list": [], "empty_dict": {}},
        "tuple": (1, (2, (3, "x"))),
        7: "int key",
        -3: {0: mt.ones(2), 1: mt.zeros(2)},  # an optimiser's state: int keys
        (1, "a"): "tuple key",
        2.5: "float key",
        None: "none key",
        True: "bool key",
        "fake_tag": {"__tensor__": 0},  # a user dict that looks like an encoded entry
    }
    path = tmp_path / "ckpt.mt"
    mt.save(obj, path)
    back = mt.load(path)
    _same(obj, back)
    assert isinstance(back["param"], nn.Parameter) and back["param"].requires_grad
    assert not back["frozen"].requires_grad
    assert back["weights"].grad_fn is None and back["weights"].device == "cpu"


def test_module_state_dict_round_trip(tmp_path: Any) -> None:
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    net(mt.randn(5, 3))  # move the running statistics
    mt.save(net.state_dict(), tmp_path / "net.mt")
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    other.load_state_dict(mt.load(tmp_path / "net.mt"))
    pairs = zip(net.state_dict().items(), other.state_dict().items(), strict=True)
    for (k, a), (k2, b) in pairs:
        assert k == k2 and a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    net.load_state_dict(mt.load(tmp_path / "net.mt"))  # into the trained model itself
    assert net[1].num_batches_tracked.shape == ()


def test_rng_state_round_trip(tmp_path: Any) -> None:
    mt.manual_seed(5)
    state = mt.get_rng_state()
    mt.save(state, tmp_path / "rng.mt")
    a = mt.randn(4).numpy()
    mt.set_rng_state(mt.load(tmp_path / "rng.mt"))
    np.testing.assert_array_equal(mt.randn(4).numpy(), a)


def test_map_location_and_saved_device(tmp_path: Any, device: str) -> None:
    path = tmp_path / "t.mt"
    mt.save({"x": mt.ones(2, device=device)}, path)
    assert mt.load(path)["x"].device == device
    assert mt.load(path, map_location="cpu")["x"].device == "cpu"
    assert mt.load(path, map_location={device: "cpu"})["x"].device == "cpu"


def test_cuda_file_on_a_machine_without_gpu_asks_for_map_location(tmp_path: Any) -> None:
    if mt.cuda.is_available():
        pytest.skip("a GPU is usable here")
    path = tmp_path / "gpu.mt"
    mt.save({"x": mt.ones(2)}, path)
    _rewrite_header(path, lambda h: h["object"]["__dict__"][0][1].update(device="cuda:0"))
    with pytest.raises(mt.DeviceError, match=r"saved on cuda:0.*map_location='cpu'"):
        mt.load(path)
    assert mt.load(path, map_location="cpu")["x"].device == "cpu"


def test_saving_unsupported_objects_is_refused_before_writing(tmp_path: Any) -> None:
    path = tmp_path / "x.mt"
    with pytest.raises(TypeError, match="cannot save an object of type set"):
        mt.save({"a": {1, 2}}, path)
    with pytest.raises(TypeError, match="object"):
        mt.save({"a": np.array([object()])}, path)
    with pytest.raises(TypeError, match="lambda|function"):
        mt.save([lambda: 0], path)
    assert os.listdir(tmp_path) == []
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mt.save({}, tmp_path / "missing" / "x.mt")


# ---- loading never runs anything from the file ---------------------------------------------------

EXECUTED: list = []


class Evil:
    def __reduce__(self) -> tuple:
        return (EXECUTED.append, ("pwned",))


def _write_zip(path: Any, header: Any, members: dict | None = None, strict=True) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("header.json", header if isinstance(header, str) else json.dumps(header))
        for name, data in (members or {}).items():
            zf.writestr(name, data)


def _rewrite_header(path: Any, edit: Any) -> None:
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    header = json.loads(members.pop("header.json"))
    edit(header)
    _write_zip(path, header, members, strict=True)


def _npy(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _header(obj: Any) -> dict:
    return {"format": "minitorch-save", "version": 1, "object": obj}


def test_a_pickled_object_array_is_refused_without_unpickling(tmp_path: Any) -> None:
    path = tmp_path / "evil.mt"
    payload = _npy(np.array([Evil()], dtype=object), allow_pickle=True)
    _write_zip(path, _header({"__array__": 0, "device": "cpu"}), {"arrays/0.npy": payload})
    with pytest.raises(SerializationError, match="unsafe or damaged"):
        mt.load(path)
    assert EXECUTED == []


def test_a_plain_pickle_file_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"w": Evil()}))
    with pytest.raises(SerializationError, match="not a readable minitorch save file"):
        mt.load(path)
    assert EXECUTED == []


@pytest.mark.parametrize("obj", [
    {"__dict__": [], "__reduce__": "os.system"},  # an unknown entry beside a known one
    {"__class__": "os.system", "args": ["echo pwned"]},
    {"__tensor__": 0, "device": "cpu", "requires_grad": False, "parameter": False, "x": 1},
    {"__scalar__": 1, "dtype": "O"},  # object dtype
    {"__scalar__": 1, "dtype": "int64", "extra": 0},
    {"__float__": "__import__('os')"},
    {"__list__": "not a list"},
    {"__dict__": [[1]]},
    {"__tensor__": 5, "device": "cpu"},  # no such array
    {"__tensor__": True, "device": "cpu"},
    {"__array__": 0, "device": 3},
    [1, 2],  # a bare JSON list is not an encoded list
])
def test_headers_with_unknown_or_malformed_entries_are_refused(tmp_path: Any, obj: Any) -> None:
    path = tmp_path / "bad.mt"
    _write_zip(path, _header({"__list__": [obj]}), {"arrays/0.npy": _npy(np.zeros(2))})
    with pytest.raises(SerializationError):
        mt.load(path)


@pytest.mark.parametrize("header", [
    {"format": "something-else", "version": 1, "object": None},
    {"format": "minitorch-save", "version": 99, "object": None},
    {"format": "minitorch-save", "version": 1, "object": None, "hook": "os.system"},
    {"format": "minitorch-save", "version": 1},
    "not json {",
    "[1, 2, 3]",
])
def test_bad_top_level_headers_are_refused(tmp_path: Any, header: Any) -> None:
    path = tmp_path / "bad.mt"
    _write_zip(path, header, strict=True)
    with pytest.raises(SerializationError):
        mt.load(path)


def test_members_that_are_not_plain_npy_are_refused(tmp_path: Any) -> None:
    npz = io.BytesIO()
    np.savez(npz, a=np.zeros(2))
    for payload in (npz.getvalue(), b"\x93NUMPY garbage", _npy(np.zeros(5))[:-8]):
        path = tmp_path / "bad.mt"
        _write_zip(path, _header({"__array__": 0, "device": "cpu"}), {"arrays/0.npy": payload})
        with pytest.raises(SerializationError):
            mt.load(path)


def test_damaged_and_missing_files(tmp_path: Any) -> None:
    path = tmp_path / "ok.mt"
    mt.save({"w": mt.randn(100)}, path)
    data = path.read_bytes()
    (tmp_path / "cut.mt").write_bytes(data[: len(data) // 2])
    with pytest.raises(SerializationError, match="cut.mt"):
        mt.load(tmp_path / "cut.mt")
    (tmp_path / "empty.mt").write_bytes(b"")
    with pytest.raises(SerializationError):
        mt.load(tmp_path / "empty.mt")
    with pytest.raises(FileNotFoundError, match="nope.mt"):
        mt.load(tmp_path / "nope.mt")
    with pytest.raises(FileNotFoundError, match="not a file"):
        mt.load(tmp_path)


def test_deeply_nested_header_is_refused_cleanly(tmp_path: Any) -> None:
    deep = '{"__list__": [' * 100_000 + "null" + "]}" * 100_000
    path = tmp_path / "deep.mt"
    _write_zip(path, '{"format": "minitorch-save", "version": 1, "object": ' + deep + "}")
    with pytest.raises(SerializationError):
        mt.load(path)


# ---- atomic writes ----------------------------------------------------------------------------


def test_a_crash_mid_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Any,
                                                                 monkeypatch: Any) -> None:
    path = tmp_path / "ckpt.mt"
    mt.save({"w": mt.ones(3)}, path)
    good = path.read_bytes()
    calls = []

    def crash(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:  # the first array is written, the second one crashes
            raise OSError("disk full")
        return real_save(*args, **kwargs)

    real_save = np.save
    monkeypatch.setattr(serialization.np, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        mt.save({"w": mt.zeros(3), "b": mt.zeros(5)}, path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["ckpt.mt"]

    def interrupt(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization.np, "save", interrupt)
    with pytest.raises(KeyboardInterrupt):
        mt.save({"w": mt.zeros(3)}, path)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["ckpt.mt"]
    monkeypatch.undo()
    np.testing.assert_array_equal(mt.load(path)["w"].numpy(), np.ones(3))


def test_a_crash_at_replace_keeps_the_old_file(tmp_path: Any, monkeypatch: Any) -> None:
    path = tmp_path / "ckpt.mt"
    mt.save([1, 2], path)

    def boom(src: Any, dst: Any) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(serialization.os, "replace", boom)
    with pytest.raises(OSError, match="power cut"):
        mt.save([3], path)
    monkeypatch.undo()
    assert mt.load(path) == [1, 2] and os.listdir(tmp_path) == ["ckpt.mt"]


def test_saved_file_has_ordinary_permissions(tmp_path: Any) -> None:
    old = os.umask(0o022)
    try:
        mt.save({}, tmp_path / "p.mt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "p.mt").st_mode) == 0o644
