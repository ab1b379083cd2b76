"""Hyper-parameter search (seed 002): grid search over the product of value lists, or random
search drawing each trial's values from lists or distributions. One run directory per trial
and a summary sorted by the best test accuracy.

Sweep file:
    method: grid            # or random
    samples: 8              # random only: how many trials
    seed: 0                 # random only: the sampler's seed
    parameters:             # dotted config keys
      optimizer.lr: [0.1, 0.03, 0.01]              # grid: every value; random: one of them
      model.dropout: {uniform: [0.0, 0.5]}         # random only
      optimizer.weight_decay: {log_uniform: [1.0e-5, 1.0e-2]}
      train.batch_size: {int_uniform: [64, 256]}   # inclusive bounds
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from typing import Any

import numpy as np

from . import config, files
from .build import load_data
from .loop import Trainer, TrainingDiverged

METHODS = ("grid", "random")
DISTRIBUTIONS = ("uniform", "log_uniform", "int_uniform", "choice")
_TOP_KEYS = ("method", "samples", "seed", "parameters")


def _err(path: str, msg: str) -> config.ConfigError:
    return config.ConfigError(f"sweep {path}: {msg}")


def read_sweep(path: str) -> dict:
    spec = config.read_file(path)
    for k in spec:
        if k not in _TOP_KEYS:
            raise _err(path, f"unknown key {k!r}; valid keys: {', '.join(_TOP_KEYS)}")
    method = spec.get("method", "grid")
    if method not in METHODS:
        raise _err(path, f"method {method!r} is not one of: {', '.join(METHODS)}")
    params = spec.get("parameters")
    if not isinstance(params, dict) or not params:
        raise _err(path, "parameters must be a non-empty mapping of config keys to values")
    for key, space in params.items():
        if isinstance(space, dict):
            if len(space) != 1 or next(iter(space)) not in DISTRIBUTIONS:
                raise _err(path, f"{key}: a distribution is one of "
                                 f"{', '.join(DISTRIBUTIONS)}, e.g. {{uniform: [0.0, 0.5]}}")
            (dist, args), = space.items()
            if method == "grid" and dist != "choice":
                raise _err(path, f"{key}: grid search needs a list of values, not {dist}")
            if dist != "choice" and (not isinstance(args, list) or len(args) != 2 or not all(
                    isinstance(a, (int, float)) and not isinstance(a, bool) for a in args)):
                raise _err(path, f"{key}: {dist} takes [low, high], got {args!r}")
            if dist == "log_uniform" and min(args) <= 0:
                raise _err(path, f"{key}: log_uniform needs positive bounds, got {args}")
            if dist == "choice" and (not isinstance(args, list) or not args):
                raise _err(path, f"{key}: choice takes a non-empty list, got {args!r}")
        elif not isinstance(space, list) or not space:
            raise _err(path, f"{key}: give a non-empty list of values or a distribution")
    samples = spec.get("samples", 10)
    if method == "random" and (isinstance(samples, bool) or not isinstance(samples, int)
                               or samples < 1):
        raise _err(path, f"samples must be an int >= 1, got {samples!r}")
    seed = spec.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise _err(path, f"seed must be an int, got {seed!r}")
    return {"method": method, "samples": samples, "seed": seed, "parameters": params}


def _values(space: Any) -> list:
    return space["choice"] if isinstance(space, dict) else space


def trials(spec: dict) -> list:
    """The override lists, one per trial: [(key, value), ...]."""
    keys = list(spec["parameters"])
    if spec["method"] == "grid":
        grids = [_values(spec["parameters"][k]) for k in keys]
        return [list(zip(keys, combo, strict=True)) for combo in itertools.product(*grids)]
    rng = np.random.Generator(np.random.PCG64(spec["seed"]))
    out = []
    for _ in range(spec["samples"]):
        trial = []
        for k in keys:
            space = spec["parameters"][k]
            dist, args = next(iter(space.items())) if isinstance(space, dict) \
                else ("choice", space)
            if dist == "choice":
                value = args[int(rng.integers(len(args)))]
            elif dist == "uniform":
                value = float(rng.uniform(args[0], args[1]))
            elif dist == "log_uniform":
                value = float(math.exp(rng.uniform(math.log(args[0]), math.log(args[1]))))
            else:
                value = int(rng.integers(int(args[0]), int(args[1]) + 1))
            trial.append((k, value))
        out.append(trial)
    return out


def _label(trial: list) -> str:
    return ", ".join(f"{k}={v}" for k, v in trial)


def run_sweep(path: str, config_path: str, overrides: list, out: str | None,
              progress: bool | None = None, log: Any = print) -> int:
    spec = read_sweep(path)
    base = config.read_file(config_path)
    plan = []
    for trial in trials(spec):
        try:
            cfg = config.resolve(config.apply_overrides(base, [*overrides, *trial]))
        except config.ConfigError as exc:
            raise config.ConfigError(f"sweep trial ({_label(trial)}): {exc}") from None
        plan.append((trial, cfg))
    stem = os.path.splitext(os.path.basename(config_path))[0]
    out = out or os.path.join("runs", f"sweep-{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    if os.path.exists(os.path.join(out, "summary.json")):
        raise config.ConfigError(f"{out} already holds a sweep; choose another --out")
    os.makedirs(out, exist_ok=True)
    log(f"sweep: {spec['method']} search, {len(plan)} trials, in {out}")
    data_cache: dict = {}
    rows = []
    for i, (trial, cfg) in enumerate(plan):
        run_dir = os.path.join(out, f"trial-{i:03d}")
        os.makedirs(run_dir, exist_ok=True)
        files.write_config(run_dir, cfg)
        key = json.dumps([cfg["data"], cfg["train"]["seed"]])
        if key not in data_cache:
            data_cache[key] = load_data(cfg)
            for note in data_cache[key].notes:
                log(f"note: {note}")
        log(f"--- trial {i + 1}/{len(plan)}: {_label(trial)}")
        row = {"trial": i, "run_dir": run_dir, **{k: v for k, v in trial}}
        try:
            outcome = Trainer(cfg, run_dir, data=data_cache[key], log=log,
                              progress=progress).fit()
            best = max(outcome.metrics, key=lambda m: m["test_acc"])
            row.update(best_test_acc=best["test_acc"], best_epoch=best["epoch"],
                       final_test_acc=outcome.metrics[-1]["test_acc"], status="ok")
        except TrainingDiverged as exc:
            log(f"trial {i + 1} diverged: {exc}")
            row.update(best_test_acc=None, best_epoch=None, final_test_acc=None,
                       status="diverged")
        rows.append(row)
    rows.sort(key=lambda r: -1.0 if r["best_test_acc"] is None else r["best_test_acc"],
              reverse=True)
    files.write_text_atomic(os.path.join(out, "summary.json"), json.dumps(rows, indent=1))
    log(format_table(rows, list(spec["parameters"])))
    return 0


def format_table(rows: list, keys: list) -> str:
    head = ["rank", *keys, "best test acc", "epoch", "final test acc", "run"]
    def acc(v: float | None) -> str:
        return "diverged" if v is None else f"{100 * v:.2f}%"

    body = [[str(rank), *(str(r[k]) for k in keys), acc(r["best_test_acc"]),
             str(r["best_epoch"] or "-"), acc(r["final_test_acc"]), r["run_dir"]]
            for rank, r in enumerate(rows, 1)]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]

    def line(cells: list) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, body)])
