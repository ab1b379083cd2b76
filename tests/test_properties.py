"""Property-based tests (hypothesis): broadcasting and its undoing in the engine, reductions
over any dims, and indexing, for random shapes; checked against NumPy formulas."""

from __future__ import annotations

from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import minitorch as mt

# ---- strategies --------------------------------------------------------------------------------

pairs_of_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                    max_side=3)
shapes = hnp.array_shapes(min_dims=1, max_dims=4, max_side=4)


def arrays(shape: tuple, seed: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, shape)


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a gradient of the broadcast shape back to `shape` (the reference)."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def leaf(a: np.ndarray) -> mt.Tensor:
    return mt.tensor(a, dtype=mt.float64, requires_grad=True)


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b, v: (v, v)),
    "sub": (lambda a, b: a - b, lambda a, b, v: (v, -v)),
    "mul": (lambda a, b: a * b, lambda a, b, v: (v * b, v * a)),
    "div": (lambda a, b: a / b, lambda a, b, v: (v / b, -v * a / b ** 2)),
    "maximum": (lambda a, b: mt.maximum(a, b) if isinstance(a, mt.Tensor) else np.maximum(a, b),
                lambda a, b, v: (v * (a > b), v * (a < b))),
}


@given(pairs_of_shapes, st.sampled_from(sorted(BINARY)), st.integers(0, 2 ** 16))
def test_broadcast_binary_ops_undo_broadcasting(shapes_: Any, name: str, seed: int) -> None:
    (sa, sb), out_shape = shapes_
    fn, grads = BINARY[name]
    av, bv = arrays(sa, seed), arrays(sb, seed + 1, 0.5, 2.0)  # b > 0: a safe divisor
    a, b = leaf(av), leaf(bv)
    out = fn(a, b)
    assert out.shape == out_shape
    np.testing.assert_allclose(out.numpy(), fn(av, bv), rtol=1e-14)
    v = arrays(out_shape, seed + 2)
    out.backward(mt.tensor(v, dtype=mt.float64))
    ga, gb = grads(*np.broadcast_arrays(av, bv), v)
    assert a.grad.shape == sa and b.grad.shape == sb
    np.testing.assert_allclose(a.grad.numpy(), unbroadcast(ga, sa), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.grad.numpy(), unbroadcast(gb, sb), rtol=1e-12, atol=1e-14)


@given(shapes, st.data(), st.booleans(), st.integers(0, 2 ** 16))
def test_reductions_over_any_dims(shape: tuple, data: Any, keepdim: bool, seed: int) -> None:
    dims = tuple(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))
    av = arrays(shape, seed)
    v_shape = tuple(1 if i in dims else s for i, s in enumerate(shape)) if keepdim else \
        tuple(s for i, s in enumerate(shape) if i not in dims)
    v = arrays(v_shape, seed + 1)
    v_full = np.broadcast_to(v.reshape(tuple(1 if i in dims else s
                                             for i, s in enumerate(shape))), shape)
    n = int(np.prod([shape[d] for d in dims]))
    for name, ref, grad in (
        ("sum", lambda x: x.sum(axis=dims, keepdims=keepdim), lambda x: v_full),
        ("mean", lambda x: x.mean(axis=dims, keepdims=keepdim), lambda x: v_full / n),
        ("logsumexp", None, None),
    ):
        a = leaf(av)
        out = getattr(a, name)(dim=dims, keepdim=keepdim)
        assert out.shape == v_shape, name
        out.backward(mt.tensor(v, dtype=mt.float64))
        if ref is None:  # logsumexp: the gradient is softmax over dims
            m = av.max(axis=dims, keepdims=True)
            lse = np.log(np.exp(av - m).sum(axis=dims, keepdims=True)) + m
            np.testing.assert_allclose(out.numpy().reshape(-1), lse.reshape(-1), rtol=1e-13)
            np.testing.assert_allclose(a.grad.numpy(), v_full * np.exp(av - lse), rtol=1e-12)
        else:
            np.testing.assert_allclose(out.numpy(), ref(av), rtol=1e-13)
            np.testing.assert_allclose(a.grad.numpy(), grad(av), rtol=1e-13)


@given(shapes.flatmap(lambda s: st.tuples(st.just(s), hnp.basic_indices(s, allow_newaxis=True,
                                                                         allow_ellipsis=True))),
       st.integers(0, 2 ** 16))
def test_basic_indexing_scatters_the_gradient_back(case: Any, seed: int) -> None:
    shape, index = case
    av = arrays(shape, seed)
    a = leaf(av)
    out = a[index]
    np.testing.assert_array_equal(out.numpy(), av[index])
    v = arrays(out.shape, seed + 1)
    out.backward(mt.tensor(v, dtype=mt.float64))
    expected = np.zeros(shape)
    expected[index] += v
    np.testing.assert_array_equal(a.grad.numpy(), expected)


@given(shapes, st.integers(0, 2 ** 16), st.integers(1, 6))
def test_integer_array_indexing_accumulates_repeats(shape: tuple, seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    idx = rng.integers(-shape[0], shape[0], n)
    av = arrays(shape, seed)
    a = leaf(av)
    out = a[mt.tensor(idx)]
    np.testing.assert_array_equal(out.numpy(), av[idx])
    v = arrays(out.shape, seed + 1)
    out.backward(mt.tensor(v, dtype=mt.float64))
    expected = np.zeros(shape)
    np.add.at(expected, idx, v)
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-14)
