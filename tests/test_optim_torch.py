"""Differential tests: every optimizer PyTorch also has, against torch.optim, in float64.

Same network, same initial weights, same data; after every one of >= 40 steps the weights
must agree to 1e-6 relative. Torch's own scalar state (ASGD's eta, NAdam's mu_product) is
float32 unless the default dtype is float64, so the fixture sets it for these tests.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch as mt
from _optim_common import MtNet, TorchNet, grads_step, problem

torch = pytest.importorskip("torch")

STEPS = 40
RTOL, ATOL = 1e-6, 1e-10


@pytest.fixture(autouse=True)
def _torch_float64():
    old, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)  # tiny tensors: torch's thread pool costs 100x on 2 cores
    yield
    torch.set_default_dtype(old)
    torch.set_num_threads(threads)


# (name, keyword arguments shared by both libraries)
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=1e-2)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), amsgrad=True, weight_decay=1e-2)),
    ("Adam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=1e-3, maximize=True, eps=1e-6)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1, amsgrad=True)),
    ("Adamax", dict(lr=1e-2)),
    ("Adamax", dict(lr=1e-2, betas=(0.7, 0.9), weight_decay=1e-2)),
    ("NAdam", dict(lr=1e-2)),
    ("NAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True,
                   momentum_decay=1e-2)),
    ("NAdam", dict(lr=1e-2, weight_decay=1e-2)),
    ("RAdam", dict(lr=1e-2)),
    ("RAdam", dict(lr=1e-2, betas=(0.9, 0.9), weight_decay=1e-2)),
    ("RAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1,
                     weight_decay=1e-2)),
    ("RMSprop", dict(lr=1e-2)),
    ("RMSprop", dict(lr=1e-3, momentum=0.9, alpha=0.9)),
    ("RMSprop", dict(lr=1e-3, centered=True)),
    ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.5, weight_decay=1e-2,
                     maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=1e-2)),
    ("ASGD", dict(lr=0.1)),
    ("ASGD", dict(lr=0.1, lambd=1e-2, alpha=0.5, t0=10, weight_decay=1e-3)),
    ("Rprop", dict(lr=1e-2)),
    ("Rprop", dict(lr=1e-3, etas=(0.3, 1.5), step_sizes=(1e-4, 0.05), maximize=True)),
    ("Adafactor", dict(lr=1e-2)),
    ("Adafactor", dict(lr=1e-2, beta2_decay=-0.5, d=2.0, weight_decay=1e-2,
                       eps=(1e-20, 1e-3))),
]


def _ids(case: tuple) -> str:
    name, kw = case
    return name + "".join(f"-{k}={v}" for k, v in kw.items())


def _compare(mt_net: MtNet, t_net: TorchNet, what: str) -> None:
    for i, (a, b) in enumerate(zip(mt_net.arrays(), t_net.arrays(), strict=True)):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{what}: parameter {i}")


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_trajectory_matches_torch(case: tuple) -> None:
    name, kw = case
    prob = problem()
    a, b = MtNet(prob), TorchNet(torch, prob)
    opt_a = getattr(mt.optim, name)(a.params, **kw)
    opt_b = getattr(torch.optim, name)(b.params, **kw)
    for step in range(STEPS):
        la, lb = grads_step(a, opt_a), grads_step(b, opt_b)
        assert la == pytest.approx(lb, rel=RTOL)
        _compare(a, b, f"{name} step {step}")
    assert not np.allclose(a.arrays()[0], prob["w1"])  # the weights did move


@pytest.mark.parametrize("name,kw", [
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("RMSprop", dict(lr=1e-2, centered=True)),
    ("Adagrad", dict(lr=0.1)),
])
def test_closure_returns_loss_and_matches(name: str, kw: dict) -> None:
    prob = problem(1)
    a, b = MtNet(prob), TorchNet(torch, prob)
    opt_a = getattr(mt.optim, name)(a.params, **kw)
    opt_b = getattr(torch.optim, name)(b.params, **kw)
    for step in range(STEPS):
        la, lb = opt_a.step(a.closure(opt_a)), opt_b.step(b.closure(opt_b))
        assert la.item() == pytest.approx(lb.item(), rel=RTOL)
        _compare(a, b, f"{name} closure step {step}")


@pytest.mark.parametrize("name,common,groups", [
    ("SGD", dict(lr=0.05), [dict(momentum=0.9, nesterov=True), dict(lr=0.1, momentum=0.5)]),
    ("Adam", dict(lr=1e-2), [dict(betas=(0.5, 0.9)), dict(lr=1e-3, weight_decay=0.1,
                                                          amsgrad=True)]),
    ("RMSprop", dict(lr=1e-2), [dict(centered=True), dict(alpha=0.5, momentum=0.3)]),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5),
     [dict(lr_decay=0.1), dict(weight_decay=1e-2, eps=1e-6)]),
    ("NAdam", dict(lr=1e-2), [dict(momentum_decay=0.1), dict(weight_decay=1e-2)]),
])
def test_param_groups_with_own_hyperparameters(name: str, common: dict, groups: list) -> None:
    prob = problem(2)
    a, b = MtNet(prob), TorchNet(torch, prob)

    def grouped(params: list) -> list:
        return [dict(params=params[:2], **groups[0]), dict(params=params[2:], **groups[1])]

    opt_a = getattr(mt.optim, name)(grouped(a.params), **common)
    opt_b = getattr(torch.optim, name)(grouped(b.params), **common)
    for step in range(STEPS):
        grads_step(a, opt_a)
        grads_step(b, opt_b)
        _compare(a, b, f"{name} groups step {step}")


def test_add_param_group_mid_run_matches_torch() -> None:
    prob = problem(3)
    a, b = MtNet(prob), TorchNet(torch, prob)
    opt_a = mt.optim.Adam(a.params[:2], lr=1e-2)
    opt_b = torch.optim.Adam(b.params[:2], lr=1e-2)
    for step in range(STEPS):
        if step == 10:
            opt_a.add_param_group({"params": a.params[2:], "lr": 3e-2})
            opt_b.add_param_group({"params": b.params[2:], "lr": 3e-2})
        grads_step(a, opt_a)
        grads_step(b, opt_b)
        _compare(a, b, f"add_param_group step {step}")


LBFGS_CASES = [
    (10, dict()),
    (10, dict(line_search_fn="strong_wolfe")),
    (40, dict(max_iter=2, history_size=3, lr=0.5)),
    (40, dict(max_iter=3, history_size=2, line_search_fn="strong_wolfe")),
    (10, dict(max_iter=8, max_eval=9, tolerance_change=1e-6, line_search_fn="strong_wolfe")),
]


@pytest.mark.parametrize("steps,kw", LBFGS_CASES, ids=[_ids(("LBFGS", kw))
                                                        for _, kw in LBFGS_CASES])
def test_lbfgs_matches_torch(steps: int, kw: dict) -> None:
    prob = problem(4)
    a, b = MtNet(prob, l2=1e-2), TorchNet(torch, prob, l2=1e-2)
    opt_a, opt_b = mt.optim.LBFGS(a.params, **kw), torch.optim.LBFGS(b.params, **kw)
    start = a.loss().item()
    for step in range(steps):
        la, lb = opt_a.step(a.closure(opt_a)), opt_b.step(b.closure(opt_b))
        assert la.item() == pytest.approx(lb.item(), rel=RTOL)
        _compare(a, b, f"LBFGS step {step}")
        sa, sb = opt_a.state[a.params[0]], opt_b.state[b.params[0]]
        assert sa["func_evals"] == sb["func_evals"] and sa["n_iter"] == sb["n_iter"]
    assert a.loss().item() < 0.6 * start


def _newton_schulz_float64(grad, ns_coefficients, ns_steps, eps):
    """torch's Newton-Schulz iteration without its cast to bfloat16 (written here)."""
    a, b, c = ns_coefficients
    x = grad.T if grad.size(0) > grad.size(1) else grad
    x = x / x.norm().clamp(min=eps)
    for _ in range(ns_steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if grad.size(0) > grad.size(1) else x


@pytest.mark.parametrize("kw", [dict(lr=2e-2), dict(lr=2e-2, nesterov=False, momentum=0.9,
                                                    weight_decay=0.0),
                                dict(lr=1e-2, adjust_lr_fn="match_rms_adamw", ns_steps=3)])
def test_muon_matches_torch_in_float64(monkeypatch: pytest.MonkeyPatch, kw: dict) -> None:
    """torch.optim.Muon orthogonalises in bfloat16; with that one cast removed (the iteration
    itself is unchanged) the trajectories must agree like the other optimizers'."""
    muon_module = pytest.importorskip("torch.optim._muon")
    monkeypatch.setattr(muon_module, "_zeropower_via_newtonschulz", _newton_schulz_float64)
    prob = problem(5)
    a, b = MtNet(prob), TorchNet(torch, prob)
    opt_a = mt.optim.Muon([a.params[0], a.params[2]], **kw)
    opt_b = torch.optim.Muon([b.params[0], b.params[2]], **kw)
    for step in range(STEPS):
        grads_step(a, opt_a)
        grads_step(b, opt_b)
        _compare(a, b, f"Muon step {step}")


def test_adamw_equals_adam_with_decoupled_decay() -> None:
    prob = problem(6)
    a, b = MtNet(prob), MtNet(prob)
    opt_a = mt.optim.AdamW(a.params, lr=1e-2, weight_decay=0.05)
    opt_b = mt.optim.Adam(b.params, lr=1e-2, weight_decay=0.05, decoupled_weight_decay=True)
    for _ in range(10):
        grads_step(a, opt_a)
        grads_step(b, opt_b)
    for x, y in zip(a.arrays(), b.arrays(), strict=True):
        np.testing.assert_array_equal(x, y)


def test_scheduled_sgd_matches_torch() -> None:
    """Optimizer and scheduler together: OneCycleLR drives lr and momentum every step."""
    prob = problem(7)
    a, b = MtNet(prob), TorchNet(torch, prob)
    opt_a = mt.optim.SGD(a.params, lr=0.1, momentum=0.9)
    opt_b = torch.optim.SGD(b.params, lr=0.1, momentum=0.9)
    sch_a = mt.optim.lr_scheduler.OneCycleLR(opt_a, max_lr=0.5, total_steps=STEPS)
    sch_b = torch.optim.lr_scheduler.OneCycleLR(opt_b, max_lr=0.5, total_steps=STEPS)
    for step in range(STEPS):
        grads_step(a, opt_a)
        grads_step(b, opt_b)
        sch_a.step() if step < STEPS - 1 else None
        sch_b.step() if step < STEPS - 1 else None
        _compare(a, b, f"OneCycle SGD step {step}")
        assert opt_a.param_groups[0]["momentum"] == pytest.approx(
            opt_b.param_groups[0]["momentum"], rel=1e-12)
