"""LRScheduler: the base of every schedule (torch.optim.lr_scheduler.LRScheduler's protocol).

A scheduler sets `group["lr"]` of each parameter group. Construction performs step 0
(so the optimizer starts on the schedule's first value); call `scheduler.step()` after each
`optimizer.step()`. Most schedules are written, as in PyTorch, in "chainable" form: the new
lr is computed from the group's current lr, so several schedulers can act on one optimizer
(ChainedScheduler). `state_dict()` is plain data (saveable with mt.save): a scheduler
rebuilt with the same arguments and given `load_state_dict` continues on the same values.
"""

from __future__ import annotations

import copy
import types
from typing import Any

from ..optimizer import Optimizer


def check_optimizer(optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def check_positive_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"Expected an integer {name} >= {minimum}, but got {value!r}")


def format_param(name: str, optimizer: Optimizer, value: Any) -> list:
    """One value per parameter group (a list/tuple must have one per group)."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have one value per parameter group: got "
                             f"{len(value)} values for {len(optimizer.param_groups)} groups")
        return list(value)
    return [value] * len(optimizer.param_groups)


def callable_state(fns: list) -> list:
    """What PyTorch saves of user callables: nothing for functions/lambdas, the attribute
    dict of callable objects."""
    return [None if isinstance(fn, types.FunctionType) or fn is None else dict(vars(fn))
            for fn in fns]


class LRScheduler:
    """Base class; subclasses define get_lr() (and optionally _get_closed_form_lr())."""

    # attributes that are not state: the optimizer, and anything rebuilt from arguments
    _unsaved: tuple = ("optimizer", "_is_initial")

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        f"resuming a scheduler with last_epoch={last_epoch}: load the "
                        "optimizer's state_dict first, or start with last_epoch=-1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list:
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def get_last_lr(self) -> list:
        """The learning rates set by the last step, one per parameter group."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance one step (or jump to `epoch`, with the closed form where there is one)."""
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    # ---- saving ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in self._unsaved}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what state_dict() returned; the keys must match this scheduler's."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"{type(self).__name__}.load_state_dict expects a dict, got "
                            f"{type(state_dict).__name__}")
        own = set(self.state_dict())
        missing, unexpected = sorted(own - set(state_dict)), sorted(set(state_dict) - own)
        if missing or unexpected:
            raise ValueError(f"state_dict does not match {type(self).__name__}: missing keys "
                             f"{missing}, unexpected keys {unexpected}")
        self._load_state(dict(state_dict))

    def _load_state(self, state: dict) -> None:
        """Apply a validated state (a shallow copy: subclasses pop their special keys)."""
        self.__dict__.update({k: copy.deepcopy(v) for k, v in state.items()})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


class _CallableState(LRScheduler):
    """Base of LambdaLR / MultiplicativeLR: the lr_lambdas are not state (only callable
    objects' attributes are saved, as in PyTorch)."""

    _unsaved = ("optimizer", "_is_initial", "lr_lambdas")

    def _set_lambdas(self, optimizer: Optimizer, lr_lambda: Any) -> None:
        n = len(optimizer.param_groups)
        fns = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(fns) != n:
            raise ValueError(f"Expected {n} lr_lambdas (one per parameter group), but got "
                             f"{len(fns)}")
        for fn in fns:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        self.lr_lambdas = fns

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["lr_lambdas"] = callable_state(self.lr_lambdas)
        return state

    def _load_state(self, state: dict) -> None:
        saved = state.pop("lr_lambdas")
        super()._load_state(state)
        for fn, attrs in zip(self.lr_lambdas, saved, strict=True):
            if attrs is not None:
                vars(fn).update(attrs)
