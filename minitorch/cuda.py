"""mt.cuda: is the GPU usable, how many, synchronise."""

from __future__ import annotations

from . import backend


def is_available() -> bool:
    return backend.is_cuda_available()


def device_count() -> int:
    return backend.device_count()


def synchronize(device: str = "cuda:0") -> None:
    backend.synchronize(device)


def manual_seed(seed: int) -> None:
    from . import random

    random.manual_seed(seed)
