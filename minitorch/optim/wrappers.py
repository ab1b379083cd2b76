"""Lookahead: an optimizer that wraps any other one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from .optimizer import Optimizer, _cast_like, _copy_tree, check_range


class Lookahead(Optimizer):
    """Lookahead (Zhang, Lucas, Hinton & Ba 2019, "k steps forward, 1 step back"):
    the inner optimizer moves the fast weights w; every k steps the slow weights move
    phi <- phi + alpha*(w - phi) and the fast weights restart from them, w <- phi.
    phi_0 is w at the first step. It shares the inner optimizer's param_groups, so an LR
    scheduler on the Lookahead drives the inner learning rate; its state_dict holds the
    inner optimizer's state_dict under 'base_optimizer'."""

    def __init__(self, base_optimizer: Optimizer, k: int = 5, alpha: float = 0.5) -> None:
        if not isinstance(base_optimizer, Optimizer):
            raise TypeError(f"Lookahead wraps an Optimizer, got {type(base_optimizer).__name__}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"Invalid k: {k!r} (expected an int >= 1)")
        check_range("alpha", alpha, 0.0, 1.0)
        self.base_optimizer = base_optimizer
        self.k, self.alpha = k, float(alpha)
        self.param_groups = base_optimizer.param_groups  # shared: schedulers see the inner lr
        self.defaults = base_optimizer.defaults
        self.state: defaultdict = defaultdict(dict)  # per parameter: {'slow': array}
        self.lookahead_step = 0

    def add_param_group(self, param_group: dict) -> None:
        self.base_optimizer.add_param_group(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.base_optimizer.zero_grad(set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        params = self._params()
        for p in params:
            st = self.state[p]
            if "slow" not in st:
                st["slow"] = p.data.copy()
            else:
                self._follow_device(p, st)
        loss = self.base_optimizer.step(closure)
        self.lookahead_step += 1
        if self.lookahead_step % self.k == 0:
            for p in params:
                slow = self.state[p]["slow"]
                slow += self.alpha * (p.data - slow)
                p.data[...] = slow
        return loss

    def to(self, device: Any = None) -> Lookahead:
        super().to(device)
        self.base_optimizer.to(device)
        return self

    def state_dict(self) -> dict:
        params = self._params()
        return {
            "base_optimizer": self.base_optimizer.state_dict(),
            "slow": {i: _copy_tree(self.state[p]["slow"]) for i, p in enumerate(params)
                     if "slow" in self.state.get(p, {})},
            "k": self.k,
            "alpha": self.alpha,
            "lookahead_step": self.lookahead_step,
        }

    def load_state_dict(self, state_dict: dict) -> None:
        keys = {"base_optimizer", "slow", "k", "alpha", "lookahead_step"}
        if not isinstance(state_dict, dict) or set(state_dict) != keys:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict)
            raise ValueError(f"Lookahead state_dict must have the keys {sorted(keys)}, got {got}")
        params = self._params()
        for i, slow in state_dict["slow"].items():
            if not isinstance(i, int) or not 0 <= i < len(params):
                raise ValueError(f"Lookahead state_dict has slow weights for parameter {i!r}, "
                                 f"but the optimizer has {len(params)} parameters")
            if tuple(slow.shape) != tuple(params[i].shape):
                raise ValueError(f"Lookahead slow weights for parameter {i} have shape "
                                 f"{tuple(slow.shape)}, the parameter {tuple(params[i].shape)}")
        self.base_optimizer.load_state_dict(state_dict["base_optimizer"])
        self.param_groups = self.base_optimizer.param_groups
        self.state = defaultdict(dict)
        for i, slow in state_dict["slow"].items():
            self.state[params[i]]["slow"] = _cast_like(slow, params[i].data)
        self.k = int(state_dict["k"])
        self.alpha = float(state_dict["alpha"])
        self.lookahead_step = int(state_dict["lookahead_step"])

    def __repr__(self) -> str:
        inner = "\n".join("  " + line for line in repr(self.base_optimizer).splitlines())
        return f"Lookahead(k={self.k}, alpha={self.alpha},\n{inner}\n)"
