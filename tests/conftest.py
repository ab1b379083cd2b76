"""Shared fixtures: the `device` fixture runs a test on the CPU and, where CuPy sees a GPU, on
CUDA too (those cases carry the `gpu` mark). `pytest --device cuda` runs only the GPU cases,
`--device cpu` only the CPU ones; the default is every available device."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import minitorch as mt
from minitorch import backend

# property-based tests: a fixed budget and no deadline (a loaded 2-core CI machine is slow);
# the autouse seeding fixture is harmless for @given tests (each example reseeds nothing)
settings.register_profile("minitorch", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile("minitorch")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--device", action="store", default="all", choices=("all", "cpu", "cuda"),
                     help="which devices the `device` fixture runs tests on")


def _devices(config: pytest.Config) -> list:
    choice = config.getoption("--device")
    devs = []
    if choice in ("all", "cpu"):
        devs.append("cpu")
    if choice in ("all", "cuda"):
        devs.append(pytest.param("cuda", marks=pytest.mark.gpu))
    return devs


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", _devices(metafunc.config))


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if backend.is_cuda_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Every test starts from the same framework and NumPy seeds."""
    mt.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002  (tests that use NumPy's global generator)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
