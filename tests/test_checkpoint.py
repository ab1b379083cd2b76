"""Activation checkpointing (minitorch.utils.checkpoint) and the memory meter (utils.memory)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
from minitorch.utils.checkpoint import checkpoint, checkpoint_sequential, plan_checkpoints
from minitorch.utils.memory import MemoryMeter, graph_bytes


def _mlp(depth: int, width: int, device: str = "cpu", dropout: float = 0.0,
         batchnorm: bool = False) -> nn.Sequential:
    layers: list = []
    for _ in range(depth):
        layers.append(nn.Linear(width, width))
        if batchnorm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers).to(device)


def _step(model: nn.Module, forward, x: mt.Tensor, seed: int = 7) -> tuple:
    """One forward/backward from a fixed RNG state; (param grads, input grad, next draw)."""
    mt.manual_seed(seed)
    model.zero_grad()
    if x.requires_grad:
        x.grad = None
    out = forward(x)
    (out * out).sum().backward()
    after = mt.rand(3, device=x.device).numpy()  # where the RNG stream stands afterwards
    grads = [p.grad.numpy() for p in model.parameters()]
    return grads, (x.grad.numpy() if x.requires_grad else None), after, out.numpy()


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


# ---- checkpoint ---------------------------------------------------------------------------------
@pytest.mark.parametrize("x_grad", [True, False])
def test_checkpoint_bitwise_equal_gradients_with_dropout(device: str, x_grad: bool) -> None:
    model = _mlp(3, 16, device, dropout=0.3)
    x = mt.randn(8, 16, device=device, requires_grad=x_grad)
    plain = _step(model, model, x)
    ckpt = _step(model, lambda t: checkpoint(model, t), x)
    assert _same(plain[0], ckpt[0])  # bitwise, including the dropout masks
    if x_grad:
        assert np.array_equal(plain[1], ckpt[1])
    np.testing.assert_array_equal(plain[2], ckpt[2])  # the recomputation consumed no randomness
    np.testing.assert_array_equal(plain[3], ckpt[3])


def test_without_rng_replay_the_dropout_masks_differ() -> None:
    model = _mlp(2, 32, dropout=0.5)
    x = mt.randn(16, 32)
    plain = _step(model, model, x)
    ckpt = _step(model, lambda t: checkpoint(model, t, preserve_rng_state=False), x)
    assert not _same(plain[0], ckpt[0])


def test_params_only_via_closure_get_gradients_when_inputs_do_not_require_grad() -> None:
    w = mt.randn(5, 5, requires_grad=True)
    b = mt.randn(5, requires_grad=True)
    x = mt.randn(4, 5)  # requires_grad=False: the pitfall of reentrant checkpointing

    def fn(t: mt.Tensor) -> mt.Tensor:
        return mt.tanh(t @ w + b) * 2.0

    fn(x).sum().backward()
    gw, gb = w.grad.numpy(), b.grad.numpy()
    w.grad = b.grad = None
    y = checkpoint(fn, x)
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), gw)
    np.testing.assert_array_equal(b.grad.numpy(), gb)


def test_autograd_grad_through_checkpoint_leaves_dot_grad_alone() -> None:
    model = _mlp(2, 8)
    x = mt.randn(4, 8, requires_grad=True)
    params = list(model.parameters())
    want = mt.autograd.grad(model(x).sum(), [x] + params)
    got = mt.autograd.grad(checkpoint(model, x).sum(), [x] + params)
    assert _same([g.numpy() for g in want], [g.numpy() for g in got])
    assert all(p.grad is None for p in params) and x.grad is None


def test_batchnorm_running_stats_update_once(device: str) -> None:
    model = _mlp(2, 6, device, batchnorm=True)
    x = mt.randn(10, 6, device=device)
    ref = _mlp(2, 6, device, batchnorm=True)
    ref.load_state_dict(model.state_dict())
    plain = _step(ref, ref, x)
    ckpt = _step(model, lambda t: checkpoint(model, t), x)
    assert _same(plain[0], ckpt[0])
    for (name, a), (_, b) in zip(ref.named_buffers(), model.named_buffers()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert int(model[1].num_batches_tracked.item()) == 1


def test_batchnorm_found_through_a_closure_and_a_bound_method() -> None:
    bn = nn.BatchNorm1d(4)
    lin = nn.Linear(4, 4)
    x = mt.randn(8, 4, requires_grad=True)
    checkpoint(lambda t: bn(lin(t)), x).sum().backward()
    checkpoint(bn.forward, lin(x)).sum().backward()
    assert int(bn.num_batches_tracked.item()) == 2
    ref = nn.BatchNorm1d(4)
    with mt.no_grad():
        ref(lin(x))
        ref(lin(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), ref.running_mean.numpy(), rtol=1e-6)


def test_tuple_outputs_non_tensor_args_and_nesting() -> None:
    w = mt.randn(3, 3, dtype=mt.float64, requires_grad=True)
    x = mt.randn(2, 3, dtype=mt.float64, requires_grad=True)

    def inner(t: mt.Tensor) -> mt.Tensor:
        return mt.sin(t @ w)

    def fn(t: mt.Tensor, scale: float, use_inner: bool) -> tuple:
        h = checkpoint(inner, t) if use_inner else inner(t)
        return h * scale, h.sum()

    def loss(a: tuple) -> mt.Tensor:
        return (a[0] ** 2).sum() + a[1]

    want = mt.autograd.grad(loss(fn(x, 3.0, False)), [x, w])
    got = mt.autograd.grad(loss(checkpoint(fn, x, 3.0, True)), [x, w])
    for a, b in zip(want, got):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert mt.autograd.gradcheck(lambda t, v: loss(checkpoint(fn, t, 3.0, True)), [x, w])


def test_list_output_keeps_its_type_and_unused_output_is_fine() -> None:
    x = mt.randn(3, requires_grad=True)
    out = checkpoint(lambda t: [t * 2, t * 3], x)
    assert isinstance(out, list) and len(out) == 2
    out[1].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 3.0, np.float32))


def test_no_grad_runs_fn_plainly() -> None:
    model = _mlp(2, 4)
    x = mt.randn(2, 4)
    with mt.no_grad():
        y = checkpoint(model, x)
    assert y.grad_fn is None and not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), model(x).numpy())


def test_nothing_requires_grad_records_nothing() -> None:
    x = mt.randn(3)
    y = checkpoint(lambda t: t * 2, x)
    assert not y.requires_grad and y.grad_fn is None


def test_determinism_check_raises_and_warns() -> None:
    x = mt.randn(4, dtype=mt.float64, requires_grad=True)
    calls = []

    def shifty(t: mt.Tensor) -> mt.Tensor:
        calls.append(1)
        return t * 2 if len(calls) == 1 else (t * 2).reshape(2, 2)

    y = checkpoint(shifty, x)
    with pytest.raises(RuntimeError, match=r"recomputation of 'shifty' differs.*\(4,\).*\(2, 2\)"):
        y.sum().backward()

    calls.clear()

    def retyped(t: mt.Tensor) -> mt.Tensor:
        calls.append(1)
        return t * 2 if len(calls) == 1 else (t * 2).to(dtype=mt.float32)

    y = checkpoint(retyped, x, determinism_check="warn")
    with pytest.warns(RuntimeWarning, match="differs from the first run"):
        y.sum().backward()
    calls.clear()
    checkpoint(retyped, x, determinism_check="none").sum().backward()  # no warning, no error


def test_checkpoint_argument_errors() -> None:
    x = mt.randn(2, requires_grad=True)
    with pytest.raises(TypeError, match="fn must be callable"):
        checkpoint(3, x)
    with pytest.raises(ValueError, match="determinism_check must be one of"):
        checkpoint(lambda t: t, x, determinism_check="strict")


def test_double_backward_through_checkpoint_is_refused_clearly() -> None:
    x = mt.randn(3, dtype=mt.float64, requires_grad=True)
    y = checkpoint(lambda t: (t ** 3).sum(), x)
    with pytest.raises(RuntimeError, match="double backward"):
        mt.autograd.grad(y, x, create_graph=True)


# ---- checkpoint_sequential ----------------------------------------------------------------------
@pytest.mark.parametrize("segments", [1, 2, 3, 5, 100, "auto"])
def test_checkpoint_sequential_bitwise(device: str, segments) -> None:
    model = _mlp(5, 12, device, dropout=0.2)
    x = mt.randn(6, 12, device=device, requires_grad=True)
    plain = _step(model, model, x)
    ckpt = _step(model, lambda t: checkpoint_sequential(model, segments, t), x)
    assert _same(plain[0], ckpt[0])
    np.testing.assert_array_equal(plain[1], ckpt[1])
    np.testing.assert_array_equal(plain[2], ckpt[2])


def test_checkpoint_sequential_accepts_a_list_of_callables() -> None:
    lin1, lin2 = nn.Linear(4, 4), nn.Linear(4, 2)
    fns = [lin1, mt.tanh, lin2, lambda t: t * 2]
    x = mt.randn(3, 4)
    want = mt.autograd.grad(lin2(mt.tanh(lin1(x))).mul(2).sum(), list(lin1.parameters()))
    got = mt.autograd.grad(checkpoint_sequential(fns, 2, x).sum(), list(lin1.parameters()))
    assert _same([g.numpy() for g in want], [g.numpy() for g in got])


def test_checkpoint_sequential_errors() -> None:
    model = _mlp(2, 4)
    x = mt.randn(2, 4)
    with pytest.raises(ValueError, match="segments must be >= 1"):
        checkpoint_sequential(model, 0, x)
    with pytest.raises(TypeError, match="segments must be an int, 'auto' or a CheckpointPlan"):
        checkpoint_sequential(model, 2.5, x)
    with pytest.raises(ValueError, match="budget= needs segments='auto'"):
        checkpoint_sequential(model, 2, x, budget=10**6)
    with pytest.raises(TypeError, match="expected an nn.Sequential"):
        checkpoint_sequential(nn.Linear(4, 4), 2, x)
    with pytest.raises(ValueError, match="the plan is for 4 layers, this sequence has 2"):
        checkpoint_sequential(model[:2], plan_checkpoints(model, x), x)


def _measure(model: nn.Module, forward, x: mt.Tensor) -> MemoryMeter:
    with MemoryMeter() as m:
        forward(x).sum().backward()
    return m


def test_auto_segments_cut_held_memory_and_plan_predicts_it_exactly() -> None:
    model = _mlp(16, 64)
    x = mt.randn(256, 64)
    plain = _measure(model, model, x)
    plan = plan_checkpoints(model, x)
    assert 4 <= len(plan.bounds) <= 8  # about sqrt(32 layers)
    ckpt = _measure(model, lambda t: checkpoint_sequential(model, plan, t), x)
    assert ckpt.peak_saved_bytes == plan.predicted_peak
    assert plain.peak_saved_bytes >= 4 * ckpt.peak_saved_bytes
    even = _measure(model, lambda t: checkpoint_sequential(model, len(plan.bounds), t), x)
    assert ckpt.peak_saved_bytes < even.peak_saved_bytes < plain.peak_saved_bytes / 2
    # the process-level peak (tracemalloc) falls too, though gradients are not checkpointed
    assert ckpt.peak_process_bytes < 0.6 * plain.peak_process_bytes


def test_budget_mode_meets_the_budget_and_recomputes_least() -> None:
    model = _mlp(12, 32, dropout=0.1)
    x = mt.randn(128, 32)
    sqrt_plan = plan_checkpoints(model, x)
    for frac in (1.0, 0.6, 0.35):
        budget = int(frac * _measure(model, model, x).peak_saved_bytes)
        plan = plan_checkpoints(model, x, budget=budget)
        m = _measure(model, lambda t, p=plan: checkpoint_sequential(model, p, t), x)
        assert m.peak_saved_bytes == plan.predicted_peak <= budget
    generous = plan_checkpoints(model, x, budget=sqrt_plan.predicted_peak)
    assert generous.recomputed_layers <= sqrt_plan.recomputed_layers
    everything = plan_checkpoints(model, x, budget=10**12)
    assert everything.bounds == [(0, 36)] and everything.recomputed_layers == 0
    with pytest.raises(ValueError, match=r"no segmentation of these 36 layers holds at most "
                                         r"1000 B for backward; the least possible is"):
        plan_checkpoints(model, x, budget=1000)


def test_auto_plan_is_cached_and_leaves_rng_and_buffers_alone() -> None:
    model = _mlp(4, 8, batchnorm=True, dropout=0.5)
    x = mt.randn(16, 8)
    state = mt.get_rng_state()
    before = [b.numpy().copy() for b in model.buffers()]
    plan_checkpoints(model, x)
    assert mt.get_rng_state() == state
    assert _same(before, [b.numpy() for b in model.buffers()])
    from minitorch.utils import _plan

    _plan._cache.clear()
    checkpoint_sequential(model, "auto", x, budget=10**9)
    checkpoint_sequential(model, "auto", x, budget=10**9)
    assert len(_plan._cache) == 1


# ---- the memory meter ---------------------------------------------------------------------------
def test_meter_counts_exactly_what_the_graph_holds() -> None:
    n, d = 32, 16
    x = mt.randn(n, d)  # a leaf without grad: counted (a node holds it)
    lin = nn.Linear(d, d)  # parameters: leaves that require grad, not counted
    with MemoryMeter(process=False) as m:
        h = lin(x)  # Linear node: holds x
        r = mt.relu(h)  # ReLU node: holds h (its input) and a bool mask
        v = r.reshape(n * d)  # Reshape node: holds r
        s = (v * v).sum()  # Mul node: v, a view of r (deduplicated); Sum holds the product
        want = 4 * n * d * 4 + n * d  # x, h, r, v*v in float32 + the mask
        assert m.saved_bytes == graph_bytes(s) == want
        s.backward()
        assert m.saved_bytes == 0  # released by backward
    assert m.peak_saved_bytes == want


def test_meter_forgets_a_graph_that_is_dropped_and_nests() -> None:
    x = mt.randn(100, requires_grad=True)
    with MemoryMeter(process=False) as outer:
        y = mt.exp(x) * 2  # exp's output (kept by Exp and by Mul: once); x is a leaf
        with MemoryMeter(process=False) as inner:
            z = mt.sin(y)  # keeps y
            assert inner.start_saved_bytes == outer.saved_bytes - 400
        del y, z
        gc.collect()
        assert outer.saved_bytes == 0
    assert outer.peak_saved_bytes == inner.peak_saved_bytes == 2 * 400


def test_meter_costs_nothing_when_off() -> None:
    from minitorch.autograd import function

    with MemoryMeter(process=False):
        assert len(function.record_hooks) == 1
    assert function.record_hooks == []
    y = mt.exp(mt.randn(3, requires_grad=True))
    assert "_on_release" not in y.grad_fn.__dict__


def test_meter_report_and_reuse() -> None:
    m = MemoryMeter()
    with m:
        (mt.randn(256, requires_grad=True) * 3).sum().backward()
    assert "peak held for backward" in m.report() and m.peak_process_bytes > 0
    with pytest.raises(RuntimeError, match="already running"):
        with m:
            with m:
                pass
