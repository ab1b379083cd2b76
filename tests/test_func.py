"""minitorch.func: grad, vjp, jvp, jacobian, hessian, hvp, Hutchinson's trace, zero-order."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch as mt
from minitorch import func
from minitorch.autograd.gradcheck import numerical_jacobian


def _t(a: np.ndarray, device: str = "cpu", **kw) -> mt.Tensor:
    return mt.tensor(a, dtype=mt.float64, device=device, **kw)


@pytest.fixture
def spd(rng: np.random.Generator) -> np.ndarray:
    m = rng.standard_normal((4, 4))
    return m @ m.T + 4 * np.eye(4)


# ---- closed forms (seed 003's identities) -------------------------------------------------------
def test_quadratic_form_gradient_hessian_hvp(device: str, rng: np.random.Generator) -> None:
    a = rng.standard_normal((5, 5))
    x0, v0 = rng.standard_normal(5), rng.standard_normal(5)
    A = _t(a, device)

    def f(x: mt.Tensor) -> mt.Tensor:
        return x @ (A @ x)  # <Ax, x>

    x, v = _t(x0, device), _t(v0, device)
    np.testing.assert_allclose(func.grad(f)(x).numpy(), (a + a.T) @ x0, rtol=1e-12)
    np.testing.assert_allclose(func.hessian(f)(x).numpy(), a + a.T, rtol=1e-12, atol=1e-14)
    value, hv = func.hvp(f, x, v)
    np.testing.assert_allclose(value.item(), x0 @ a @ x0, rtol=1e-12)
    np.testing.assert_allclose(hv.numpy(), (a + a.T) @ v0, rtol=1e-12)


def test_log_det_gradient_and_hessian(spd: np.ndarray) -> None:
    X = _t(spd)
    inv = np.linalg.inv(spd)
    g = func.grad(lambda m: mt.linalg.logdet(m))(X)
    np.testing.assert_allclose(g.numpy(), inv.T, rtol=1e-10)  # ∇ log det X = X^{-T}
    # d(X^{-1}) = -X^{-1} dX X^{-1}: the Hessian of log det is -(X^{-T} ⊗ X^{-1}) by entries
    h = func.hessian(lambda m: mt.linalg.logdet(m))(X).numpy()
    want = -np.einsum("li,jk->ijkl", inv, inv)
    np.testing.assert_allclose(h, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode", ["reverse", "forward", "auto"])
def test_softmax_jacobian(mode: str, rng: np.random.Generator) -> None:
    z0 = rng.standard_normal(6)
    J = func.jacobian(lambda z: mt.softmax(z, dim=0), mode=mode)(_t(z0)).numpy()
    s = np.exp(z0 - z0.max())
    s /= s.sum()
    np.testing.assert_allclose(J, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)


def test_logsumexp_hessian_is_softmax_covariance(rng: np.random.Generator) -> None:
    z0 = rng.standard_normal(5)
    H = func.hessian(lambda z: mt.logsumexp(z, dim=0))(_t(z0)).numpy()
    s = np.exp(z0 - z0.max())
    s /= s.sum()
    np.testing.assert_allclose(H, np.diag(s) - np.outer(s, s), rtol=1e-10, atol=1e-14)


def test_least_squares_gradient(rng: np.random.Generator) -> None:
    X0, y0, w0 = rng.standard_normal((20, 3)), rng.standard_normal(20), rng.standard_normal(3)
    X, y = _t(X0), _t(y0)
    g = func.grad(lambda w: ((X @ w - y) ** 2).mean())(_t(w0))
    np.testing.assert_allclose(g.numpy(), 2 / 20 * X0.T @ (X0 @ w0 - y0), rtol=1e-12)


def test_seed_examples_and_argnums() -> None:
    def f(x1: mt.Tensor, x2: mt.Tensor) -> mt.Tensor:
        return mt.exp(x1 * x2) + x2 ** 3

    a, b = _t(np.array(0.5)), _t(np.array(-1.5))
    g1, g2 = func.grad(f, argnums=(0, 1))(a, b)
    e = np.exp(0.5 * -1.5)
    np.testing.assert_allclose([g1.item(), g2.item()], [-1.5 * e, 0.5 * e + 3 * 2.25])
    np.testing.assert_allclose(func.grad(f, argnums=-1)(a, b).item(), 0.5 * e + 3 * 2.25)
    g, value = func.grad_and_value(f)(a, b)
    np.testing.assert_allclose(value.item(), e + (-1.5) ** 3)
    g, aux = func.grad(lambda x: (x.sin(), "note"), has_aux=True)(a)
    assert aux == "note" and np.isclose(g.item(), np.cos(0.5))


# ---- jvp / vjp / jacobian against finite differences ---------------------------------------------
def _net(w: np.ndarray):
    W = _t(w)

    def f(x: mt.Tensor) -> mt.Tensor:
        return mt.tanh(W @ x) * x.sum() + mt.sigmoid(x[:3]).sum()

    return f


def test_jacobian_modes_match_finite_differences(rng: np.random.Generator) -> None:
    f = _net(rng.standard_normal((7, 4)))
    x = _t(rng.standard_normal(4), requires_grad=True)
    numeric = numerical_jacobian(f, [x])[0].T  # (out, in)
    for mode in ("reverse", "forward", "auto"):
        np.testing.assert_allclose(func.jacobian(f, mode=mode)(x).numpy(), numeric,
                                   rtol=1e-6, atol=1e-8)


def test_jvp_and_vjp_are_j_times_vectors(rng: np.random.Generator) -> None:
    f = _net(rng.standard_normal((7, 4)))
    x0 = rng.standard_normal(4)
    J = func.jacobian(f)(_t(x0)).numpy()
    v0, u0 = rng.standard_normal(4), rng.standard_normal(7)
    value, jv = func.jvp(f, (_t(x0),), (_t(v0),))
    np.testing.assert_allclose(value.numpy(), f(_t(x0)).numpy(), rtol=1e-14)
    np.testing.assert_allclose(jv.numpy(), J @ v0, rtol=1e-12)
    value, pull = func.vjp(f, _t(x0))
    (ju,) = pull(_t(u0))
    np.testing.assert_allclose(ju.numpy(), u0 @ J, rtol=1e-12)
    assert not value.requires_grad  # the caller's x did not require grad


def test_multiple_inputs_and_outputs(rng: np.random.Generator) -> None:
    def f(a: mt.Tensor, b: mt.Tensor) -> tuple:
        return a * b.sum(), (a ** 2).sum() + (b ** 3).sum()

    a0, b0 = rng.standard_normal(3), rng.standard_normal(2)
    ja, jb = func.jacobian(lambda a, b: f(a, b)[0], argnums=(0, 1))(_t(a0), _t(b0))
    np.testing.assert_allclose(ja.numpy(), np.eye(3) * b0.sum(), rtol=1e-12)
    np.testing.assert_allclose(jb.numpy(), np.outer(a0, np.ones(2)), rtol=1e-12)
    for mode in ("forward", "reverse"):
        (j0a, j0b), (j1a, j1b) = func.jacobian(f, argnums=(0, 1), mode=mode)(_t(a0), _t(b0))
        np.testing.assert_allclose(j0a.numpy(), np.eye(3) * b0.sum(), rtol=1e-12)
        np.testing.assert_allclose(j0b.numpy(), np.outer(a0, np.ones(2)), rtol=1e-12)
        np.testing.assert_allclose(j1a.numpy(), 2 * a0, rtol=1e-12)
        np.testing.assert_allclose(j1b.numpy(), 3 * b0 ** 2, rtol=1e-12)
    value, tangent = func.jvp(lambda a, b: a * b.sum(), (_t(a0), _t(b0)),
                              (_t(np.ones(3)), _t(np.zeros(2))))
    np.testing.assert_allclose(tangent.numpy(), np.full(3, b0.sum()), rtol=1e-12)


def test_unused_input_gives_zeros() -> None:
    g = func.grad(lambda a, b: (a * 2).sum(), argnums=1)(_t(np.ones(3)), _t(np.ones(2)))
    np.testing.assert_array_equal(g.numpy(), np.zeros(2))
    J = func.jacobian(lambda a: mt.ones(3, dtype=mt.float64))(_t(np.ones(2)))
    np.testing.assert_array_equal(J.numpy(), np.zeros((3, 2)))


# ---- composition -------------------------------------------------------------------------------
def test_transforms_compose_and_stay_differentiable(rng: np.random.Generator) -> None:
    def f(x: mt.Tensor) -> mt.Tensor:
        return (mt.sin(x) * x ** 2).sum()

    x0 = rng.standard_normal(3)
    # grad of grad along a direction = the Hessian-vector product
    v0 = rng.standard_normal(3)
    _, hv = func.hvp(f, _t(x0), _t(v0))
    _, jvp_of_grad = func.jvp(func.grad(f), (_t(x0),), (_t(v0),))
    np.testing.assert_allclose(jvp_of_grad.numpy(), hv.numpy(), rtol=1e-12)
    # results are differentiable when x requires grad: d/dx sum(grad f) = H @ 1
    x = _t(x0, requires_grad=True)
    func.grad(f)(x).sum().backward()
    H = func.hessian(f)(_t(x0)).numpy()
    np.testing.assert_allclose(x.grad.numpy(), H @ np.ones(3), rtol=1e-12)
    d2 = 2 * np.sin(x0) + 4 * x0 * np.cos(x0) - x0 ** 2 * np.sin(x0)
    np.testing.assert_allclose(H, np.diag(d2), atol=1e-12)


def test_transforms_work_under_no_grad_and_never_touch_dot_grad() -> None:
    x = _t(np.array([1.0, 2.0]), requires_grad=True)
    with mt.no_grad():
        g = func.grad(lambda t: (t ** 3).sum())(x)
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])
    assert x.grad is None and not g.requires_grad


# ---- against torch.func -------------------------------------------------------------------------
# torch's forward-mode AD loads decompositions through torch.jit.script, which warns
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_against_torch_func(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    w0, x0, v0 = rng.standard_normal((5, 4)), rng.standard_normal(4), rng.standard_normal(4)
    W, Wt = _t(w0), torch.tensor(w0)

    def f(x):  # the same formula in both frameworks
        return (mt.tanh(W @ x) ** 2).sum() + mt.log_softmax(x, dim=0)[0]

    def ft(x):
        return (torch.tanh(Wt @ x) ** 2).sum() + torch.log_softmax(x, dim=0)[0]

    def g(x):
        return mt.sigmoid(W @ x) * x[0]

    def gt(x):
        return torch.sigmoid(Wt @ x) * x[0]

    x, xt, v, vt = _t(x0), torch.tensor(x0), _t(v0), torch.tensor(v0)
    tf = torch.func
    np.testing.assert_allclose(func.grad(f)(x).numpy(), tf.grad(ft)(xt).numpy(), rtol=1e-12)
    np.testing.assert_allclose(func.hessian(f)(x).numpy(), tf.hessian(ft)(xt).numpy(),
                               rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(func.jacobian(g, mode="reverse")(x).numpy(),
                               tf.jacrev(gt)(xt).numpy(), rtol=1e-12)
    np.testing.assert_allclose(func.jacobian(g, mode="forward")(x).numpy(),
                               tf.jacfwd(gt)(xt).numpy(), rtol=1e-12)
    np.testing.assert_allclose(func.jvp(g, (x,), (v,))[1].numpy(),
                               tf.jvp(gt, (xt,), (vt,))[1].numpy(), rtol=1e-12)
    u0 = rng.standard_normal(5)
    np.testing.assert_allclose(func.vjp(g, x)[1](_t(u0))[0].numpy(),
                               tf.vjp(gt, xt)[1](torch.tensor(u0))[0].numpy(), rtol=1e-12)
    want_v, want_hv = torch.autograd.functional.hvp(ft, xt, vt)
    got_v, got_hv = func.hvp(f, x, v)
    np.testing.assert_allclose(got_v.item(), want_v.item(), rtol=1e-13)
    np.testing.assert_allclose(got_hv.numpy(), want_hv.numpy(), rtol=1e-11)


# ---- Hutchinson and zero-order -------------------------------------------------------------------
def test_hutchinson_within_its_standard_error(device: str, rng: np.random.Generator) -> None:
    a = rng.standard_normal((8, 8))
    A = _t(a @ a.T, device)

    def f(x: mt.Tensor) -> mt.Tensor:
        return 0.5 * (x @ (A @ x)) + mt.tanh(x).sum()

    x = _t(rng.standard_normal(8), device)
    exact = float(np.trace(func.hessian(f)(x).numpy()))
    for dist in ("rademacher", "gaussian"):
        est = func.hutchinson_trace(f, x, samples=200, distribution=dist)
        assert len(est.samples) == 200 and est.stderr > 0
        assert abs(est.estimate - exact) <= 3 * est.stderr, (dist, est.estimate, exact)
        # the standard error is the spread of the samples over sqrt(k)
        assert np.isclose(est.stderr, est.samples.std(ddof=1) / np.sqrt(200))


def test_hutchinson_is_exact_for_a_diagonal_hessian_with_rademacher() -> None:
    d = np.array([1.0, -2.0, 3.5, 0.25])
    D = _t(d)
    est = func.hutchinson_trace(lambda x: 0.5 * (D * x * x).sum(), _t(np.ones(4)), samples=5)
    np.testing.assert_allclose(est.samples, d.sum(), rtol=1e-14)  # v^T D v = sum(d) for v = ±1
    assert est.stderr < 1e-12


def test_hutchinson_is_reproducible_with_manual_seed() -> None:
    def f(x: mt.Tensor) -> mt.Tensor:
        return (x ** 4).sum() + x[0] * x[1]

    x = _t(np.array([0.3, -1.0, 2.0]))
    mt.manual_seed(3)
    a = func.hutchinson_trace(f, x, 10).samples
    mt.manual_seed(3)
    np.testing.assert_array_equal(a, func.hutchinson_trace(f, x, 10).samples)


def test_zero_order_gradient_estimate(rng: np.random.Generator) -> None:
    a = rng.standard_normal((5, 5))
    A = _t(a @ a.T)
    b = _t(rng.standard_normal(5))

    def f(x: mt.Tensor) -> mt.Tensor:  # quadratic: the central difference is exact
        return 0.5 * (x @ (A @ x)) + b @ x

    x0 = rng.standard_normal(5)
    true = (a @ a.T) @ x0 + b.numpy()
    one = func.zero_order_grad(f, _t(x0), eps=1e-2).numpy()
    # a single sample is d (∇f·v) v, v a unit vector: parallel to v with |·| = d |∇f·v|
    v = one / np.linalg.norm(one)
    np.testing.assert_allclose(np.linalg.norm(one), 5 * abs(true @ v), rtol=1e-8)
    k = 4000
    est = func.zero_order_grad(f, _t(x0), eps=1e-2, samples=k).numpy()
    # E[d v v^T] = I, so the mean converges to ∇f with error ~ |∇f| sqrt(d / k)
    assert np.linalg.norm(est - true) < 4 * np.linalg.norm(true) * np.sqrt(5 / k)


# ---- errors ------------------------------------------------------------------------------------
def test_errors_are_clear() -> None:
    x = _t(np.ones(3))
    with pytest.raises(ValueError, match=r"grad: fn must return a scalar Tensor.*\(3,\)"):
        func.grad(lambda t: t * 2)(x)
    with pytest.raises(ValueError, match="argnums 2 is out of range for 1"):
        func.grad(lambda t: t.sum(), argnums=2)(x)
    with pytest.raises(TypeError, match="grad: input 0 must be a Tensor, got list"):
        func.grad(lambda t: t.sum())([1.0, 2.0])
    with pytest.raises(TypeError, match="must be a floating-point tensor"):
        func.grad(lambda t: t.sum())(mt.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"jvp: tangent 0 has shape \(2,\), its primal \(3,\)"):
        func.jvp(lambda t: t, (x,), (_t(np.ones(2)),))
    with pytest.raises(ValueError, match="jvp: got 1 primal"):
        func.jvp(lambda t: t, (x,), ())
    with pytest.raises(ValueError, match="hvp: fn must return a scalar"):
        func.hvp(lambda t: t, x, x)
    with pytest.raises(ValueError, match="mode must be 'auto', 'reverse' or 'forward'"):
        func.jacobian(lambda t: t, mode="sideways")
    with pytest.raises(ValueError, match="samples must be a positive int"):
        func.hutchinson_trace(lambda t: t.sum(), x, 0)
    with pytest.raises(ValueError, match=r"vjp_fn: cotangent 0 must be a Tensor of shape"):
        func.vjp(lambda t: t * 2, x)[1](_t(np.ones(4)))
