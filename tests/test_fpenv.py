"""Flush-to-zero of denormal floats (minitorch.fpenv) and its use in Optimizer.step."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch as mt
from minitorch import fpenv

needs_ftz = pytest.mark.skipif(not fpenv.is_flush_denormal_supported(),
                               reason="flush-to-zero is supported on x86-64 Linux only")
DENORMAL = np.float32(1e-39)  # below float32's smallest normal, 1.18e-38


def _halved() -> np.float32:
    return (np.array([DENORMAL]) * np.float32(0.5))[0]


@needs_ftz
def test_set_flush_denormal_flushes_and_restores() -> None:
    assert not fpenv.is_flush_denormal()
    assert _halved() != 0
    try:
        assert mt.set_flush_denormal(True) is True
        assert fpenv.is_flush_denormal()
        assert _halved() == 0
    finally:
        mt.set_flush_denormal(False)
    assert not fpenv.is_flush_denormal()
    assert _halved() != 0


@needs_ftz
def test_context_manager_restores_the_previous_environment() -> None:
    with fpenv.flush_denormal() as on:
        assert on and _halved() == 0
    assert not fpenv.is_flush_denormal() and _halved() != 0


def _dead_unit_first_moment(flush: bool) -> np.ndarray:
    """Adam's m after one real gradient and 1,000 exactly-zero ones (a dead ReLU unit): it
    decays by beta1 per step into the denormal range."""
    p = mt.nn.Parameter(mt.from_numpy(np.ones(4, dtype=np.float32)))
    opt = mt.optim.Adam([p], lr=1e-3)
    opt.flush_denormal = flush
    p.grad = mt.from_numpy(np.full(4, 1e-3, dtype=np.float32))
    opt.step()
    for _ in range(1000):
        p.grad = mt.from_numpy(np.zeros(4, dtype=np.float32))
        opt.step()
    return opt.state[p]["exp_avg"]


@needs_ftz
def test_optimizer_step_flushes_only_inside_the_step() -> None:
    m = _dead_unit_first_moment(flush=True)
    tiny = np.finfo(np.float32).tiny
    # no denormal left (without the flush m would sit at a denormal: see the next test); with
    # it, (1-beta1)*m flushes to 0 once m is within 10x of the smallest normal, so m stops there
    assert np.all((m == 0) | (np.abs(m) >= tiny))
    assert np.all(np.abs(m) < 20 * tiny)
    assert not fpenv.is_flush_denormal()  # the caller's environment is untouched


@needs_ftz
def test_flush_can_be_switched_off_per_optimizer() -> None:
    m = _dead_unit_first_moment(flush=False)
    assert np.all((m != 0) & (np.abs(m) < np.finfo(np.float32).tiny))  # IEEE: denormal


def test_unsupported_platform_is_a_no_op(monkeypatch) -> None:
    monkeypatch.setattr(fpenv, "_lib", lambda: None)
    assert mt.set_flush_denormal(True) is False
    assert fpenv.is_flush_denormal() is False
    with fpenv.flush_denormal() as on:
        assert on is False
