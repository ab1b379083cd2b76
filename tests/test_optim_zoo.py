"""The zoo: every optimizer decreases a quadratic, the Rosenbrock function and a logistic
regression with its recommended settings; and the optimizers PyTorch lacks (and the lecture
forms of momentum) follow their papers' updates, written here independently in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F  # noqa: N812
from minitorch import nn

# ---- objectives: loss(w) for one (1, d) parameter (a matrix, so Muon applies too) ---------
_rng = np.random.default_rng(42)
_Q = np.linalg.qr(_rng.standard_normal((8, 8)))[0]
QUAD_A = _Q @ np.diag(np.linspace(1.0, 10.0, 8)) @ _Q.T
QUAD_B = _rng.standard_normal(8)
QUAD_MIN = -0.5 * QUAD_B @ np.linalg.solve(QUAD_A, QUAD_B)
LOG_X = _rng.standard_normal((64, 5))
LOG_Y = (LOG_X @ np.array([1.5, -2.0, 0.5, 1.0, 0.0]) + 0.5 * _rng.standard_normal(64) > 0)


def quadratic(w):
    v = w.reshape(-1)
    return 0.5 * (v * (mt.tensor(QUAD_A) @ v)).sum() - (mt.tensor(QUAD_B) * v).sum() - QUAD_MIN


def rosenbrock(w):
    x, y = w[0, 0], w[0, 1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def logistic(w):
    logits = mt.tensor(LOG_X) @ w.reshape(-1)
    return F.binary_cross_entropy_with_logits(logits, mt.tensor(LOG_Y.astype(np.float64)))


OBJECTIVES = {  # name -> (loss, start, steps)
    "quadratic": (quadratic, np.zeros((1, 8)), 150),
    "rosenbrock": (rosenbrock, np.array([[-1.2, 1.0]]), 300),
    "logistic": (logistic, np.zeros((1, 5)), 150),
}

# recommended settings: the paper's / PyTorch's defaults, with a learning rate per problem
# (quadratic, rosenbrock, logistic); closure-driven methods take fewer outer steps.
ZOO = {
    "sgd": (dict(momentum=0.9), (0.02, 5e-4, 0.5)),
    "asgd": (dict(), (0.1, 1e-3, 1.0)),
    "acceleratedgd": (dict(), (0.08, 1e-3, 1.0)),
    "adagrad": (dict(), (0.5, 0.1, 0.5)),
    "rmsprop": (dict(), (0.02, 1e-3, 0.05)),
    "adadelta": (dict(), (10.0, 1.0, 10.0)),
    "rprop": (dict(), (0.01, 1e-3, 0.01)),
    "adafactor": (dict(), (0.1, 0.05, 0.5)),
    "adam": (dict(), (0.05, 0.02, 0.1)),
    "adamw": (dict(weight_decay=1e-4), (0.05, 0.02, 0.1)),
    "adamax": (dict(), (0.1, 0.02, 0.1)),
    "nadam": (dict(), (0.05, 0.02, 0.1)),
    "radam": (dict(), (0.1, 1e-3, 0.1)),  # its first, un-adapted steps are plain momentum
    "signsgd": (dict(), (0.01, 1e-3, 0.01)),
    "signum": (dict(), (0.01, 1e-3, 0.01)),
    "lion": (dict(), (0.01, 1e-3, 0.01)),
    "lamb": (dict(), (0.05, 0.01, 0.05)),
    "lars": (dict(trust_coefficient=0.01), (1.0, 0.2, 2.0)),
    "muon": (dict(weight_decay=0.0), (0.05, 0.01, 0.1)),
    "lookahead": (dict(base_optimizer="adam"), (0.05, 0.02, 0.1)),
    "lbfgs": (dict(line_search_fn="strong_wolfe"), (1.0, 1.0, 1.0)),
    "steepestdescent": (dict(), (1.0, 1.0, 1.0)),
    "zerothordersgd": (dict(num_samples=4, eps=1e-4), (0.005, 1e-4, 0.05)),
}
CLOSURE = {"lbfgs": 10, "steepestdescent": 40, "zerothordersgd": None}


def test_zoo_covers_every_registered_optimizer() -> None:
    assert sorted(ZOO) == mt.optim.available()


@pytest.mark.parametrize("objective", list(OBJECTIVES))
@pytest.mark.parametrize("name", sorted(ZOO))
def test_optimizer_decreases_objective(name: str, objective: str) -> None:
    loss_fn, start, steps = OBJECTIVES[objective]
    kw, lrs = ZOO[name]
    w = nn.Parameter(mt.tensor(start, dtype=mt.float64))
    opt = mt.optim.get(name, [w], lr=lrs[list(OBJECTIVES).index(objective)], **kw)

    def closure():
        opt.zero_grad()
        loss = loss_fn(w)
        loss.backward()
        return loss

    first = loss_fn(w).item()
    for _ in range(CLOSURE.get(name) or steps):
        opt.step(closure)
    last = loss_fn(w).item()
    assert np.isfinite(last)
    # the quadratic and Rosenbrock are shifted to minimum 0; logistic's minimum is ~0.3
    target = 0.5 * first if objective != "logistic" else first - 0.2
    assert last < target, f"{name} on {objective}: {first:.4g} -> {last:.4g}"


# ---- independent reference updates on a separable quadratic --------------------------------
H = [np.linspace(0.5, 4.0, 12).reshape(3, 4), np.array([1.0, 3.0, 0.2, 2.0])]
C = [np.arange(12.0).reshape(3, 4) / 6 - 1, np.array([0.5, -1.0, 2.0, 0.0])]
W0 = [np.full((3, 4), 0.3), np.array([1.0, 0.0, -1.0, 2.0])]


def grad_np(ws):
    return [h * (w - c) for h, w, c in zip(H, ws, C, strict=True)]


def loss_mt(params):
    return sum((0.5 * mt.tensor(h) * (p - mt.tensor(c)) ** 2).sum()
               for h, p, c in zip(H, params, C, strict=True))


def trajectory(opt_fn, steps: int = 30, closure: bool = False, schedule=None) -> list:
    params = [nn.Parameter(mt.tensor(w)) for w in W0]
    opt = opt_fn(params)
    sched = schedule(opt) if schedule else None
    out = []
    for _ in range(steps):
        def fn():
            opt.zero_grad()
            loss = loss_mt(params)
            loss.backward()
            return loss
        if closure:
            opt.step(fn)
        else:
            fn()
            opt.step()
        if sched:
            sched.step()
        out.append([p.numpy().copy() for p in params])
    return out


def assert_same(ours: list, ref: list, tol: float = 1e-12) -> None:
    assert len(ours) == len(ref)
    for step, (a, b) in enumerate(zip(ours, ref, strict=True)):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=f"step {step}")


def reference(update, state_init, steps: int = 30) -> list:
    """Run update(w, g, state, t) per parameter on the NumPy gradient oracle."""
    ws = [w.copy() for w in W0]
    states = [state_init(w) for w in ws]
    out = []
    for t in range(1, steps + 1):
        gs = grad_np(ws)
        ws = [update(w, g, s, t) for w, g, s in zip(ws, gs, states, strict=True)]
        out.append([w.copy() for w in ws])
    return out


def test_signsgd_paper_update() -> None:
    lr, wd = 0.05, 0.1

    def upd(w, g, s, t):
        return w - lr * (np.sign(g) + wd * w)
    assert_same(trajectory(lambda p: mt.optim.SignSGD(p, lr=lr, weight_decay=wd)),
                reference(upd, lambda w: {}))


def test_signum_paper_update() -> None:
    lr, beta, wd = 0.05, 0.8, 0.01

    def upd(w, g, s, t):
        s["m"] = beta * s["m"] + (1 - beta) * g
        return w - lr * (np.sign(s["m"]) + wd * w)
    assert_same(trajectory(lambda p: mt.optim.Signum(p, lr=lr, momentum=beta, weight_decay=wd)),
                reference(upd, lambda w: {"m": np.zeros_like(w)}))


def test_lion_paper_update() -> None:
    """Chen et al. 2023, Program 1."""
    lr, b1, b2, wd = 0.02, 0.9, 0.99, 0.1

    def upd(w, g, s, t):
        update = np.sign(b1 * s["m"] + (1 - b1) * g) + wd * w
        s["m"] = b2 * s["m"] + (1 - b2) * g
        return w - lr * update
    assert_same(trajectory(lambda p: mt.optim.Lion(p, lr=lr, betas=(b1, b2), weight_decay=wd)),
                reference(upd, lambda w: {"m": np.zeros_like(w)}))


@pytest.mark.parametrize("bias_correction", [True, False])
def test_lamb_paper_update(bias_correction: bool) -> None:
    """You et al. 2020, Algorithm 2 (phi = identity), trust ratio per tensor."""
    lr, b1, b2, eps, wd = 0.05, 0.9, 0.999, 1e-6, 0.01

    def upd(w, g, s, t):
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
        m, v = (s["m"] / (1 - b1 ** t), s["v"] / (1 - b2 ** t)) if bias_correction \
            else (s["m"], s["v"])
        r = m / (np.sqrt(v) + eps) + wd * w
        ratio = np.linalg.norm(w) / np.linalg.norm(r)
        return w - lr * ratio * r
    assert_same(trajectory(lambda p: mt.optim.LAMB(p, lr=lr, betas=(b1, b2), eps=eps,
                                                   weight_decay=wd,
                                                   bias_correction=bias_correction)),
                reference(upd, lambda w: {"m": np.zeros_like(w), "v": np.zeros_like(w)}))


def test_lars_paper_update() -> None:
    """You, Gitman & Ginsburg 2017, Algorithm 1."""
    lr, mu, wd, eta = 0.5, 0.9, 5e-3, 0.01

    def upd(w, g, s, t):
        local = eta * np.linalg.norm(w) / (np.linalg.norm(g) + wd * np.linalg.norm(w))
        s["v"] = mu * s["v"] + lr * local * (g + wd * w)
        return w - s["v"]
    assert_same(trajectory(lambda p: mt.optim.LARS(p, lr=lr, momentum=mu, weight_decay=wd,
                                                   trust_coefficient=eta, eps=0.0)),
                reference(upd, lambda w: {"v": np.zeros_like(w)}))


def test_trust_ratios_fall_back_to_one_for_zero_weights() -> None:
    for opt_cls in (mt.optim.LAMB, mt.optim.LARS):
        w = nn.Parameter(mt.zeros(3, dtype=mt.float64))
        opt = opt_cls([w], lr=0.1)
        (w - mt.tensor([1.0, 2.0, 3.0])).pow(2).sum().backward()
        opt.step()
        assert np.isfinite(w.numpy()).all() and (w.numpy() != 0).all()


def test_lookahead_paper_update() -> None:
    """Zhang et al. 2019, Algorithm 1, around plain SGD."""
    lr, k, alpha = 0.1, 4, 0.6

    def upd(w, g, s, t):
        w = w - lr * g
        if t % k == 0:
            s["slow"] = s["slow"] + alpha * (w - s["slow"])
            w = s["slow"].copy()
        return w
    ours = trajectory(lambda p: mt.optim.Lookahead(mt.optim.SGD(p, lr=lr), k=k, alpha=alpha))
    assert_same(ours, reference(upd, lambda w: {"slow": w.copy()}))


def test_accelerated_gd_seed_002_form() -> None:
    """x_{k+1} = y_k - lr*grad f(y_k); y_k = x_k + (k-1)/(k+2) (x_k - x_{k-1})."""
    lr = 0.1
    ys = [w.copy() for w in W0]
    xs_prev = [w.copy() for w in W0]
    ref = []
    for k in range(1, 31):
        xs = [y - lr * g for y, g in zip(ys, grad_np(ys), strict=True)]
        ys = [x + (k / (k + 3)) * (x - xp) for x, xp in zip(xs, xs_prev, strict=True)]
        xs_prev = xs
        ref.append([y.copy() for y in ys])
    assert_same(trajectory(lambda p: mt.optim.AcceleratedGD(p, lr=lr)), ref)


def test_polyak_form_equals_pytorch_form_at_constant_lr() -> None:
    a = trajectory(lambda p: mt.optim.SGD(p, lr=0.05, momentum=0.9))
    b = trajectory(lambda p: mt.optim.SGD(p, lr=0.05, momentum=0.9, momentum_form="polyak"))
    assert_same(a, b, tol=1e-11)


def test_polyak_form_under_a_schedule_is_seed_004s_heavy_ball() -> None:
    """v <- mu*v - lr_t*g; w <- w + v: the velocity keeps the old learning rates."""
    mu, lr0, gamma = 0.9, 0.05, 0.8

    def upd(w, g, s, t):
        s["v"] = mu * s["v"] - lr0 * gamma ** (t - 1) * g
        return w + s["v"]

    def sched(opt):
        return mt.optim.lr_scheduler.ExponentialLR(opt, gamma)
    ours = trajectory(lambda p: mt.optim.SGD(p, lr=lr0, momentum=mu, momentum_form="polyak"),
                      schedule=sched)
    assert_same(ours, reference(upd, lambda w: {"v": np.zeros_like(w)}))
    pytorch_form = trajectory(lambda p: mt.optim.SGD(p, lr=lr0, momentum=mu), schedule=sched)
    assert not np.allclose(pytorch_form[-1][0], ours[-1][0])  # the two forms differ here


def test_ema_form_seed_001() -> None:
    """P <- (1 - beta)*P + beta*g with beta = 1 - momentum, P_0 = 0; w <- w - lr*P."""
    lr, mu = 0.3, 0.8

    def upd(w, g, s, t):
        s["P"] = mu * s["P"] + (1 - mu) * g
        return w - lr * s["P"]
    assert_same(trajectory(lambda p: mt.optim.SGD(p, lr=lr, momentum=mu, momentum_form="ema")),
                reference(upd, lambda w: {"P": np.zeros_like(w)}))


def test_nesterov_lookahead_form_seed_004() -> None:
    """v <- mu*v - lr*grad L(w + mu*v); w <- w + v, the gradient taken at the look-ahead."""
    lr, mu = 0.05, 0.9
    ws = [w.copy() for w in W0]
    vs = [np.zeros_like(w) for w in W0]
    ref, looked = [], []
    for _ in range(30):
        gs = grad_np([w + mu * v for w, v in zip(ws, vs, strict=True)])
        vs = [mu * v - lr * g for v, g in zip(vs, gs, strict=True)]
        ws = [w + v for w, v in zip(ws, vs, strict=True)]
        ref.append([w.copy() for w in ws])
        looked.append([w + mu * v for w, v in zip(ws, vs, strict=True)])
    ours = trajectory(lambda p: mt.optim.SGD(p, lr=lr, momentum=mu, nesterov=True,
                                             momentum_form="polyak"), closure=True)
    assert_same(ours, ref)
    # PyTorch's Nesterov stores the look-ahead point w + mu*v of the same iteration
    assert_same(trajectory(lambda p: mt.optim.SGD(p, lr=lr, momentum=mu, nesterov=True)),
                looked, tol=1e-10)


# ---- steepest descent (seed 001) -----------------------------------------------------------
def test_exact_line_search_takes_the_analytic_step_on_a_quadratic() -> None:
    """For f = 1/2 w'Aw - b'w the minimiser along -g is t* = g'g / g'Ag."""
    w = nn.Parameter(mt.tensor(np.zeros((1, 8))))
    opt = mt.optim.SteepestDescent([w], line_search="exact", ls_tolerance=1e-10, max_ls=100)

    def closure():
        opt.zero_grad()
        loss = quadratic(w)
        loss.backward()
        return loss

    x = np.zeros(8)
    for _ in range(15):
        g = QUAD_A @ x - QUAD_B
        t = g @ g / (g @ QUAD_A @ g)
        x = x - t * g
        opt.step(closure)
        # a line search on loss values finds t* to about sqrt(machine eps) of the loss
        assert opt.state[w]["t"] == pytest.approx(t, rel=1e-6)
        np.testing.assert_allclose(w.numpy().reshape(-1), x, rtol=1e-5, atol=1e-7)


def test_armijo_backtracking_reference() -> None:
    c1, shrink, t0 = 1e-4, 0.5, 4.0
    ws = [w.copy() for w in W0]

    def f(ws_):
        return sum(0.5 * (h * (w - c) ** 2).sum() for h, w, c in zip(H, ws_, C, strict=True))

    ref = []
    for _ in range(10):
        gs = grad_np(ws)
        gg = sum((g * g).sum() for g in gs)
        t = t0
        while f([w - t * g for w, g in zip(ws, gs, strict=True)]) > f(ws) - c1 * t * gg:
            t *= shrink
        ws = [w - t * g for w, g in zip(ws, gs, strict=True)]
        ref.append([w.copy() for w in ws])
    ours = trajectory(lambda p: mt.optim.SteepestDescent(p, lr=t0, line_search="armijo",
                                                         c1=c1, shrink=shrink), 10, True)
    assert_same(ours, ref)


def test_strong_wolfe_steps_satisfy_the_wolfe_conditions() -> None:
    w = nn.Parameter(mt.tensor(np.array([[-1.2, 1.0]])))
    opt = mt.optim.SteepestDescent([w], lr=1e-3, line_search="strong_wolfe", c1=1e-4, c2=0.9)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(w)
        loss.backward()
        return loss

    for _ in range(20):
        f0 = closure().item()
        g0 = w.grad.numpy().reshape(-1).copy()
        opt.step(closure)
        t = opt.state[w]["t"]
        f1 = closure().item()
        g1 = w.grad.numpy().reshape(-1)
        assert f1 <= f0 - 1e-4 * t * (g0 @ g0) + 1e-12  # sufficient decrease
        assert abs(g1 @ -g0) <= 0.9 * (g0 @ g0) + 1e-12  # curvature


# ---- zeroth order (SPEC section 2) -----------------------------------------------------------
def test_zeroth_order_two_point_estimate_formula() -> None:
    """G = d*(L(w+eps v) - L(w-eps v))/(2 eps)*v, v = z/|z|, z ~ N(0, I) from the framework
    generator, drawn parameter by parameter (replayed here with NumPy's PCG64)."""
    lr, eps, seed = 0.05, 1e-3, 123
    mt.manual_seed(seed)
    ours = trajectory(lambda p: mt.optim.ZerothOrderSGD(p, lr=lr, eps=eps), 20, True)

    gen = np.random.Generator(np.random.PCG64(seed))
    ws = [w.copy() for w in W0]
    d = sum(w.size for w in ws)

    def f(ws_):
        return sum(0.5 * (h * (w - c) ** 2).sum() for h, w, c in zip(H, ws_, C, strict=True))

    ref = []
    for _ in range(20):
        zs = [gen.standard_normal(w.shape) for w in ws]
        norm = np.sqrt(sum((z * z).sum() for z in zs))
        vs = [z / norm for z in zs]
        plus = f([w + eps * v for w, v in zip(ws, vs, strict=True)])
        minus = f([w - eps * v for w, v in zip(ws, vs, strict=True)])
        ws = [w - lr * d * (plus - minus) / (2 * eps) * v for w, v in zip(ws, vs, strict=True)]
        ref.append([w.copy() for w in ws])
    assert_same(ours, ref, tol=1e-10)


def test_zeroth_order_estimate_is_unbiased() -> None:
    params = [nn.Parameter(mt.tensor(w)) for w in W0]
    opt = mt.optim.ZerothOrderSGD(params, eps=1e-4, num_samples=6000)

    def closure():
        with mt.no_grad():
            return loss_mt(params)

    est, losses = opt.estimate_gradient(closure, opt.param_groups[0])
    true = grad_np(W0)
    err = np.sqrt(sum(((e - g) ** 2).sum() for e, g in zip(est, true, strict=True)))
    scale = np.sqrt(sum((g ** 2).sum() for g in true))
    assert err < 0.1 * scale
    assert len(losses) == 12000
