"""Name -> optimizer class, for configs: `get("adamw", model.parameters(), lr=1e-3)`."""

from __future__ import annotations

from typing import Any

from .adam import Adam, Adamax, AdamW, NAdam, RAdam
from .adaptive import Adadelta, Adafactor, Adagrad, RMSprop, Rprop
from .layerwise import LAMB, LARS, Muon
from .lbfgs import LBFGS
from .linesearch import SteepestDescent
from .optimizer import Optimizer
from .sgd import ASGD, SGD, AcceleratedGD
from .sign import Lion, SignSGD, Signum
from .wrappers import Lookahead
from .zeroth import ZerothOrderSGD

_REGISTRY: dict[str, type] = {}


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def register(name: str, cls: type) -> None:
    """Make `cls` (an Optimizer subclass) available as get(name, ...)."""
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
        raise TypeError(f"register({name!r}, ...) expects an Optimizer subclass, got {cls!r}")
    _REGISTRY[name.lower()] = cls


for _cls in (SGD, ASGD, AcceleratedGD, Adagrad, RMSprop, Adadelta, Rprop, Adafactor, Adam,
             AdamW, Adamax, NAdam, RAdam, LBFGS, SteepestDescent, SignSGD, Signum, Lion, LAMB,
             LARS, Muon, Lookahead, ZerothOrderSGD):
    register(_cls.__name__.lower(), _cls)


def available() -> list[str]:
    """The sorted optimizer names that get() accepts (case, '_' and '-' are ignored)."""
    return sorted(_REGISTRY)


def lookup(name: str) -> type:
    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be a string, got {type(name).__name__}")
    by_key = {_key(n): cls for n, cls in _REGISTRY.items()}
    cls = by_key.get(_key(name))
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(available())}")
    return cls


def get(name: str, params: Any, **kwargs: Any) -> Optimizer:
    """Build optimizer `name` over `params`. For "lookahead" pass base_optimizer="adam"
    (a name) plus k / alpha; the other keyword arguments go to the inner optimizer."""
    cls = lookup(name)
    if cls is Lookahead:
        base = kwargs.pop("base_optimizer", None)
        if not isinstance(base, str):
            raise ValueError("get('lookahead', ...) needs base_optimizer='<name>' naming the "
                             f"inner optimizer; valid names: {', '.join(available())}")
        la = {k: kwargs.pop(k) for k in ("k", "alpha") if k in kwargs}
        return Lookahead(get(base, params, **kwargs), **la)
    return cls(params, **kwargs)
