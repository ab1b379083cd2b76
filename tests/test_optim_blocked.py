"""The blocked in-place update (Optimizer._blocks) gives bitwise the same parameters as the
whole-array update, for parameters larger than a block, contiguous or not."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch as mt
import minitorch.optim.optimizer as optimizer_mod

CASES = [
    ("Adam", {}),
    ("Adam", {"amsgrad": True}),
    ("Adam", {"weight_decay": 1e-2}),
    ("AdamW", {"weight_decay": 1e-2}),
    ("Adam", {"maximize": True}),
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-2}),
    ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.9, "weight_decay": 1e-2}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr_decay": 1e-3}),
]


def _run(name: str, kw: dict, dtype: type, transpose: bool) -> list:
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((300, 70)).astype(dtype)  # 21,000 elements: several blocks
    b0 = rng.standard_normal(7).astype(dtype)          # smaller than a block
    w = mt.nn.Parameter(mt.from_numpy(w0.T.copy().T if transpose else w0))
    b = mt.nn.Parameter(mt.from_numpy(b0))
    opt = getattr(mt.optim, name)([w, b], lr=1e-2, **kw)
    for step in range(25):
        g = np.random.default_rng(step).standard_normal(w0.shape).astype(dtype)
        w.grad = mt.from_numpy(np.asfortranarray(g) if transpose else g)
        b.grad = mt.from_numpy(g[0, :7].copy())
        opt.step()
    return [w.numpy().copy(), b.numpy().copy()]


@pytest.mark.parametrize("name,kw", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose", [False, True])
def test_blocked_update_is_bitwise_the_whole_array_update(monkeypatch, name, kw, dtype,
                                                          transpose) -> None:
    monkeypatch.setattr(optimizer_mod, "BLOCK", 4096)
    blocked = _run(name, kw, dtype, transpose)
    monkeypatch.setattr(optimizer_mod, "BLOCK", 10**9)
    whole = _run(name, kw, dtype, transpose)
    for a, b in zip(blocked, whole, strict=True):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)


def test_scratch_is_not_part_of_the_state() -> None:
    p = mt.nn.Parameter(mt.from_numpy(np.ones((200, 100), dtype=np.float32)))
    p.grad = mt.from_numpy(np.full((200, 100), 0.5, dtype=np.float32))
    opt = mt.optim.Adam([p])
    opt.step()
    sd = opt.state_dict()
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    # the gradient the user holds is never written to
    np.testing.assert_array_equal(p.grad.numpy(), 0.5)
