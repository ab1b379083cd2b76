"""The lectures' worked examples (SPEC.md section 2) hold: reverse-mode gradients of the seeds'
functions, the matrix-calculus identities of seed 003, and the linear-regression closed form
against gradient descent. Values are compared with the closed forms to the last bits."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

import minitorch as mt

POINTS = [(0.5, 2.0), (-1.3, 0.7), (3.0, -2.5), (0.0, 1.0)]


def leaf(v: float) -> mt.Tensor:
    return mt.tensor(v, dtype=mt.float64, requires_grad=True)


def exact(actual: mt.Tensor, expected: float) -> None:
    """Equal to the closed form up to floating-point rounding (a couple of ulps)."""
    np.testing.assert_allclose(actual.numpy(), expected, rtol=4e-16, atol=1e-300)


@pytest.mark.parametrize("a, b", POINTS)
def test_seed001_forward_example(a: float, b: float) -> None:
    """y = x1 x2 + sin x1:  dy/dx1 = x2 + cos x1,  dy/dx2 = x1, and every adjoint
    w̄3 = w̄4 = w̄5 = 1 (seed 001's table)."""
    x1, x2 = leaf(a), leaf(b)
    w3 = x1 * x2
    w4 = x1.sin()
    y = w3 + w4
    for w in (w3, w4, y):
        w.retain_grad()
    y.backward()
    exact(x1.grad, b + math.cos(a))
    exact(x2.grad, a)
    for w in (w3, w4, y):
        assert w.grad.item() == 1.0


@pytest.mark.parametrize("a, b", POINTS)
def test_seed001_reverse_example(a: float, b: float) -> None:
    """f = exp(x1 x2) + x2^3:  grad = (x2 e^{x1 x2}, x1 e^{x1 x2} + 3 x2^2); w̄3 = e^{w3}."""
    x1, x2 = leaf(a), leaf(b)
    w3 = x1 * x2
    w3.retain_grad()
    y = w3.exp() + x2 ** 3
    y.backward()
    e = math.exp(a * b)
    exact(w3.grad, e)
    exact(x1.grad, b * e)
    exact(x2.grad, a * e + 3 * b * b)
    exact(y.detach(), e + b ** 3)


def test_seed002_chain_rule_example() -> None:
    """c = a + b, d = b + 1, e = c d at a = 2, b = 1: e = 6, de/da = d = 2,
    de/db = d + c = 5 (b reaches e along two paths, and the two contributions add up)."""
    a, b = leaf(2.0), leaf(1.0)
    c = a + b
    d = b + 1
    e = c * d
    e.backward()
    assert e.item() == 6.0 and a.grad.item() == 2.0 and b.grad.item() == 5.0


@pytest.mark.parametrize("a, b", [(2.0, 3.0), (1.5, 0.25), (7.0, 1.0)])
def test_seed000_log_sqrt_example(a: float, b: float) -> None:
    """L(w1, w2) = w2 log w1 + sqrt(w2 log w1):
    dL/dw1 = (w2 / w1)(1 + 1/(2 sqrt(w2 log w1))), dL/dw2 = log w1 (1 + 1/(2 sqrt(...)))."""
    w1, w2 = leaf(a), leaf(b)
    v = w2 * w1.log()  # the shared subexpression, used twice
    loss = v + v.sqrt()
    loss.backward()
    s = 1 + 1 / (2 * math.sqrt(b * math.log(a)))
    np.testing.assert_allclose(w1.grad.item(), b / a * s, rtol=1e-15)
    np.testing.assert_allclose(w2.grad.item(), math.log(a) * s, rtol=1e-15)


def test_seed000_central_differences_beat_forward_differences() -> None:
    """Forward differences (L(w+εe) − L(w))/ε err by O(ε), central ones by O(ε²)."""
    def loss(w1: float, w2: float) -> float:
        return w2 * math.log(w1) + math.sqrt(w2 * math.log(w1))

    w1, w2 = leaf(2.0), leaf(3.0)
    v = w2 * w1.log()
    (v + v.sqrt()).backward()
    exact_g = w1.grad.item()
    eps = 1e-4
    forward = (loss(2.0 + eps, 3.0) - loss(2.0, 3.0)) / eps
    central = (loss(2.0 + eps, 3.0) - loss(2.0 - eps, 3.0)) / (2 * eps)
    assert abs(central - exact_g) < 1e-7 < abs(forward - exact_g) < 1e-4
    f = lambda a, b: (b * a.log() + (b * a.log()).sqrt())  # noqa: E731
    assert mt.autograd.gradcheck(f, [w1, w2])


# ---- seed 003: matrix calculus -----------------------------------------------------------------

RNG = np.random.default_rng(3)


def test_gradient_of_quadratic_form() -> None:
    """grad <Ax, x> = (A + A^T) x; for symmetric A it is 2 A x."""
    a = RNG.standard_normal((5, 5))
    x = mt.tensor(RNG.standard_normal(5), dtype=mt.float64, requires_grad=True)
    ((mt.tensor(a) @ x) * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (a + a.T) @ x.numpy(), rtol=1e-13)
    s = a + a.T
    x.grad = None
    (x @ (mt.tensor(s) @ x)).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * s @ x.numpy(), rtol=1e-13)


def test_gradient_of_determinant() -> None:
    """grad det X = det(X) X^-T (Jacobi's formula)."""
    xv = RNG.standard_normal((4, 4)) + 3 * np.eye(4)
    x = mt.tensor(xv, dtype=mt.float64, requires_grad=True)
    d = mt.linalg.det(x)
    d.backward()
    np.testing.assert_allclose(d.item(), np.linalg.det(xv), rtol=1e-13)
    np.testing.assert_allclose(x.grad.numpy(), np.linalg.det(xv) * np.linalg.inv(xv).T,
                               rtol=1e-12)


def test_differential_of_the_inverse() -> None:
    """d(X^-1) = -X^-1 dX X^-1: the derivative along any direction dX, and therefore the
    gradient of <G, X^-1>, which is -X^-T G X^-T."""
    xv = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    g = RNG.standard_normal((3, 3))
    dx = RNG.standard_normal((3, 3))
    inv = np.linalg.inv(xv)
    x = mt.tensor(xv, dtype=mt.float64, requires_grad=True)
    (mt.linalg.inv(x) * mt.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -inv.T @ g @ inv.T, rtol=1e-12)
    # the directional form: <grad, dX> = <G, -X^-1 dX X^-1>
    np.testing.assert_allclose((x.grad.numpy() * dx).sum(), (g * (-inv @ dx @ inv)).sum(),
                               rtol=1e-12)
    eps = 1e-6
    with mt.no_grad():
        plus = mt.linalg.inv(mt.tensor(xv + eps * dx)).numpy()
        minus = mt.linalg.inv(mt.tensor(xv - eps * dx)).numpy()
    np.testing.assert_allclose((plus - minus) / (2 * eps), -inv @ dx @ inv, rtol=1e-7)


def _regression(n: int = 200, d: int = 5) -> tuple:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = x @ w_true + 0.1 * rng.standard_normal(n)
    return x, y


def _mse(w: mt.Tensor, x: np.ndarray, y: np.ndarray) -> mt.Tensor:
    r = mt.tensor(x) @ w - mt.tensor(y)
    return (r * r).sum() / x.shape[0]


def test_gradient_of_least_squares() -> None:
    """grad_w (1/N)||Xw - y||^2 = (2/N) X^T (Xw - y)."""
    x, y = _regression()
    w = mt.tensor(RNG.standard_normal(5), dtype=mt.float64, requires_grad=True)
    _mse(w, x, y).backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 / len(y) * x.T @ (x @ w.numpy() - y),
                               rtol=1e-12)


@pytest.mark.parametrize("closed_form", [
    lambda x, y: mt.linalg.inv(x.T @ x) @ x.T @ y,  # w = (X^T X)^-1 X^T y with our ops
    lambda x, y: mt.tensor(np.linalg.lstsq(x.numpy(), y.numpy(), rcond=None)[0]),
], ids=["normal_equations", "lstsq"])
def test_closed_form_and_gradient_descent_agree(closed_form: Callable) -> None:
    x, y = _regression()
    w_star = closed_form(mt.tensor(x), mt.tensor(y)).numpy()
    # gradient descent on the same loss, the gradient from autograd; step 1/L, with L the
    # largest eigenvalue of the Hessian (2/N) X^T X
    lr = 1 / np.linalg.eigvalsh(2 / len(y) * x.T @ x).max()
    w = mt.zeros(5, dtype=mt.float64, requires_grad=True)
    for _ in range(500):
        loss = _mse(w, x, y)
        w.grad = None
        loss.backward()
        with mt.no_grad():
            w.data -= lr * w.grad.data
        if np.linalg.norm(w.grad.numpy()) < 1e-12:
            break
    np.testing.assert_allclose(w.numpy(), w_star, rtol=1e-9, atol=1e-11)
    # at the closed form the gradient vanishes
    ws = mt.tensor(w_star, dtype=mt.float64, requires_grad=True)
    _mse(ws, x, y).backward()
    assert np.abs(ws.grad.numpy()).max() < 1e-12
