"""DataLoader: shuffled mini-batches cut from whole arrays, optionally living on a GPU.

For an ArrayDataset (every dataset in minitorch.data) the arrays are moved to `device` once,
on first use; each batch is then one fancy-index per array on that device plus the batch
transforms, with no per-sample Python work. Other map-style datasets (anything with __len__
and __getitem__(int) returning a tuple of arrays) are collated sample by sample.

Shuffling uses the loader's own generator: the order of epoch e is a permutation drawn from a
PCG64 seeded with (seed, e), so it does not consume the framework's RNG (dropout masks stay
the same whether or not data is shuffled) and a resumed run gets the same order from
`state_dict()` (seed and epoch) alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import backend
from .. import random as _random
from ..tensor import Tensor
from .datasets import ArrayDataset


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`, as Tensors on `device`."""

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, device: Any = None, seed: int | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.device = backend.parse_device(device)
        if seed is None:  # follows mt.manual_seed without drawing from the framework's stream
            seed = _random.initial_seed()
        self.seed, self.epoch = int(seed), 0
        self._arrays: tuple | None = None

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    # ---- state for exact resumption -------------------------------------------------------
    def state_dict(self) -> dict:
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])

    def order(self, epoch: int) -> np.ndarray:
        """The sample order of an epoch (0, 1, ... n−1 unless shuffling)."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.Generator(np.random.PCG64([self.seed, epoch])).permutation(n)

    # ---- iteration ------------------------------------------------------------------------
    def _device_arrays(self) -> tuple:
        if self._arrays is None:
            self._arrays = tuple(backend.to_device(a, self.device) for a in self.dataset.arrays)
        return self._arrays

    def __iter__(self) -> Iterator[tuple]:
        order = self.order(self.epoch)
        self.epoch += 1
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        if isinstance(self.dataset, ArrayDataset):
            arrays = self._device_arrays()
            idx_all = backend.to_device(order, self.device) if self.shuffle else None
            for start in range(0, stop, bs):
                # contiguous slices need no copy when the order is the identity
                sel = idx_all[start:start + bs] if self.shuffle else slice(start, start + bs)
                batch = self.dataset.apply_transforms(tuple(a[sel] for a in arrays))
                yield tuple(Tensor._wrap(b) for b in batch)
        else:
            for start in range(0, stop, bs):
                samples = [self.dataset[int(i)] for i in order[start:start + bs]]
                fields = zip(*(s if isinstance(s, tuple) else (s,) for s in samples), strict=True)
                yield tuple(Tensor._wrap(backend.to_device(np.stack([np.asarray(v) for v in f]),
                                                           self.device)) for f in fields)

    def __repr__(self) -> str:
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, device={self.device!r})")
