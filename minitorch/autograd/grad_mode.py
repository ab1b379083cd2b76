"""Gradient recording on/off: no_grad, enable_grad, set_grad_enabled (PyTorch's names)."""

from __future__ import annotations

import functools
from typing import Any, Callable


class _State:
    enabled = True


def is_grad_enabled() -> bool:
    return _State.enabled


class set_grad_enabled:  # noqa: N801  (PyTorch's name; usable as a call or a context)
    """Set recording on or off; restores the previous mode when used as a context manager."""

    def __init__(self, mode: bool) -> None:
        self.prev = _State.enabled
        _State.enabled = bool(mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        _State.enabled = self.prev


class _Mode:
    mode = True

    def __new__(cls, fn: Callable | None = None) -> Any:
        self = super().__new__(cls)
        if fn is not None:  # used bare as a decorator: @mt.no_grad
            return self(fn)
        return self

    def __enter__(self) -> None:
        self.prev = _State.enabled
        _State.enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        _State.enabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_Mode):  # noqa: N801
    """Context manager / decorator: operations inside record no graph."""

    mode = False


class enable_grad(_Mode):  # noqa: N801
    """Context manager / decorator: turn recording back on (e.g. inside no_grad)."""

    mode = True
