"""Batch transforms: each maps a whole batch array (leading dim N) on whatever device it lives,
NumPy or CuPy, so a loader applies them once per batch instead of once per sample."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..backend import device_of, get_array_module


class Compose:
    """Apply transforms in order: t_n(... t_1(x))."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        return f"Compose({', '.join(repr(t) for t in self.transforms)})"


class ToFloat:
    """x -> float32(x) * scale; scale = 1/255 maps uint8 pixels to [0, 1]."""

    def __init__(self, scale: float = 1.0 / 255.0, dtype: Any = np.float32) -> None:
        self.scale, self.dtype = float(scale), np.dtype(dtype)

    def __call__(self, x: Any) -> Any:
        out = x.astype(self.dtype)
        out *= self.dtype.type(self.scale)
        return out

    def __repr__(self) -> str:
        return f"ToFloat(scale={self.scale:g}, dtype={self.dtype})"


class Normalize:
    """(x − mean) / std, per channel: channel c is dim 1 of an (N, C, ...) batch; a single value
    applies to every element."""

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.shape != self.std.shape or self.mean.ndim != 1:
            raise ValueError(f"Normalize: mean and std need the same length, got "
                             f"{self.mean.shape[0]} and {self.std.shape[0]}")
        if np.any(self.std <= 0):
            raise ValueError(f"Normalize: std must be positive, got {self.std.tolist()}")

    def __call__(self, x: Any) -> Any:
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a floating batch, got {x.dtype} "
                            "(put ToFloat first)")
        xp = get_array_module(x)
        c = self.mean.shape[0]
        shape = (1, c) + (1,) * (x.ndim - 2) if c > 1 else (1,) * x.ndim
        if c > 1 and (x.ndim < 2 or x.shape[1] != c):
            raise ValueError(f"Normalize: {c} channel statistics for a batch of shape {x.shape} "
                             "(channels should be dim 1)")
        mean = xp.asarray(self.mean.reshape(shape), dtype=x.dtype)
        inv_std = xp.asarray((1.0 / self.std).reshape(shape), dtype=x.dtype)
        return (x - mean) * inv_std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class RandomHorizontalFlip:
    """Mirror each image of an (N, ..., H, W) batch left-right with probability p (data
    augmentation). Draws from the framework RNG of the batch's device, so mt.manual_seed and
    a checkpoint's RNG state reproduce the flips."""

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = float(p)

    def __call__(self, x: Any) -> Any:
        xp = get_array_module(x)
        flip = _random.generator(device_of(x)).random(x.shape[0]) < self.p
        return xp.where(flip.reshape((-1,) + (1,) * (x.ndim - 1)), x[..., ::-1], x)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class Flatten:
    """(N, d1, d2, ...) -> (N, d1·d2·...), the input layout of an MLP."""

    def __call__(self, x: Any) -> Any:
        return x.reshape(x.shape[0], -1)

    def __repr__(self) -> str:
        return "Flatten()"
