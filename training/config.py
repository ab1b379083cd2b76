"""Experiment configs: YAML sections data / model / optimizer / scheduler / train, validated.

`resolve(raw)` merges a user config onto the defaults and checks it: an unknown key, a value of
the wrong type or an unknown name (dataset, model, optimiser, scheduler) raises ConfigError
naming the key and the valid choices. The result is fully explicit (every default filled in),
which is what a run directory's config.yaml records.

Keys of `model`, `optimizer` and `scheduler` other than `name` (and the scheduler's
`interval`) are the keyword arguments of the chosen class, checked against its signature.
"""

from __future__ import annotations

import copy
import difflib
import re
from typing import Any

import yaml

from . import registry


class ConfigError(ValueError):
    """A config (file, --set override or checkpoint) is missing, malformed or invalid."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads 1e-3 as a float (YAML 1.1 would make it a string)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)

DATASETS = ("mnist", "fashion_mnist", "cifar10")
DEFAULTS: dict = {
    "data": {"name": "mnist", "root": None, "download": False, "normalize": True,
             "hflip": False, "val_split": 0.0},
    "model": {"name": "mlp"},
    "optimizer": {"name": "sgd", "lr": 0.01},
    "scheduler": {"name": None},
    "train": {
        "epochs": 10, "batch_size": 128, "drop_last": False, "eval_batch_size": 1000, "seed": 0,
        "device": "cpu",
        "loss_ema": 0.05, "grad_clip": None, "log_every": 10,
        "early_stopping": {"patience": None, "min_delta": 0.0, "weight_change_tol": None,
                           "loss_change_tol": None, "grad_norm_tol": None},
    },
}
# type of each fixed key: a tuple of accepted kinds ("int" excludes bool; "float" takes ints)
_FIXED_TYPES = {
    "data.name": ("str",), "data.root": ("str", "none"), "data.download": ("bool",),
    "data.normalize": ("bool",), "data.hflip": ("bool",), "data.val_split": ("float",),
    "train.epochs": ("int",), "train.batch_size": ("int",), "train.drop_last": ("bool",),
    "train.eval_batch_size": ("int",),
    "train.seed": ("int",), "train.device": ("str",), "train.loss_ema": ("float",),
    "train.grad_clip": ("float", "none"), "train.log_every": ("int",),
    "train.early_stopping.patience": ("int", "none"),
    "train.early_stopping.min_delta": ("float",),
    "train.early_stopping.weight_change_tol": ("float", "none"),
    "train.early_stopping.loss_change_tol": ("float", "none"),
    "train.early_stopping.grad_norm_tol": ("float", "none"),
}


# ---- reading ----------------------------------------------------------------------------------
def parse_yaml(text: str, where: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: malformed YAML{at}: {problem}") from None


def read_file(path: str) -> dict:
    """The raw mapping in a YAML config file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read ({exc})") from None
    raw = parse_yaml(text, path)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config is a mapping of sections "
                          f"({', '.join(DEFAULTS)}), found {type(raw).__name__}")
    return raw


def parse_override(item: str) -> tuple:
    """`section.key=value` -> (key, value), the value read as YAML (3e-4, [512, 256], null)."""
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {item!r}: expected section.key=value, e.g. optimizer.lr=0.01")
    return key, parse_yaml(value, f"--set {item!r}")


def apply_overrides(raw: dict, overrides: list) -> dict:
    """A copy of raw with (dotted key, value) pairs set, e.g. ("optimizer.lr", 0.01)."""
    out = copy.deepcopy(raw)
    for key, value in overrides:
        parts = key.split(".")
        if parts[0] not in DEFAULTS:
            raise ConfigError(f"--set {key}: unknown section {parts[0]!r}; valid sections: "
                              f"{', '.join(DEFAULTS)}")
        node = out
        for p in parts[:-1]:
            if node.get(p) is None:
                node[p] = {}
            if not isinstance(node[p], dict):
                raise ConfigError(f"--set {key}: {p} is not a section")
            node = node[p]
        node[parts[-1]] = value
    return out


# ---- checking ---------------------------------------------------------------------------------
def _kind(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    return "mapping" if isinstance(value, dict) else type(value).__name__


def _names(kinds: tuple) -> str:
    words = {"int": "an int", "float": "a number", "str": "a string", "bool": "true or false",
             "none": "null", "list": "a list", "mapping": "a mapping"}
    return " or ".join(words.get(k, k) for k in kinds)


def check_type(key: str, value: Any, kinds: tuple) -> None:
    """Raise ConfigError unless value is one of kinds ("float" accepts ints, "list:int" …)."""
    kind = _kind(value)
    if kind in kinds or "any" in kinds or (kind == "int" and "float" in kinds):
        return
    for k in kinds:
        if k.startswith("list") and kind == "list":
            inner = tuple(k.split(":", 1)[1].split("|")) if ":" in k else ("any",)
            for i, v in enumerate(value):
                check_type(f"{key}[{i}]", v, inner)
            return
    shown = f"{value!r} ({kind})" if kind not in ("mapping", "list") else kind
    raise ConfigError(f"config: {key} must be {_names(kinds)}, got {shown}")


def unknown_key(section: str, key: str, valid: Any) -> ConfigError:
    valid = sorted(valid)
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return ConfigError(f"config: unknown key {section}.{key}{hint}; valid keys: "
                       f"{', '.join(valid)}")


def check_choice(key: str, value: Any, choices: Any) -> None:
    if value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"config: {key} {value!r} is not one of: "
                          f"{', '.join(str(c) for c in choices)}{hint}")


def _merge_fixed(section: str, defaults: dict, given: Any) -> dict:
    """Defaults overlaid with the given mapping; every key must exist in the defaults."""
    if given is None:
        given = {}
    check_type(section, given, ("mapping",))
    out = copy.deepcopy(defaults)
    for k, v in given.items():
        if k not in defaults:
            raise unknown_key(section, k, defaults)
        if isinstance(defaults[k], dict):
            out[k] = _merge_fixed(f"{section}.{k}", defaults[k], v)
        else:
            check_type(f"{section}.{k}", v, _FIXED_TYPES[f"{section}.{k}"])
            out[k] = v
    return out


def _check_kwargs(section: str, given: dict, spec: dict) -> dict:
    """`given` checked against spec {kwarg: (kinds, default)}; returns defaults filled in."""
    out = {}
    for k, v in given.items():
        if k not in spec:
            raise unknown_key(section, k, spec)
        check_type(f"{section}.{k}", v, spec[k][0])
        out[k] = list(v) if isinstance(v, tuple) else v
    for k, (_, default) in spec.items():
        if k not in out:
            if default is registry.REQUIRED:
                raise ConfigError(f"config: {section}.{k} is required for "
                                  f"{section} {given.get('name', '')!r}".replace(" ''", ""))
            out[k] = list(default) if isinstance(default, tuple) else default
    return out


def _named_section(section: str, given: Any, names: list, spec_of: Any,
                   extra: dict | None = None) -> dict:
    check_type(section, given, ("mapping",))
    if "name" not in given:
        raise ConfigError(f"config: {section}.name is required; choose one of "
                          f"{', '.join(names)}")
    name = given["name"]
    check_type(f"{section}.name", name, ("str",))
    try:
        name_spec = spec_of(name)
    except KeyError:
        check_choice(f"{section}.name", name, names)
        raise
    extra = extra or {}
    kwargs = {k: v for k, v in given.items() if k != "name" and k not in extra}
    for k, (kinds, default, choices) in extra.items():
        value = given.get(k, default)
        check_type(f"{section}.{k}", value, kinds)
        check_choice(f"{section}.{k}", value, choices)
        kwargs[k] = value
    spec = {**name_spec, **{k: (v[0], v[1]) for k, v in extra.items()}}
    return {"name": name, **_check_kwargs(section, kwargs, spec)}


def resolve(raw: dict) -> dict:
    """The validated, fully explicit config for a raw user mapping."""
    check_type("config", raw, ("mapping",))
    for section in raw:
        if section not in DEFAULTS:
            raise ConfigError(f"config: unknown section {section!r}; valid sections: "
                              f"{', '.join(DEFAULTS)}")
    cfg = {
        "data": _merge_fixed("data", DEFAULTS["data"], raw.get("data")),
        "train": _merge_fixed("train", DEFAULTS["train"], raw.get("train")),
    }
    check_choice("data.name", cfg["data"]["name"], DATASETS)
    if not 0.0 <= cfg["data"]["val_split"] < 1.0:
        raise ConfigError(f"config: data.val_split must be in [0, 1), got "
                          f"{cfg['data']['val_split']}")
    t = cfg["train"]
    for key in ("epochs", "batch_size", "eval_batch_size", "log_every"):
        if t[key] < 1:
            raise ConfigError(f"config: train.{key} must be >= 1, got {t[key]}")
    if not 0.0 < t["loss_ema"] <= 1.0:
        raise ConfigError(f"config: train.loss_ema (λ of Q̄ ← λ·loss + (1−λ)·Q̄) must be in "
                          f"(0, 1], got {t['loss_ema']}")
    model = raw.get("model") if raw.get("model") is not None else {}
    if isinstance(model, dict):  # one model family so far: its name may be left out
        model = {**DEFAULTS["model"], **model}
    cfg["model"] = _named_section("model", model, registry.model_names(), registry.model_spec)
    opt = raw.get("optimizer") if raw.get("optimizer") is not None else DEFAULTS["optimizer"]
    cfg["optimizer"] = _named_section("optimizer", opt, registry.optimizer_names(),
                                      registry.optimizer_spec)
    sched = raw.get("scheduler")
    if sched is None or (isinstance(sched, dict) and sched.get("name") is None):
        if isinstance(sched, dict) and set(sched) - {"name"}:
            raise ConfigError("config: scheduler has settings but no name; set scheduler.name "
                              f"to one of {', '.join(registry.scheduler_names())}")
        cfg["scheduler"] = {"name": None}
    else:
        interval = {"interval": (("str",), "epoch", ("epoch", "step"))}
        cfg["scheduler"] = _named_section("scheduler", sched, registry.scheduler_names(),
                                          registry.scheduler_spec, interval)
    return {k: cfg[k] for k in DEFAULTS}


class _Dumper(yaml.SafeDumper):
    """Sections as blocks, lists on one line ([512, 256])."""


_Dumper.add_representer(list, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v,
                                                                flow_style=True))


def dump(cfg: dict) -> str:
    return yaml.dump(cfg, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
