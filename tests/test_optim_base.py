"""The Optimizer base class: parameter groups, errors, zero_grad, lazy state, gradients
left untouched, state_dict / load_state_dict, devices, maximize and the registry."""

from __future__ import annotations

import numpy as np
import pytest
from _optim_common import CLOSURE, CONFIGS, MtNet, grads_step, make_optimizer, problem, run

import minitorch as mt
from minitorch import nn

NAMES = sorted(CONFIGS)


def _p(*shape: int, dtype=mt.float64) -> nn.Parameter:
    return nn.Parameter(mt.randn(*shape, dtype=dtype))


# ---- construction errors -------------------------------------------------------------------
def test_empty_parameter_list() -> None:
    with pytest.raises(ValueError, match="empty parameter list"):
        mt.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        mt.optim.Adam(iter([]))


def test_single_tensor_is_not_a_parameter_list() -> None:
    with pytest.raises(TypeError, match="wrap it in a list"):
        mt.optim.SGD(_p(3), lr=0.1)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "lookahead"])
def test_negative_lr_rejected_by_every_optimizer(name: str) -> None:
    with pytest.raises(ValueError, match=r"Invalid learning rate: -0.5 \(expected"):
        mt.optim.get(name, [_p(2, 2)], **{**CONFIGS[name], "lr": -0.5})


@pytest.mark.parametrize("name", ["adam", "adamw", "adamax", "nadam", "radam", "lion", "lamb"])
@pytest.mark.parametrize("betas", [(1.0, 0.9), (0.9, -0.1), (0.9, 1.5), (0.9,)])
def test_betas_outside_unit_interval_rejected(name: str, betas: tuple) -> None:
    with pytest.raises(ValueError, match="beta"):
        mt.optim.get(name, [_p(2)], betas=betas)


@pytest.mark.parametrize("make,match", [
    (lambda p: mt.optim.SGD(p, lr=0.1, momentum=-1), "momentum value: -1"),
    (lambda p: mt.optim.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires"),
    (lambda p: mt.optim.SGD(p, lr=0.1, momentum=0.9, momentum_form="heavy"), "momentum_form"),
    (lambda p: mt.optim.SGD(p, momentum=0.9, nesterov=True, momentum_form="ema"), "'ema'"),
    (lambda p: mt.optim.SGD(p, momentum=0.9, dampening=0.1, momentum_form="polyak"),
     "dampening applies"),
    (lambda p: mt.optim.Adam(p, eps=-1e-8), "epsilon value"),
    (lambda p: mt.optim.Adam(p, weight_decay=-0.1), "weight_decay value"),
    (lambda p: mt.optim.Adam(p, lr=float("nan")), "learning rate: nan"),
    (lambda p: mt.optim.Adadelta(p, rho=1.5), "rho value"),
    (lambda p: mt.optim.Rprop(p, etas=(1.5, 1.2)), "eta values"),
    (lambda p: mt.optim.Adafactor(p, d=0.5), "clipping threshold d"),
    (lambda p: mt.optim.LBFGS(p, line_search_fn="wolfe"), "line_search_fn"),
    (lambda p: mt.optim.LBFGS([{"params": p[:1]}, {"params": p[1:]}]), "parameter groups"),
    (lambda p: mt.optim.Muon(p), "2-D parameters"),
    (lambda p: mt.optim.Lookahead(mt.optim.SGD(p), k=0), "Invalid k"),
    (lambda p: mt.optim.Lookahead(p), "wraps an Optimizer"),
    (lambda p: mt.optim.ZerothOrderSGD(p, num_samples=0), "num_samples"),
    (lambda p: mt.optim.SteepestDescent(p, line_search="newton"), "line_search"),
    (lambda p: mt.optim.SGD([{"params": p[:1], "lr": -1.0}], lr=0.1), "learning rate: -1.0"),
])
def test_bad_hyperparameters_raise_one_line_errors(make, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match) as info:
        make([_p(3), _p(2)])
    assert "\n" not in str(info.value)


def test_bad_parameters() -> None:
    a, b = _p(3), _p(3)
    with pytest.raises(ValueError, match="non-leaf"):
        mt.optim.SGD([a * 2], lr=0.1)
    with pytest.raises(ValueError, match="integer dtype"):
        mt.optim.SGD([mt.tensor([1, 2])], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors.*ndarray"):
        mt.optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        mt.optim.SGD([a, a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        mt.optim.SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1)
    with pytest.raises(TypeError, match="not a set"):
        mt.optim.SGD({a, b}, lr=0.1)


# ---- groups ----------------------------------------------------------------------------------
def test_param_groups_take_defaults_and_own_values() -> None:
    a, b = _p(3), _p(2)
    opt = mt.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    g0, g1 = opt.param_groups
    assert (g0["lr"], g0["momentum"]) == (0.1, 0.0)
    assert (g1["lr"], g1["momentum"]) == (0.5, 0.9)
    assert g1["params"] == [b]
    c = _p(4)
    opt.add_param_group({"params": [c], "weight_decay": 0.1})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["weight_decay"] == 0.1
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_hyperparameters_become_python_numbers() -> None:
    opt = mt.optim.Adam([_p(2)], lr=np.float32(0.5), betas=(np.float64(0.8), 0.9))
    g = opt.param_groups[0]
    assert type(g["lr"]) is float and all(type(b) is float for b in g["betas"])
    opt = mt.optim.SGD([_p(2)], lr=mt.tensor(0.25))
    assert opt.param_groups[0]["lr"] == 0.25


def test_named_parameters_are_kept() -> None:
    model = nn.Linear(3, 2)
    opt = mt.optim.SGD(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_groups_with_and_without_names_do_not_mix() -> None:
    model = nn.Linear(3, 2)
    opt = mt.optim.SGD(model.named_parameters(), lr=0.1)
    with pytest.raises(ValueError, match="with or without names"):
        opt.add_param_group({"params": [_p(2)]})


def test_repr_lists_groups() -> None:
    text = repr(mt.optim.Adam([_p(2)], lr=0.01))
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.01" in text


# ---- stepping --------------------------------------------------------------------------------
def test_zero_grad() -> None:
    a = _p(3)
    opt = mt.optim.SGD([a], lr=0.1)
    (a * a).sum().backward()
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is not g and np.array_equal(a.grad.numpy(), np.zeros(3))
    assert not np.array_equal(g.numpy(), np.zeros(3))  # the old gradient object is untouched
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("name", [n for n in NAMES if n not in CLOSURE])
def test_step_never_writes_into_gradients(name: str) -> None:
    net = MtNet(problem())
    extra = {} if name in ("muon", "lookahead") else {"maximize": True}
    if name in ("lamb", "lars", "sgd", "adam"):
        extra["weight_decay"] = 0.1
    opt = make_optimizer(name, net.params, **extra)
    for _ in range(3):
        opt.zero_grad()
        net.loss().backward()
        grads = [p.grad for p in net.params]
        copies = [g.numpy().copy() for g in grads]
        opt.step()
        for p, g, c in zip(net.params, grads, copies, strict=True):
            assert p.grad is g
            np.testing.assert_array_equal(g.numpy(), c)


@pytest.mark.parametrize("name", NAMES)
def test_state_is_lazy_and_like_the_parameter(name: str) -> None:
    net = MtNet(problem())
    frozen = _p(3)
    opt = make_optimizer(name, net.params + ([] if name in ("lbfgs", "muon") else [frozen]))
    assert len(opt.state) == 0
    run(net, opt, name, 2)
    if name != "lookahead":  # Lookahead keeps slow weights phi_0 = w_0 of every parameter
        assert frozen not in opt.state or not opt.state[frozen]  # never had a gradient
    for p, st in opt.state.items():
        for k, v in st.items():
            if isinstance(v, np.ndarray) and v.shape == p.shape:
                assert v.dtype == p.dtype, (name, k)


@pytest.mark.parametrize("name", NAMES)
def test_float32_parameters_stay_float32(name: str) -> None:
    net = MtNet(problem())
    for p in net.params:
        p.data = p.data.astype(np.float32)
    net.x = net.x.float()
    opt = make_optimizer(name, net.params)
    run(net, opt, name, 3)
    for p in net.params:
        assert p.dtype == np.float32 and np.isfinite(p.numpy()).all()


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("lbfgs", "steepestdescent",
                                                                 "muon", "lookahead")])
def test_maximize_is_minimising_the_negated_loss(name: str) -> None:
    a, b = MtNet(problem()), MtNet(problem())
    neg_loss = b.loss
    b.loss = lambda: -neg_loss()
    mt.manual_seed(3)
    opt_a = make_optimizer(name, a.params)
    run(a, opt_a, name, 5)
    mt.manual_seed(3)
    opt_b = make_optimizer(name, b.params, maximize=True)
    run(b, opt_b, name, 5)
    for x, y in zip(a.arrays(), b.arrays(), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


def test_parameters_without_gradients_are_skipped() -> None:
    a, b = _p(3), _p(3)
    before = b.numpy().copy()
    opt = mt.optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    np.testing.assert_array_equal(b.numpy(), before)
    assert b not in opt.state


def test_closure_runs_with_grad_enabled_even_under_no_grad() -> None:
    a = _p(3)
    opt = mt.optim.SGD([a], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with mt.no_grad():
        loss = opt.step(closure)
    assert loss.item() > 0 and a.grad is not None


def test_closure_needed() -> None:
    for opt in (mt.optim.LBFGS([_p(2)]), mt.optim.SteepestDescent([_p(2)]),
                mt.optim.ZerothOrderSGD([_p(2)]),
                mt.optim.SGD([_p(2)], momentum=0.9, nesterov=True, momentum_form="polyak")):
        with pytest.raises(ValueError, match="closure"):
            opt.step()


# ---- state dicts ---------------------------------------------------------------------------
def test_state_dict_layout_and_snapshot() -> None:
    net = MtNet(problem())
    opt = mt.optim.Adam([{"params": net.params[:2]}, {"params": net.params[2:], "lr": 0.1}])
    grads_step(net, opt)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sd["param_groups"][1]["lr"] == 0.1 and sd["state"][0]["step"] == 1
    saved = sd["state"][0]["exp_avg"].copy()
    grads_step(net, opt)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], saved)  # a snapshot


def test_load_state_dict_validates_layout() -> None:
    net = MtNet(problem())
    opt = mt.optim.Adam(net.params, lr=0.1)
    grads_step(net, opt)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="1 parameter group.*this optimizer has 2"):
        mt.optim.Adam([{"params": net.params[:2]}, {"params": net.params[2:]}]) \
            .load_state_dict(sd)
    with pytest.raises(ValueError, match="group 0 has 4 parameters, this optimizer's has 3"):
        mt.optim.Adam(net.params[:3]).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    bad = opt.state_dict()
    bad["state"][1]["exp_avg"] = np.zeros((5, 5))
    with pytest.raises(ValueError, match=r"parameter 1: 'exp_avg' has shape \(5, 5\)"):
        mt.optim.Adam(net.params).load_state_dict(bad)
    bad = opt.state_dict()
    bad["state"][9] = bad["state"].pop(1)
    with pytest.raises(ValueError, match="parameter index 9"):
        mt.optim.Adam(net.params).load_state_dict(bad)


def test_load_restores_hyperparameters_and_casts_dtype() -> None:
    net = MtNet(problem())
    opt = mt.optim.Adam(net.params, lr=0.1)
    grads_step(net, opt)
    sd = opt.state_dict()
    p32 = [nn.Parameter(mt.tensor(a, dtype=mt.float32)) for a in net.arrays()]
    opt32 = mt.optim.Adam(p32, lr=0.5)
    opt32.load_state_dict(sd)
    assert opt32.param_groups[0]["lr"] == 0.1 and opt32.param_groups[0]["params"] == p32
    st = opt32.state[p32[0]]
    assert st["exp_avg"].dtype == np.float32 and st["step"] == 1
    assert not np.shares_memory(st["exp_avg"], sd["state"][0]["exp_avg"])


def test_state_dict_round_trips_through_mt_save(tmp_path) -> None:
    net = MtNet(problem())
    opt = make_optimizer("lbfgs", net.params)
    run(net, opt, "lbfgs", 3)
    sd = opt.state_dict()
    mt.save(sd, tmp_path / "opt.mt")
    back = mt.load(tmp_path / "opt.mt")
    assert back["param_groups"] == sd["param_groups"]
    st, st2 = sd["state"][0], back["state"][0]
    assert sorted(st) == sorted(st2) and len(st2["old_dirs"]) == len(st["old_dirs"])
    for a, b in zip(st["old_dirs"], st2["old_dirs"], strict=True):
        np.testing.assert_array_equal(a, b)


# ---- devices ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_same_trajectory_on_every_device(name: str, device: str) -> None:
    """One implementation for NumPy and CuPy: the device run matches the CPU run."""
    ref, net = MtNet(problem()), MtNet(problem(), device=device)
    mt.manual_seed(5)
    run(ref, make_optimizer(name, ref.params), name, 5)
    mt.manual_seed(5)
    opt = make_optimizer(name, net.params)
    run(net, opt, name, 5)
    if device == "cpu" or name != "zerothordersgd":  # the GPU draws other directions
        for a, b in zip(ref.arrays(), net.arrays(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
    for st in opt.state.values():
        for v in st.values():
            if hasattr(v, "shape"):
                assert mt.backend.device_of(v) == device


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["adam", "sgd", "lbfgs", "lookahead"])
def test_state_follows_a_model_moved_to_the_gpu(name: str) -> None:
    ref, net = MtNet(problem()), MtNet(problem())
    run(ref, make_optimizer(name, ref.params), name, 6)
    opt = make_optimizer(name, net.params)
    run(net, opt, name, 3)
    for p in net.params:
        p.data = mt.backend.to_device(p.data, "cuda:0")
    net.x, net.y = net.x.to("cuda"), net.y.to("cuda")
    run(net, opt, name, 3)
    for a, b in zip(ref.arrays(), net.arrays(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_to_moves_state_to_its_parameters() -> None:
    net = MtNet(problem())
    opt = mt.optim.Adam(net.params)
    grads_step(net, opt)
    for st in opt.state.values():
        st["exp_avg"] = st["exp_avg"].astype(np.float32)  # as if loaded from elsewhere
    opt.to()
    assert all(st["exp_avg"].dtype == np.float64 for st in opt.state.values())


# ---- registry ------------------------------------------------------------------------------
def test_registry() -> None:
    names = mt.optim.available()
    assert names == sorted(names)
    assert {"sgd", "adam", "adamw", "lbfgs", "signum", "lion", "lookahead"} <= set(names)
    a = _p(2)
    assert isinstance(mt.optim.get("AdamW", [a], lr=1e-3), mt.optim.AdamW)
    assert isinstance(mt.optim.get("sign_sgd", [a]), mt.optim.SignSGD)
    assert isinstance(mt.optim.get("zeroth-order-sgd", [a]), mt.optim.ZerothOrderSGD)
    la = mt.optim.get("lookahead", [a], base_optimizer="sgd", lr=0.3, k=7)
    assert isinstance(la.base_optimizer, mt.optim.SGD) and la.k == 7
    assert la.param_groups[0]["lr"] == 0.3
    with pytest.raises(ValueError, match="unknown optimizer 'adamx'; valid names: .*adamw"):
        mt.optim.get("adamx", [a])
    with pytest.raises(ValueError, match="base_optimizer"):
        mt.optim.get("lookahead", [a])
    with pytest.raises(TypeError, match="unexpected keyword"):
        mt.optim.get("sgd", [a], betas=(0.9, 0.99))


def test_register_a_new_optimizer() -> None:
    class Halve(mt.optim.Optimizer):
        def __init__(self, params, lr=0.5):
            super().__init__(params, {"lr": lr})

        def _update(self, p, g, state, group):
            p -= group["lr"] * p

    mt.optim.register("halve", Halve)
    try:
        a = nn.Parameter(mt.ones(2))
        opt = mt.optim.get("HALVE", [a])
        a.sum().backward()
        opt.step()
        assert a.tolist() == [0.5, 0.5]
    finally:
        from minitorch.optim import registry

        registry._REGISTRY.pop("halve")
    with pytest.raises(TypeError, match="Optimizer subclass"):
        mt.optim.register("x", dict)
