"""The Tensor API of API.md beyond the op table: metadata, conversions, dtypes, devices,
in-place helpers, leaf/non-leaf bookkeeping and the messages of misuse."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch as mt


def test_metadata(device: str) -> None:
    x = mt.zeros(2, 3, 4, device=device)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3
    assert x.ndim == 3 and x.dim() == 3 and len(x) == 2 and x.numel() == 24
    assert x.dtype == mt.float32 and x.element_size() == 4 and x.nbytes() == 96
    assert x.device == device and x.is_leaf and not x.requires_grad


def test_conversions() -> None:
    x = mt.tensor([[1.5, -2.0]], dtype=mt.float64)
    assert x.tolist() == [[1.5, -2.0]]
    assert isinstance(x.numpy(), np.ndarray)
    assert mt.tensor(3.5).item() == 3.5 and float(mt.tensor([2.0])) == 2.0
    assert int(mt.tensor(7)) == 7
    assert [1, 2, 3][mt.tensor(1)] == 2  # __index__
    assert np.asarray(x).dtype == np.float64
    with pytest.raises(ValueError, match=r"only one-element tensors.*\(1, 2\)"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mt.tensor([1.0, 2.0]))
    assert bool(mt.tensor([1.0]))
    with pytest.raises(TypeError, match="0-d"):
        len(mt.tensor(1.0))
    with pytest.raises(TypeError, match="integer tensors of a single element"):
        [1, 2][mt.tensor(1.0)]
    assert [r.tolist() for r in mt.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]


def test_repr() -> None:
    assert repr(mt.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=float64" in repr(mt.tensor([1.0], dtype=mt.float64))
    assert "requires_grad=True" in repr(mt.tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(mt.tensor([1.0], requires_grad=True) * 2)


def test_dtype_casts_are_differentiable() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    assert x.float() is x and x.to(mt.float32) is x
    assert x.long().dtype == np.int64 and not x.long().requires_grad
    assert x.int().dtype == np.int32 and x.bool().dtype == np.bool_
    assert x.type(mt.float16).dtype == np.float16
    assert x.to("cpu", mt.float64).dtype == np.float64
    assert x.to(mt.zeros(1, dtype=mt.float64)).dtype == np.float64
    c = x.to(copy=True)
    assert c is not x and not np.shares_memory(c.data, x.data)


def test_clone_detach_and_leaves() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not c.is_leaf and not np.shares_memory(c.data, x.data)
    c.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    y = x * 2
    assert not y.is_leaf and y.grad_fn is not None
    with pytest.raises(RuntimeError, match="non-leaf.*detach"):
        y.requires_grad_(False)
    y.detach_()
    assert y.is_leaf and not y.requires_grad
    assert mt.tensor([1.0]).requires_grad_().requires_grad


def test_in_place_helpers() -> None:
    x = mt.ones(2, 3)
    assert x.zero_() is x and not x.numpy().any()
    x.fill_(2.5)
    assert (x.numpy() == 2.5).all()
    x.copy_(mt.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3))
    x[0, 1] = 9.0
    x[mt.tensor([1])] = mt.tensor([[7.0, 7.0, 7.0]])
    np.testing.assert_array_equal(x.numpy(), [[0.0, 9.0, 2.0], [7.0, 7.0, 7.0]])


def test_shape_helpers() -> None:
    x = mt.arange(24.0).reshape(2, 3, 4)
    assert x.view(-1, 4).shape == (6, 4) and x.reshape((4, 6)).shape == (4, 6)
    assert x.view_as(mt.zeros(6, 4)).shape == (6, 4)
    assert x[:, :1].expand(-1, 5, -1).shape == (2, 5, 4)
    assert mt.zeros(3, 1).expand_as(mt.zeros(2, 3, 4)).shape == (2, 3, 4)
    assert x.contiguous() is x
    assert x.squeeze(0).shape == (2, 3, 4) and mt.zeros(1, 3, 1).squeeze((0, 2)).shape == (3,)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert x.flatten().shape == (24,) and x.flatten(0, 1).shape == (6, 4)
    assert mt.tensor(1.0).flatten().shape == (1,)
    assert x.transpose(-1, 0).shape == (4, 3, 2) and x.permute(2, 0, 1).shape == (4, 2, 3)
    assert mt.zeros(3).t().shape == (3,) and mt.zeros(2, 3).t().shape == (3, 2)
    assert [p.shape for p in x.split(2, dim=2)] == [(2, 3, 2), (2, 3, 2)]
    assert [p.shape for p in x.split(2, dim=1)] == [(2, 2, 4), (2, 1, 4)]
    assert [p.shape for p in x.chunk(3, dim=2)] == [(2, 3, 2), (2, 3, 2)]
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0, 0, 1)
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(2, 3\) to \(4, 3\)"):
        mt.zeros(2, 3).expand(4, 3)


def test_reductions_misc() -> None:
    x = mt.tensor([[1.0, -3.0], [2.0, 0.5]], dtype=mt.float64)
    assert x.sum(dtype=mt.float32).dtype == np.float32
    assert x.argmax(dim=1, keepdim=True).shape == (2, 1)
    assert x.max(dim=0, keepdim=True).values.shape == (1, 2)
    assert bool((x > 0).any()) and not bool((x > 0).all())
    np.testing.assert_array_equal((x > 0).all(dim=1).numpy(), [False, True])
    np.testing.assert_allclose(x.norm(p=1).item(), 6.5)
    np.testing.assert_allclose(x.norm(p=float("inf")).item(), 3.0)
    np.testing.assert_allclose(x.norm(p=3).item(), np.sum(np.abs(x.numpy()) ** 3) ** (1 / 3))
    assert x.amax().item() == 2.0
    with pytest.raises(TypeError, match="floating"):
        mt.tensor([1, 2]).mean()


def test_variance_with_too_few_elements_is_nan_as_torch() -> None:
    x = mt.tensor([1.5], dtype=mt.float64, requires_grad=True)
    v = x.var()
    assert np.isnan(v.item())
    assert x.var(correction=0).item() == 0.0


def test_comparison_and_logic_operators() -> None:
    a, b = mt.tensor([1, 2, 3]), mt.tensor([3, 2, 1])
    np.testing.assert_array_equal((a == b).numpy(), [False, True, False])
    np.testing.assert_array_equal(((a > 1) & (b > 1)).numpy(), [False, True, False])
    np.testing.assert_array_equal(((a > 2) | (b > 2)).numpy(), [True, False, True])
    np.testing.assert_array_equal((~(a > 1)).numpy(), [True, False, False])
    np.testing.assert_array_equal((a // 2).numpy(), [0, 1, 1])
    np.testing.assert_array_equal((a % 2).numpy(), [1, 0, 1])
    assert a.eq(b).dtype == np.bool_ and a.ne(b).numpy().sum() == 2


def test_scalar_operands_keep_the_tensor_dtype() -> None:
    x = mt.tensor([1.0, 2.0])  # float32
    for y in (x + 1, 1 - x, x * 2.5, 2.5 / x, x ** 2, 2.0 ** x, x / np.float64(3.0),
              np.float64(3.0) * x, -x, abs(x), +x):
        assert y.dtype == np.float32, y


def test_manual_update_in_place_under_no_grad_keeps_the_leaf() -> None:
    """The seeds' gradient-descent step `w -= lr * w.grad`, exactly as in PyTorch."""
    w = mt.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    before = id(w.data)
    with mt.no_grad():
        w -= 0.25 * w.grad
        w *= 2.0
        w += mt.ones(2)
        w /= 2.0
    assert id(w.data) == before and w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.numpy(), [1.0, -0.5])
    with pytest.raises(RuntimeError, match=r"-=: a leaf tensor that requires grad.*no_grad"):
        w -= 1.0
    with mt.no_grad():
        w.sub_(w.grad, alpha=0.5).mul_(2.0).add_(1.0).div_(4.0).clamp_(max=0.5)
    np.testing.assert_allclose(w.numpy(), [0.25, 0.5])
    with pytest.raises(RuntimeError, match="add_: a leaf tensor"):
        w.add_(1.0)


def test_in_place_on_graph_tensors() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h += 1  # rebinds h to h + 1: the graph stays right
    h *= h
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * x.numpy() + 1) * 2)
    total = mt.zeros(())
    for _ in range(3):
        total += (x * x).sum()  # accumulating a loss
    assert total.requires_grad and total.item() == 15.0
    g = x * 3
    with pytest.raises(RuntimeError, match="part of a graph.*out of place"):
        g.add_(1.0)
    with pytest.raises(RuntimeError, match="item assignment: in-place changes"):
        g[0] = 1.0
    plain = mt.zeros(3)
    plain += 2
    plain[1] = 5.0
    np.testing.assert_array_equal(plain.numpy(), [2.0, 5.0, 2.0])
