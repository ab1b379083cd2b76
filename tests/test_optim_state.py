"""Resuming: save an optimizer mid-run (mt.save), load it into a fresh optimizer over fresh
parameters, continue; the result is identical to the uninterrupted run, for every optimizer."""

from __future__ import annotations

import numpy as np
import pytest
from _optim_common import CONFIGS, MtNet, make_optimizer, problem, run

import minitorch as mt
from minitorch import nn

STEPS, SAVE_AT = 40, 20


def _extra_cases() -> list:
    return [
        ("sgd", dict(momentum_form="polyak", momentum=0.9, nesterov=True, lr=0.05)),
        ("sgd", dict(momentum_form="ema", momentum=0.9, lr=0.5, nesterov=False)),
        ("rprop", dict(lr=1e-3, etas=(0.4, 1.3))),
        ("lbfgs", dict(line_search_fn=None, max_iter=2)),
        ("steepestdescent", dict(line_search="exact", max_ls=20)),
        ("steepestdescent", dict(line_search="strong_wolfe")),
        ("lookahead", dict(base_optimizer="lbfgs", k=2, max_iter=2)),
        ("adafactor", dict(lr=1e-2, eps=(None, 1e-3))),
    ]


CASES = [(n, {}) for n in sorted(CONFIGS)] + _extra_cases()
CLOSURE_NAMES = {"lbfgs", "steepestdescent", "zerothordersgd"}


def _run(net, opt, name, kw, steps):
    closure = name in CLOSURE_NAMES or kw.get("momentum_form") == "polyak" \
        or kw.get("base_optimizer") == "lbfgs"
    run(net, opt, "lbfgs" if closure else name, steps)


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_save_at_step_20_load_and_continue_is_identical(name: str, kw: dict, tmp_path) -> None:
    prob = problem(8)
    mt.manual_seed(11)
    full = MtNet(prob)
    _run(full, make_optimizer(name, full.params, **kw), name, kw, STEPS)

    mt.manual_seed(11)
    first = MtNet(prob)
    opt = make_optimizer(name, first.params, **kw)
    _run(first, opt, name, kw, SAVE_AT)
    mt.save({"weights": first.arrays(), "optim": opt.state_dict(), "rng": mt.get_rng_state()},
            tmp_path / "ck.mt")

    ck = mt.load(tmp_path / "ck.mt")
    resumed = MtNet(prob)
    for p, w in zip(resumed.params, ck["weights"], strict=True):
        p.data[...] = w
    opt2 = make_optimizer(name, resumed.params, **kw)
    opt2.load_state_dict(ck["optim"])
    mt.set_rng_state(ck["rng"])
    _run(resumed, opt2, name, kw, STEPS - SAVE_AT)
    for a, b in zip(full.arrays(), resumed.arrays(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(full.arrays()[0], prob["w1"])


def test_lookahead_state_dict_holds_the_inner_one() -> None:
    net = MtNet(problem())
    la = make_optimizer("lookahead", net.params)
    run(net, la, "lookahead", 4)
    sd = la.state_dict()
    assert set(sd) == {"base_optimizer", "slow", "k", "alpha", "lookahead_step"}
    assert sd["base_optimizer"]["state"][0]["step"] == 4 and sd["lookahead_step"] == 4
    assert sorted(sd["slow"]) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="Lookahead state_dict must have the keys"):
        la.load_state_dict(sd["base_optimizer"])
    bad = la.state_dict()
    bad["slow"][0] = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"slow weights for parameter 0 have shape \(2, 2\)"):
        la.load_state_dict(bad)


def test_state_dict_of_sgd_without_momentum_is_empty_but_loadable() -> None:
    a = nn.Parameter(mt.ones(3))
    opt = mt.optim.SGD([a], lr=0.1)
    a.sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["state"] == {}
    opt2 = mt.optim.SGD([a], lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.1
