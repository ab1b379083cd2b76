"""The framework's random number generators: one per device, seeded together by manual_seed.

Everything random in minitorch (initialisers, dropout, rand/randn, data shuffling defaults)
draws from here, so `manual_seed` makes a run reproducible and `get_rng_state` /
`set_rng_state` let checkpointing replay dropout masks and let a resumed run continue exactly.

CPU: NumPy's PCG64 Generator; its state is a plain dict.
CUDA: counter-based: each draw builds a Philox generator from (seed, counter), so the whole
state is two integers and replays exactly without touching CuPy's global generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backend

_DEFAULT_SEED = 0x5EED


class CudaGenerator:
    """Counter-based CuPy generator: state = (seed, counter)."""

    def __init__(self, seed: int, device: str) -> None:
        self.seed = int(seed)
        self.counter = 0
        self.device = device

    def _next(self) -> Any:
        mixed = (self.seed * 0x9E3779B97F4A7C15 + self.counter) % (2**63)
        self.counter += 1
        return backend.philox_state(mixed, self.device)

    def random(self, size: Any, dtype: Any = np.float64) -> Any:
        return self._next().random_sample(size=size, dtype=dtype)

    def standard_normal(self, size: Any, dtype: Any = np.float64) -> Any:
        return self._next().standard_normal(size=size, dtype=dtype)

    def uniform(self, low: float, high: float, size: Any) -> Any:
        return self._next().uniform(low, high, size=size)

    def normal(self, loc: float, scale: float, size: Any) -> Any:
        return self._next().normal(loc, scale, size=size)

    def integers(self, low: int, high: int, size: Any) -> Any:
        return self._next().randint(low, high, size=size)

    def permutation(self, n: int) -> Any:
        return self._next().permutation(n)

    def get_state(self) -> dict:
        return {"seed": self.seed, "counter": self.counter}

    def set_state(self, state: dict) -> None:
        self.seed = int(state["seed"])
        self.counter = int(state["counter"])


_seed = _DEFAULT_SEED
_cpu = np.random.Generator(np.random.PCG64(_seed))
_cuda: dict[str, CudaGenerator] = {}


def manual_seed(seed: int) -> None:
    """Seed every generator the framework uses (CPU and all CUDA devices)."""
    global _seed, _cpu
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _seed = int(seed) % (2**63)
    _cpu = np.random.Generator(np.random.PCG64(_seed))
    for gen in _cuda.values():
        gen.seed, gen.counter = _seed, 0


def initial_seed() -> int:
    return _seed


def generator(device: str = "cpu") -> Any:
    """The generator for a normalised device string."""
    if device == "cpu":
        return _cpu
    gen = _cuda.get(device)
    if gen is None:
        gen = _cuda[device] = CudaGenerator(_seed, device)
    return gen


def get_rng_state() -> dict:
    """All generator states as plain Python data (serialisable with mt.save)."""
    return {
        "seed": _seed,
        "cpu": _cpu.bit_generator.state,
        "cuda": {dev: gen.get_state() for dev, gen in _cuda.items()},
    }


def set_rng_state(state: dict) -> None:
    global _seed
    _seed = int(state["seed"])
    _cpu.bit_generator.state = state["cpu"]
    for dev, st in state.get("cuda", {}).items():
        gen = _cuda.get(dev)
        if gen is None:
            gen = _cuda[dev] = CudaGenerator(_seed, dev)
        gen.set_state(st)


class fork_rng:  # noqa: N801  (context manager used like a function, as in PyTorch)
    """Save every generator state on entry and restore it on exit."""

    def __enter__(self) -> None:
        self._state = get_rng_state()

    def __exit__(self, *exc: Any) -> None:
        set_rng_state(self._state)
