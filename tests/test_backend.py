"""The NumPy/CuPy switch: device parsing, the error for an unusable GPU, get_array_module,
moving arrays; CuPy is imported lazily and only by backend.py; the framework RNG."""

from __future__ import annotations

import pathlib
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import minitorch as mt
from minitorch import backend
from minitorch import random as mt_random

NO_GPU = not backend.is_cuda_available()


@pytest.mark.parametrize("spec, expected", [
    (None, "cpu"), ("cpu", "cpu"), (" CPU ", "cpu"), ("Cpu", "cpu"),
])
def test_parse_cpu(spec: Any, expected: str) -> None:
    assert backend.parse_device(spec) == expected


def test_parse_device_like_objects() -> None:
    class DeviceLike:
        def __str__(self) -> str:
            return "cpu"

    assert backend.parse_device(DeviceLike()) == "cpu"


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cuda:-1", "", "cuda:", "cpu:0", "tpu"])
def test_invalid_devices_are_named(spec: str) -> None:
    with pytest.raises(mt.DeviceError, match=r"invalid device .*'cpu', 'cuda' or 'cuda:N'"):
        backend.parse_device(spec)


class FakeCupy:
    """Enough of a CuPy module to exercise the dispatch without a GPU."""

    class ndarray:  # noqa: N801
        pass

    def __init__(self, n_gpus: int) -> None:
        n = n_gpus

        class Runtime:
            @staticmethod
            def getDeviceCount() -> int:  # noqa: N802
                return n

        self.cuda = type("cuda", (), {"runtime": Runtime})


def test_cuda_without_cupy_says_what_is_missing_and_how_to_install(monkeypatch: Any) -> None:
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", None)
    real_import = backend.importlib.import_module

    def no_cupy(name: str) -> Any:
        if name == "cupy":
            raise ModuleNotFoundError("No module named 'cupy'", name="cupy")
        return real_import(name)

    monkeypatch.setattr(backend.importlib, "import_module", no_cupy)
    for spec in ("cuda", "cuda:0", "CUDA:1"):
        with pytest.raises(mt.DeviceError) as info:
            backend.parse_device(spec)
        msg = str(info.value)
        assert "CuPy is not installed" in msg and "pip install cupy-cuda12x" in msg
        assert '.[cuda]' in msg and "\n" not in msg
    assert not backend.is_cuda_available() and not mt.cuda.is_available()
    assert mt.cuda.device_count() == 0
    with pytest.raises(mt.DeviceError, match="CuPy is not installed"):
        mt.zeros(3, device="cuda")
    with pytest.raises(mt.DeviceError, match="CuPy is not installed"):
        mt.ones(2).to("cuda")
    with pytest.raises(mt.DeviceError, match="CuPy is not installed"):
        mt.ones(2).cuda()
    with pytest.raises(mt.DeviceError, match="CuPy is not installed"):
        mt.nn.Linear(2, 2).to("cuda")
    with pytest.raises(mt.DeviceError, match="CuPy is not installed"):
        mt.tensor([1.0], device="cuda:0")


def test_cuda_with_a_broken_cupy_says_so(monkeypatch: Any) -> None:
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", None)

    def broken(name: str) -> Any:
        raise ImportError("libcudart.so.12: cannot open shared object file")

    monkeypatch.setattr(backend.importlib, "import_module", broken)
    with pytest.raises(mt.DeviceError, match=r"CuPy could not be imported.*libcudart.*"
                                             r"pip install cupy-cuda12x"):
        backend.parse_device("cuda")


def test_cuda_with_cupy_but_no_gpu(monkeypatch: Any) -> None:
    monkeypatch.setattr(backend, "_cupy", FakeCupy(0))
    monkeypatch.setattr(backend, "_cupy_error", None)
    with pytest.raises(mt.DeviceError, match=r"CuPy sees no CUDA GPU.*nvidia-smi.*--device cpu"):
        backend.parse_device("cuda")
    assert not mt.cuda.is_available()


def test_cuda_index_beyond_the_visible_gpus(monkeypatch: Any) -> None:
    monkeypatch.setattr(backend, "_cupy", FakeCupy(2))
    monkeypatch.setattr(backend, "_cupy_error", None)
    assert backend.parse_device("cuda") == "cuda:0"
    assert backend.parse_device("cuda:1") == "cuda:1"
    assert mt.cuda.is_available() and mt.cuda.device_count() == 2
    with pytest.raises(mt.DeviceError, match=r"'cuda:3' requested but only 2 GPU\(s\)"):
        backend.parse_device("cuda:3")


def test_get_array_module_dispatch(monkeypatch: Any) -> None:
    assert backend.get_array_module(np.zeros(2)) is np
    assert backend.get_array_module(1.0, [1, 2], None) is np
    assert backend.get_array_module() is np
    fake = FakeCupy(1)
    monkeypatch.setattr(backend, "_cupy", fake)
    assert backend.get_array_module(np.zeros(1), fake.ndarray()) is fake
    assert backend.get_array_module(np.zeros(1), 3.0) is np
    assert backend.is_cupy_array(fake.ndarray()) and not backend.is_cupy_array(np.zeros(1))


def test_moving_arrays_on_the_cpu() -> None:
    a = np.arange(3.0)
    assert backend.to_device(a, "cpu") is a  # no copy when it is already there
    assert backend.device_of(a) == "cpu"
    assert backend.xp_for_device("cpu") is np
    assert isinstance(backend.to_numpy([1, 2]), np.ndarray)
    t = mt.tensor([1.0, 2.0])
    assert t.to("cpu") is t and t.cpu() is t and t.device == "cpu" and not t.is_cuda
    backend.synchronize("cpu")  # a no-op


def test_scatter_add_accumulates_repeated_indices() -> None:
    target = np.zeros(4)
    backend.scatter_add(np, target, np.array([1, 1, 3, 1]), np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(target, [0.0, 7.0, 0.0, 3.0])


def test_importing_minitorch_does_not_import_cupy_or_print() -> None:
    root = pathlib.Path(__file__).resolve().parents[1]
    code = "import sys, minitorch; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=root, check=True)
    assert out.stdout == "False\n" and out.stderr == ""


def test_only_backend_imports_cupy() -> None:
    root = pathlib.Path(__file__).resolve().parents[1] / "minitorch"
    offenders = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
                 if p.name != "backend.py" and ("import cupy" in p.read_text()
                                                or "from cupy" in p.read_text()
                                                or "__import__(\"cupy\")" in p.read_text())]
    assert offenders == []


# ---- real GPUs ---------------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.skipif(NO_GPU, reason="needs CuPy and a CUDA GPU")
def test_gpu_round_trip_and_mixed_device_error() -> None:
    a = mt.randn(3, 4, device="cuda", requires_grad=True)
    assert a.device == "cuda:0" and a.is_cuda
    assert backend.get_array_module(a.data) is backend.cupy_module()
    b = mt.randn(3, 4)
    with pytest.raises(mt.DeviceError, match=r"cuda:0.*cpu|cpu.*cuda:0"):
        a + b
    c = a.cpu()
    (c * 2).sum().backward()
    assert a.grad.device == "cuda:0"
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 4), 2.0, dtype=np.float32))


# ---- the framework RNG -------------------------------------------------------------------------


def test_manual_seed_makes_draws_reproducible() -> None:
    mt.manual_seed(123)
    a = (mt.rand(5).numpy(), mt.randn(5).numpy(), mt.randint(0, 10, (5,)).numpy(),
         mt.randperm(7).numpy())
    mt.manual_seed(123)
    b = (mt.rand(5).numpy(), mt.randn(5).numpy(), mt.randint(0, 10, (5,)).numpy(),
         mt.randperm(7).numpy())
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert mt.initial_seed() == 123
    with pytest.raises(TypeError, match="expects an int"):
        mt.manual_seed(1.5)


def test_rng_state_save_restore_and_fork() -> None:
    mt.manual_seed(7)
    mt.randn(3)
    state = mt.get_rng_state()
    a = mt.randn(4).numpy()
    mt.set_rng_state(state)
    np.testing.assert_array_equal(mt.randn(4).numpy(), a)
    with mt_random.fork_rng():
        mt.randn(100)
    after = mt.randn(2).numpy()
    mt.set_rng_state(state)
    mt.randn(4)
    np.testing.assert_array_equal(mt.randn(2).numpy(), after)  # fork_rng left no trace


def test_random_draws_respect_dtype_and_range() -> None:
    assert mt.rand(3).dtype == np.float32 and mt.randn(3, dtype=mt.float64).dtype == np.float64
    x = mt.rand(10_000).numpy()
    assert x.min() >= 0 and x.max() < 1
    r = mt.randint(3, 6, (1000,)).numpy()
    assert r.dtype == np.int64 and set(np.unique(r)) == {3, 4, 5}
    assert sorted(mt.randperm(6).tolist()) == list(range(6))


def test_creation_functions() -> None:
    assert mt.zeros(2, 3).shape == (2, 3) and mt.zeros((2, 3)).dtype == np.float32
    assert mt.ones(2, dtype=mt.int64).dtype == np.int64
    assert mt.full((2,), 7).dtype == np.int64 and mt.full((2,), 0.5).dtype == np.float32
    assert mt.arange(5).dtype == np.int64 and mt.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_array_equal(mt.eye(2, 3).numpy(), np.eye(2, 3))
    np.testing.assert_allclose(mt.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    x = mt.tensor([[1.0, 2.0]], dtype=mt.float64)
    assert mt.zeros_like(x).dtype == np.float64 and mt.ones_like(x).shape == (1, 2)
    assert mt.tensor([1, 2]).dtype == np.int64 and mt.tensor([1.5]).dtype == np.float32
    assert mt.tensor(np.zeros(2)).dtype == np.float64  # NumPy arrays keep their dtype
    arr = np.zeros(2)
    assert not np.shares_memory(mt.tensor(arr).data, arr)  # tensor() copies
    assert np.shares_memory(mt.from_numpy(arr).data, arr)  # from_numpy shares
    assert mt.tensor([mt.tensor(1.0), mt.tensor(2.0)]).shape == (2,)
    with pytest.raises(TypeError, match="mixed types"):
        mt.tensor([1.0, "a", None])
