"""Config names -> classes: models (models.MODELS), optimisers and schedulers (minitorch.optim).

The keys a config section accepts are the keyword arguments of the named class; their types
come from its signature (annotations, else the default's type).
"""

from __future__ import annotations

import inspect
from typing import Any

import minitorch.optim as optim
from minitorch.optim import lr_scheduler
from minitorch.optim import registry as optim_registry
from models import MODELS

REQUIRED = object()  # a keyword argument without a default
# arguments that the trainer supplies itself and a config therefore cannot set
_SUPPLIED = {"self", "params", "optimizer", "in_features", "num_classes", "last_epoch",
             "verbose"}
# a scheduler argument given as "auto" is filled in when the run is built (see build.py)
AUTO_ARGS = ("T_max", "total_steps")

_WORDS = {"float": "float", "int": "int", "bool": "bool", "str": "str", "None": "none",
          "dict": "mapping", "Any": "any"}


def _kinds_of_annotation(text: str) -> tuple | None:
    kinds = []
    for part in (p.strip() for p in text.split("|")):
        base, _, inner = part.partition("[")
        base = base.split(".")[-1]
        if base in _WORDS:
            kinds.append(_WORDS[base])
        elif base in ("Sequence", "list", "tuple", "Iterable", "List", "Tuple"):
            elem = inner.rstrip("]").split(",")[0].strip()
            kinds.append("list:" + _WORDS.get(elem, "any") if elem in _WORDS else "list")
        else:
            return None  # a type a YAML config cannot express precisely: accept anything
    return tuple(kinds)


def _kinds_of_default(default: Any) -> tuple:
    for t, kind in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str")):
        if isinstance(default, t):
            return (kind,)
    if isinstance(default, (list, tuple)):
        return ("list",)
    return ("any",)


def signature_spec(cls: Any) -> dict:
    """{keyword: (accepted kinds, default or REQUIRED)} for the constructor of cls."""
    spec = {}
    for name, p in inspect.signature(cls).parameters.items():
        if name in _SUPPLIED or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        required = p.default is p.empty or type(p.default).__name__ == "_Required"
        default = REQUIRED if required else p.default
        ann = p.annotation if isinstance(p.annotation, str) else getattr(
            p.annotation, "__name__", "") if p.annotation is not p.empty else ""
        kinds = _kinds_of_annotation(ann) if ann else None
        if kinds is None:
            kinds = _kinds_of_default(default) if not required else ("any",)
        if default is None and "none" not in kinds:
            kinds = (*kinds, "none")
        if name in AUTO_ARGS:
            kinds = (*kinds, "str")
        spec[name] = (kinds, default)
    return spec


def model_names() -> list:
    return sorted(MODELS)


def model_spec(name: str) -> dict:
    return signature_spec(MODELS[name])


def optimizer_names() -> list:
    return sorted(optim.available())


def optimizer_spec(name: str) -> dict:
    """Raises KeyError for an unknown name (lookup ignores case, '_' and '-')."""
    try:
        return signature_spec(optim_registry.lookup(name))
    except ValueError:
        raise KeyError(name) from None


def scheduler_names() -> list:
    return sorted(lr_scheduler.available())


def scheduler_spec(name: str) -> dict:
    try:
        return signature_spec(lr_scheduler.lookup(name))
    except ValueError:
        raise KeyError(name) from None
