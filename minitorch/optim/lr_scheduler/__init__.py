"""Learning-rate schedules, PyTorch's signatures and values (torch.optim.lr_scheduler),
plus InverseTimeLR; `get(name, optimizer, **kwargs)` builds one by name for configs."""

from __future__ import annotations

from typing import Any

from ..optimizer import Optimizer
from .base import LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .cyclic import CyclicLR, OneCycleLR
from .decay import (
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    InverseTimeLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from .plateau import ReduceLROnPlateau

__all__ = [
    "ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "CyclicLR", "ExponentialLR", "InverseTimeLR", "LRScheduler", "LambdaLR", "LinearLR",
    "MultiStepLR", "MultiplicativeLR", "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau",
    "SequentialLR", "StepLR", "available", "get", "register",
]

_REGISTRY: dict[str, type] = {}


def register(name: str, cls: type) -> None:
    """Make `cls` (an LRScheduler subclass) available as get(name, ...)."""
    if not (isinstance(cls, type) and issubclass(cls, LRScheduler)):
        raise TypeError(f"register({name!r}, ...) expects an LRScheduler subclass, got {cls!r}")
    _REGISTRY[name.lower()] = cls


for _cls in (LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ConstantLR, LinearLR,
             ExponentialLR, PolynomialLR, InverseTimeLR, CosineAnnealingLR,
             CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR, ReduceLROnPlateau,
             SequentialLR, ChainedScheduler):
    register(_cls.__name__.lower(), _cls)


def available() -> list[str]:
    """Sorted scheduler names for get(); case, '_', '-' and a trailing 'lr' are optional."""
    return sorted(_REGISTRY)


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def lookup(name: str) -> type:
    if not isinstance(name, str):
        raise TypeError(f"scheduler name must be a string, got {type(name).__name__}")
    by_key = {_key(n): cls for n, cls in _REGISTRY.items()}
    key = _key(name)
    cls = by_key.get(key) or by_key.get(key + "lr")
    if cls is None:
        raise ValueError(f"unknown lr scheduler {name!r}; valid names: {', '.join(available())}")
    return cls


def _child(spec: Any, optimizer: Optimizer) -> Any:
    """A scheduler, or a config dict {'name': ..., **kwargs} built with get()."""
    if isinstance(spec, dict):
        spec = dict(spec)
        if "name" not in spec:
            raise ValueError(f"a scheduler given as a dict needs a 'name' entry, got {spec}")
        return get(spec.pop("name"), optimizer, **spec)
    return spec


def get(name: str, optimizer: Optimizer, **kwargs: Any) -> LRScheduler:
    """Build scheduler `name` for `optimizer`. SequentialLR / ChainedScheduler accept
    `schedulers` as scheduler objects or as dicts {'name': ..., **kwargs}."""
    cls = lookup(name)
    if cls in (SequentialLR, ChainedScheduler):
        kwargs["schedulers"] = [_child(s, optimizer) for s in kwargs.get("schedulers", [])]
    if cls is ChainedScheduler:
        return ChainedScheduler(optimizer=optimizer, **kwargs)
    return cls(optimizer, **kwargs)
