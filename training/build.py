"""From a resolved config to the objects of a run: datasets, model, optimiser, scheduler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import minitorch.optim as optim
from minitorch import data
from minitorch.data import transforms as T
from minitorch.optim import lr_scheduler
from models import MODELS

from .config import ConfigError
from .registry import AUTO_ARGS

_DATASETS = {"mnist": data.MNIST, "fashion_mnist": data.FashionMNIST, "cifar10": data.CIFAR10}


@dataclass
class Data:
    train: Any
    test: Any
    val: Any = None  # a held-out part of the training set when data.val_split > 0
    in_features: int = 0
    num_classes: int = 0
    notes: list = field(default_factory=list)  # what train.py should tell the user
    source: str = ""


def load_data(cfg: dict) -> Data:
    """Read the dataset the config names; MNIST falls back to the embedded sample when no root
    was given and the full set is absent (the fallback is announced through `notes`)."""
    d = cfg["data"]
    cls = _DATASETS[d["name"]]
    notes = []
    try:
        train = cls(d["root"], train=True, download=d["download"])
        test = cls(d["root"], train=False, download=d["download"])
    except data.DatasetNotFoundError:
        if d["name"] != "mnist" or d["root"] is not None or d["download"]:
            raise
        train, test = data.MNISTSample(train=True), data.MNISTSample(train=False)
        notes.append(
            f"full MNIST not found ({', '.join(cls.search_dirs(None))}): training on the "
            f"embedded sample of real MNIST digits ({len(train):,} train / {len(test):,} test); "
            "pass --data-dir DIR for the full 60,000 / 10,000 set")
    steps = [T.ToFloat()]
    if d["normalize"]:
        steps.append(T.Normalize(train.mean, train.std))
    test.transform = T.Compose([*steps, T.Flatten()])
    # augmentation for training only
    flip = [T.RandomHorizontalFlip()] if d["hflip"] else []
    train.transform = T.Compose([*steps, *flip, T.Flatten()])
    val = None
    if d["val_split"] > 0:
        n_val = int(round(len(train) * d["val_split"]))
        if not 0 < n_val < len(train):
            raise ConfigError(f"config: data.val_split {d['val_split']} leaves no samples for "
                              f"training or validation out of {len(train)}")
        train, val = data.random_split(train, [len(train) - n_val, n_val],
                                       seed=cfg["train"]["seed"])
        val.transform = test.transform
    sample = test.arrays[0][:1]
    return Data(train=train, test=test, val=val,
                in_features=int(test.transform(sample).shape[1]),
                num_classes=len(test.classes), notes=notes, source=test.source)


def build_model(cfg: dict, in_features: int, num_classes: int) -> Any:
    kwargs = {k: v for k, v in cfg["model"].items() if k != "name"}
    try:
        return MODELS[cfg["model"]["name"]](in_features=in_features, num_classes=num_classes,
                                            **kwargs)
    except ValueError as exc:
        raise ConfigError(f"config: model: {exc}") from None


def build_optimizer(cfg: dict, params: Any) -> Any:
    kwargs = {k: tuple(v) if isinstance(v, list) else v
              for k, v in cfg["optimizer"].items() if k != "name"}
    try:
        return optim.get(cfg["optimizer"]["name"], params, **kwargs)
    except ValueError as exc:
        raise ConfigError(f"config: optimizer: {exc}") from None


def build_scheduler(cfg: dict, optimizer: Any, steps_per_epoch: int) -> Any:
    """The scheduler, or None; "auto" T_max / total_steps become the run's length in the
    scheduler's interval (epochs, or optimiser steps for interval: step)."""
    s = cfg["scheduler"]
    if s["name"] is None:
        return None
    epochs = cfg["train"]["epochs"]
    length = epochs if s["interval"] == "epoch" else epochs * steps_per_epoch
    kwargs = {}
    for k, v in s.items():
        if k in ("name", "interval"):
            continue
        if k in AUTO_ARGS and isinstance(v, str):
            if v != "auto":
                raise ConfigError(f"config: scheduler.{k} must be a number or auto, got {v!r}")
            v = length
        kwargs[k] = tuple(v) if isinstance(v, list) else v
    try:
        return lr_scheduler.get(s["name"], optimizer, **kwargs)
    except ValueError as exc:
        raise ConfigError(f"config: scheduler: {exc}") from None
