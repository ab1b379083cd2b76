"""The autograd engine: accumulation, un-broadcasting, grad modes, retain/create_graph,
autograd.grad, custom Functions in PyTorch's style, hooks, errors, deep graphs, dtypes."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

import minitorch as mt
from minitorch.autograd.gradcheck import GradcheckError


def t64(data: Any, requires_grad: bool = True, device: str = "cpu") -> mt.Tensor:
    return mt.tensor(data, dtype=mt.float64, requires_grad=requires_grad, device=device)


# ---- accumulation and un-broadcasting ---------------------------------------------------------


def test_fan_out_gradients_add_up(device: str) -> None:
    x = t64([1.0, 2.0, -3.0], device=device)
    y = x * x + 3 * x + x.exp() * x  # x used five times
    y.sum().backward()
    xv = x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * xv + 3 + np.exp(xv) * (xv + 1), rtol=1e-14)


def test_diamond_graph_visits_each_node_once() -> None:
    calls = []

    class Count(mt.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: mt.Tensor) -> mt.Tensor:
            return mt.Tensor._wrap(a.data * 2)

        @staticmethod
        def backward(ctx: Any, g: mt.Tensor) -> mt.Tensor:
            calls.append(1)
            return g * 2

    x = t64([1.0, 2.0])
    h = Count.apply(x)
    (h * h + h.sin() + h).sum().backward()
    assert len(calls) == 1
    hv = 2 * np.array([1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * hv + np.cos(hv) + 1), rtol=1e-14)


def test_grads_accumulate_across_backward_calls_out_of_place() -> None:
    x = t64([1.0, 2.0])
    (x * 3).sum().backward()
    first = x.grad
    first_array = first.data.copy()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 * x.numpy())
    np.testing.assert_array_equal(first.numpy(), first_array)  # the old grad was not mutated


@pytest.mark.parametrize("shape", [(4,), (1, 4), (3, 1), (1, 1), ()])
def test_engine_unbroadcasts_gradients(shape: tuple) -> None:
    """A backward that returns a gradient of the output's (broadcast) shape is summed down to
    the input's shape by the engine, not by the op."""

    class BroadcastAdd(mt.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: mt.Tensor, b: mt.Tensor) -> mt.Tensor:
            return mt.Tensor._wrap(a.data + b.data)

        @staticmethod
        def backward(ctx: Any, g: mt.Tensor) -> tuple:
            return g, g

    a = t64(np.arange(12.0).reshape(3, 4))
    b = t64(np.ones(shape))
    out = BroadcastAdd.apply(a, b)
    g = np.random.default_rng(0).standard_normal((3, 4))
    out.backward(mt.tensor(g))
    assert b.grad.shape == shape
    expected = g.sum(axis=tuple(range(2 - len(shape)))) if len(shape) < 2 else g
    if len(shape) == 2:
        expected = g.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True)
    np.testing.assert_allclose(b.grad.numpy(), expected)
    np.testing.assert_allclose(a.grad.numpy(), g)


def test_wrong_gradient_shape_from_backward_is_reported() -> None:
    class Bad(mt.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: mt.Tensor) -> mt.Tensor:
            return mt.Tensor._wrap(a.data * 1)

        @staticmethod
        def backward(ctx: Any, g: mt.Tensor) -> mt.Tensor:
            return mt.ones(5, dtype=mt.float64)

    x = t64(np.ones(3))
    with pytest.raises(RuntimeError, match=r"Bad.*\(5,\).*\(3,\)"):
        Bad.apply(x).sum().backward()


# ---- grad modes, detach ------------------------------------------------------------------------


def test_no_grad_records_nothing_and_enable_grad_reenables() -> None:
    x = t64([1.0, 2.0])
    with mt.no_grad():
        y = x * 2
        assert not mt.is_grad_enabled()
        with mt.enable_grad():
            z = x * 2
            assert mt.is_grad_enabled()
        assert not mt.is_grad_enabled()
    assert mt.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None and z.requires_grad


def test_no_grad_restores_mode_after_an_exception() -> None:
    with pytest.raises(ZeroDivisionError):
        with mt.no_grad():
            1 / 0
    assert mt.is_grad_enabled()


def test_no_grad_as_decorator_with_and_without_parentheses() -> None:
    x = t64([1.0])

    @mt.no_grad()
    def f(a: mt.Tensor) -> mt.Tensor:
        return a * 2

    @mt.no_grad
    def g(a: mt.Tensor) -> mt.Tensor:
        return a * 2

    assert f(x).grad_fn is None and g(x).grad_fn is None
    assert f.__name__ == "f" and g.__name__ == "g"
    assert mt.is_grad_enabled()


def test_set_grad_enabled_as_call_and_context() -> None:
    with mt.set_grad_enabled(False):
        assert not mt.is_grad_enabled()
    assert mt.is_grad_enabled()
    mt.set_grad_enabled(False)
    try:
        assert not mt.is_grad_enabled()
    finally:
        mt.set_grad_enabled(True)


def test_detach_shares_data_and_stops_gradients() -> None:
    x = t64([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad
    assert np.shares_memory(d.data, y.data)
    (y * d).sum().backward()  # d is a constant: d/dx (3x * 3x_const) = 9x
    np.testing.assert_allclose(x.grad.numpy(), 9 * x.numpy())


def test_ops_on_tensors_without_grad_record_nothing() -> None:
    a, b = t64([1.0], requires_grad=False), t64([2.0], requires_grad=False)
    out = (a * b).exp().sum()
    assert out.grad_fn is None and not out.requires_grad


# ---- retain_graph and create_graph -------------------------------------------------------------


def test_second_backward_needs_retain_graph() -> None:
    x = t64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates() -> None:
    x = t64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    xv = x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(xv) * (xv + 1), rtol=1e-14)


def test_create_graph_gives_second_and_third_derivatives() -> None:
    x = t64([0.5, -1.5])
    y = (x ** 3 + x.sin()).sum()
    (g,) = mt.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2 + np.cos(x.numpy()))
    assert g.requires_grad
    (gg,) = mt.autograd.grad(g.sum(), x, create_graph=True)
    np.testing.assert_allclose(gg.numpy(), 6 * x.numpy() - np.sin(x.numpy()))
    (ggg,) = mt.autograd.grad(gg.sum(), x)
    np.testing.assert_allclose(ggg.numpy(), 6 - np.cos(x.numpy()))
    assert not ggg.requires_grad


def test_backward_with_create_graph_leaves_a_differentiable_grad() -> None:
    x = t64([2.0])
    (x ** 4).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    np.testing.assert_allclose(x.grad.numpy(), [32.0])
    (g2,) = mt.autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(g2.numpy(), [48.0])


def test_hessian_vector_product_without_forming_the_hessian() -> None:
    """Seed 000: H v = grad_x <grad f(x), v>."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    x = t64(rng.standard_normal(4))
    v = rng.standard_normal(4)
    f = ((mt.tensor(a) @ x).tanh() ** 2).sum()
    (g,) = mt.autograd.grad(f, x, create_graph=True)
    (hv,) = mt.autograd.grad((g * mt.tensor(v)).sum(), x)
    # finite differences of the gradient along v
    def grad_at(xv: np.ndarray) -> np.ndarray:
        xt = t64(xv)
        ((mt.tensor(a) @ xt).tanh() ** 2).sum().backward()
        return xt.grad.numpy()

    eps = 1e-6
    fd = (grad_at(x.numpy() + eps * v) - grad_at(x.numpy() - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), fd, rtol=1e-6, atol=1e-8)


# ---- autograd.grad ------------------------------------------------------------------------------


def test_grad_does_not_touch_dot_grad() -> None:
    x, w = t64([1.0, 2.0]), t64([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = mt.autograd.grad(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_allow_unused() -> None:
    x, unused = t64([1.0]), t64([5.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"input 1 was not used.*allow_unused=True"):
        mt.autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = mt.autograd.grad(y, [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.numpy(), [2.0])


def test_grad_with_respect_to_non_leaf_inputs() -> None:
    x = t64([1.0, 2.0, 3.0])
    h = x * x  # non-leaf
    k = h.exp()  # non-leaf, downstream of h
    y = (k * h).sum()
    gh, gk, gx = mt.autograd.grad(y, [h, k, x])
    hv = x.numpy() ** 2
    np.testing.assert_allclose(gk.numpy(), hv)
    np.testing.assert_allclose(gh.numpy(), np.exp(hv) * hv + np.exp(hv))  # total derivative
    np.testing.assert_allclose(gx.numpy(), (np.exp(hv) * hv + np.exp(hv)) * 2 * x.numpy())
    assert x.grad is None


def test_grad_only_runs_the_part_of_the_graph_it_needs() -> None:
    """autograd.grad(z, h) needs the graph from z down to h only: the part below h may
    already have been freed by an earlier backward (PyTorch behaves the same)."""
    x = t64([1.0, 2.0])
    h = x.exp()
    h.sum().backward()  # frees x -> h
    z = (h * h).sum()
    (gh,) = mt.autograd.grad(z, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())


def test_grad_of_several_outputs_with_grad_outputs() -> None:
    x = t64([1.0, 2.0])
    y1, y2 = x * 2, x ** 2
    v1, v2 = mt.tensor([1.0, -1.0], dtype=mt.float64), mt.tensor([0.5, 2.0], dtype=mt.float64)
    (g,) = mt.autograd.grad([y1, y2], x, [v1, v2])
    np.testing.assert_allclose(g.numpy(), 2 * v1.numpy() + 2 * x.numpy() * v2.numpy())


def test_grad_of_an_input_that_is_the_output() -> None:
    x = t64([1.0, 2.0])
    (g,) = mt.autograd.grad(x, x, mt.ones(2, dtype=mt.float64))
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])


def test_grad_errors() -> None:
    x = t64([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2,\)"):
        mt.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match=r"input 0 does not require grad"):
        mt.autograd.grad(y.sum(), t64([1.0], requires_grad=False))
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*\(2,\)"):
        mt.autograd.grad(y, x, mt.ones(3, dtype=mt.float64))
    with pytest.raises(ValueError, match=r"2 output\(s\) but 1 grad_output"):
        mt.autograd.grad([y, y], x, [mt.ones(2, dtype=mt.float64)])


def test_backward_with_inputs_accumulates_only_there() -> None:
    a, b = t64([1.0, 3.0]), t64([2.0])
    (a * b).sum().backward(inputs=[a])
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])
    assert b.grad is None
    assert a.grad.data.flags.writeable
    (a * b).sum().backward(inputs=a)
    np.testing.assert_allclose(a.grad.numpy(), [4.0, 4.0])


# ---- errors that teach -------------------------------------------------------------------------


def test_backward_on_non_scalar_without_gradient_says_so() -> None:
    y = t64([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"scalar outputs.*shape \(2,\).*pass a gradient"):
        y.backward()
    y.backward(mt.ones(2, dtype=mt.float64))  # with a gradient it works


def test_backward_on_a_tensor_without_graph_says_so() -> None:
    with pytest.raises(RuntimeError, match=r"does not require grad.*no_grad"):
        mt.tensor([1.0]).sum().backward()


def test_integer_tensors_cannot_require_grad() -> None:
    with pytest.raises(RuntimeError, match="only floating-point tensors.*int64"):
        mt.tensor([1, 2], requires_grad=True)


def test_in_place_assignment_to_a_leaf_that_requires_grad_is_refused() -> None:
    x = t64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="in-place assignment to a leaf.*no_grad"):
        x[0] = 5.0
    with mt.no_grad():
        x[0] = 5.0
    assert x.numpy()[0] == 5.0


def test_backward_returning_too_few_gradients_is_reported() -> None:
    class TwoIn(mt.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: mt.Tensor, b: mt.Tensor) -> mt.Tensor:
            return mt.Tensor._wrap(a.data + b.data)

        @staticmethod
        def backward(ctx: Any, g: mt.Tensor) -> mt.Tensor:
            return g

    with pytest.raises(RuntimeError, match=r"TwoIn.backward returned 1 gradient.*2 input"):
        TwoIn.apply(t64([1.0]), t64([2.0])).sum().backward()


# ---- custom Functions, PyTorch's style ----------------------------------------------------------


def make_functions(lib: Any) -> dict:
    """The same source defines custom Functions for minitorch and for PyTorch."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, scale: float) -> Any:
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x ** 3 * scale

        @staticmethod
        def backward(ctx: Any, g: Any) -> tuple:
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.scale, None

    class MulAdd(lib.autograd.Function):
        """Two inputs, two outputs; computes only the gradients that are needed."""

        @staticmethod
        def forward(ctx: Any, a: Any, b: Any) -> tuple:
            ctx.save_for_backward(a, b)
            return a * b, a + b

        @staticmethod
        def backward(ctx: Any, g_prod: Any, g_sum: Any) -> tuple:
            a, b = ctx.saved_tensors
            ctx.calls = ctx.needs_input_grad
            ga = g_prod * b + g_sum if ctx.needs_input_grad[0] else None
            gb = g_prod * a + g_sum if ctx.needs_input_grad[1] else None
            return ga, gb

    class SortValues(lib.autograd.Function):
        """Values are differentiable, the indices are marked non-differentiable."""

        @staticmethod
        def forward(ctx: Any, x: Any) -> tuple:
            order = np.argsort(x.detach().numpy())
            idx = lib.tensor(order)
            values = x[idx]
            perm = lib.tensor(np.argsort(order))
            ctx.save_for_backward(perm)
            ctx.mark_non_differentiable(idx)
            return values, idx

        @staticmethod
        def backward(ctx: Any, g_values: Any, g_idx: Any) -> tuple:
            (perm,) = ctx.saved_tensors
            return (g_values[perm],)

    return {"Cube": Cube, "MulAdd": MulAdd, "SortValues": SortValues}


def test_custom_function_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    mf, tf = make_functions(mt), make_functions(torch)
    xv = np.array([0.3, -1.2, 2.0])
    bv = np.array([1.5, 0.5, -0.7])
    for lib, fns in ((mt, mf), (torch, tf)):
        x = lib.tensor(xv, requires_grad=True)
        b = lib.tensor(bv, requires_grad=True)
        c = fns["Cube"].apply(x, 0.5)
        p, s = fns["MulAdd"].apply(c, b)
        vals, idx = fns["SortValues"].apply(p + s)
        assert not idx.requires_grad
        w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
        (vals * w).sum().backward()
        if lib is mt:
            mres = (vals.numpy(), idx.numpy(), x.grad.numpy(), b.grad.numpy())
        else:
            tres = (vals.detach().numpy(), idx.numpy(), x.grad.numpy(), b.grad.numpy())
    for m, t in zip(mres, tres):
        np.testing.assert_allclose(m, t, rtol=1e-12)


def test_custom_function_needs_input_grad_and_gradcheck() -> None:
    fns = make_functions(mt)
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0], requires_grad=False)
    p, s = fns["MulAdd"].apply(a, b)
    node = p.grad_fn
    assert node.needs_input_grad == (True, False)
    assert s.grad_fn is node and p._out_idx == 0 and s._out_idx == 1
    (p.sum() + s.sum()).backward(retain_graph=True)  # keep ctx's attributes to inspect
    assert node.calls == (True, False)
    np.testing.assert_allclose(a.grad.numpy(), [4.0, 5.0])
    x = t64([0.3, -1.2, 2.0])
    assert mt.autograd.gradcheck(lambda t: fns["Cube"].apply(t, 0.5), [x])
    assert mt.autograd.gradgradcheck(lambda t: fns["Cube"].apply(t, 0.5), [x])


def test_custom_function_with_one_unused_output_gets_zeros() -> None:
    """An output that receives no gradient is materialised as zeros (PyTorch's default)."""
    fns = make_functions(mt)
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0])
    p, _ = fns["MulAdd"].apply(a, b)
    p.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])


def test_custom_function_saved_tensors_are_freed_after_backward() -> None:
    fns = make_functions(mt)
    x = t64([1.0])
    y = fns["Cube"].apply(x, 1.0)
    node = y.grad_fn
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        node.saved_tensors


def test_gradcheck_catches_a_wrong_backward_and_float32() -> None:
    class WrongSin(mt.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: mt.Tensor) -> mt.Tensor:
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx: Any, g: mt.Tensor) -> mt.Tensor:
            (x,) = ctx.saved_tensors
            return g * x.cos() * 1.01

    x = t64([0.1, 0.7])
    with pytest.raises(GradcheckError, match="Jacobian mismatch for input 0"):
        mt.autograd.gradcheck(WrongSin.apply, [x])
    assert not mt.autograd.gradcheck(WrongSin.apply, [x], raise_exception=False)
    with pytest.raises(GradcheckError, match="float64"):
        mt.autograd.gradcheck(lambda t: t.sin(), [mt.tensor([1.0], requires_grad=True)])


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable() -> None:
    """A backward written on raw arrays gives right first derivatives but a constant (wrong)
    derivative of the backward: gradcheck passes, gradgradcheck fails."""

    class ArraySquare(mt.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: mt.Tensor) -> mt.Tensor:
            ctx.save_for_backward(x)
            return mt.Tensor._wrap(x.data ** 2)

        @staticmethod
        def backward(ctx: Any, g: mt.Tensor) -> mt.Tensor:
            (x,) = ctx.saved_tensors
            return g * mt.Tensor._wrap(2 * x.data)

    x = t64([0.5, -1.0])
    assert mt.autograd.gradcheck(ArraySquare.apply, [x])
    with pytest.raises(GradcheckError):
        mt.autograd.gradgradcheck(ArraySquare.apply, [x])


# ---- hooks and retain_grad ---------------------------------------------------------------------


def test_hooks_on_leaf_and_non_leaf_and_removal() -> None:
    x = t64([1.0, 2.0])
    h = x * 3
    seen = []
    handle = h.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 2)
    x.register_hook(lambda g: g + 1)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 7.0])  # (1*2)*3 + 1
    handle.remove()
    x.grad = None
    h2 = x * 3
    h2.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.tensor([1.0]).register_hook(lambda g: g)


def test_retain_grad_keeps_a_non_leaf_gradient() -> None:
    x = t64([1.0, 2.0])
    h = x * x
    h.retain_grad()
    k = x * 5  # not retained
    (h * 3 + k).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [3.0, 3.0])
    assert k.grad is None


# ---- aliasing: a leaf's .grad is its own, writable array ---------------------------------------


def test_leaf_grad_is_writable_and_owns_its_memory() -> None:
    x = t64(np.ones((3, 4)))
    x.sum().backward()  # the gradient reaches x as a broadcast view of a scalar
    assert x.grad.data.flags.writeable and x.grad.data.flags.c_contiguous
    x.grad.zero_()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


def test_leaf_grads_never_alias_each_other_or_user_arrays() -> None:
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0])
    v = mt.tensor([1.0, 1.0], dtype=mt.float64)
    (a + b).backward(v)
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert not np.shares_memory(a.grad.data, v.data)
    c = t64([1.0])
    c.backward(mt.tensor([2.0], dtype=mt.float64))
    h = a * 1
    h.retain_grad()
    (h + b).sum().backward()
    assert not np.shares_memory(h.grad.data, b.grad.data)


# ---- deep graphs ------------------------------------------------------------------------------


def test_a_graph_10000_ops_deep_backpropagates() -> None:
    assert sys.getrecursionlimit() < 10_000  # a recursive engine would fail here
    x = t64([1.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-10)
    del y  # freeing the chain does not recurse either


def test_a_deep_graph_of_mixed_ops_with_create_graph() -> None:
    x = t64([0.3])
    y = x
    for _ in range(3_000):
        y = (y * 0.999).tanh() + 0.001
    (g,) = mt.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = mt.autograd.grad(g.sum(), x)
    assert np.isfinite(g.numpy()).all() and np.isfinite(gg.numpy()).all()


# ---- dtypes through forward and backward --------------------------------------------------------


def test_float32_mlp_stays_float32_through_forward_and_backward() -> None:
    nn, F = mt.nn, mt.nn.functional
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.LayerNorm(8), nn.Tanh(),
                          nn.Linear(8, 8), nn.GELU(), nn.Dropout(0.2), nn.Linear(8, 3))
    x = mt.randn(5, 6, requires_grad=True)
    dtypes = []
    h = x
    for layer in model:
        h = layer(h)
        assert h.dtype == np.float32, f"{layer} gave {h.dtype}"
        h.register_hook(lambda g: dtypes.append(g.dtype))
    loss = (F.cross_entropy(h, mt.tensor([0, 1, 2, 0, 1]), label_smoothing=0.1)
            + F.mse_loss(h, mt.zeros(5, 3)) + F.binary_cross_entropy_with_logits(
                h, mt.ones(5, 3)))
    assert loss.dtype == np.float32
    loss.backward()
    assert dtypes and all(d == np.float32 for d in dtypes)
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_float64_graph_stays_float64() -> None:
    x = mt.randn(4, 3, dtype=mt.float64, requires_grad=True)
    lin = mt.nn.Linear(3, 2, dtype=mt.float64)
    y = mt.nn.functional.cross_entropy(lin(x), mt.tensor([0, 1, 1, 0]))
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64 and lin.weight.grad.dtype == np.float64


def test_gradients_cast_back_to_each_inputs_dtype() -> None:
    a = mt.randn(3, requires_grad=True)  # float32
    b = mt.randn(3, dtype=mt.float64, requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    c = a.double()
    c.sum().backward()
    assert a.grad.dtype == np.float32
