"""Learning-rate schedules: values against torch.optim.lr_scheduler (to 1e-12), resuming
from a saved state_dict, the registry, and bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitorch as mt
from minitorch.optim import lr_scheduler as mls

STEPS = 60


def _params(lib, n_groups: int = 2):
    """Two parameter groups with different learning rates (lib: minitorch or torch)."""
    if lib is mt:
        ps = [mt.nn.Parameter(mt.zeros(3, dtype=mt.float64)) for _ in range(n_groups)]
    else:
        ps = [lib.zeros(3, dtype=lib.float64, requires_grad=True) for _ in range(n_groups)]
    return [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(ps)]


def sgd(lib, **kw):
    return lambda: lib.optim.SGD(_params(lib), lr=0.1, momentum=0.9, **kw)


def adam(lib, **kw):
    return lambda: lib.optim.Adam(_params(lib), lr=1e-3, **kw)


def _halve(epoch: int) -> float:
    return 0.5 ** (epoch // 10)


# id -> (optimizer kind, scheduler factory(sched_module, optimizer))
CASES = {
    "lambda": ("sgd", lambda s, o: s.LambdaLR(o, lr_lambda=lambda e: 0.95 ** e)),
    "lambda-list": ("sgd", lambda s, o: s.LambdaLR(o, [lambda e: 1 / (1 + e), _halve])),
    "multiplicative": ("sgd", lambda s, o: s.MultiplicativeLR(o, lambda e: 0.9 + 0.001 * e)),
    "step": ("sgd", lambda s, o: s.StepLR(o, step_size=7, gamma=0.5)),
    "multistep": ("sgd", lambda s, o: s.MultiStepLR(o, [5, 12, 12, 30], gamma=0.3)),
    "constant": ("sgd", lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=8)),
    "linear-warmup": ("sgd", lambda s, o: s.LinearLR(o, start_factor=0.1, total_iters=10)),
    "linear-decay": ("sgd", lambda s, o: s.LinearLR(o, 1.0, 0.05, total_iters=30)),
    "exponential": ("sgd", lambda s, o: s.ExponentialLR(o, gamma=0.93)),
    "polynomial": ("sgd", lambda s, o: s.PolynomialLR(o, total_iters=20, power=2.0)),
    "cosine": ("sgd", lambda s, o: s.CosineAnnealingLR(o, T_max=15, eta_min=1e-3)),
    "cosine-restarts": ("sgd", lambda s, o: s.CosineAnnealingWarmRestarts(o, 7)),
    "cosine-restarts-mult": ("sgd", lambda s, o: s.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=1e-4)),
    "cyclic-triangular": ("sgd", lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=5)),
    "cyclic-triangular2": ("sgd", lambda s, o: s.CyclicLR(
        o, [0.01, 0.02], [0.1, 0.3], step_size_up=4, step_size_down=7, mode="triangular2",
        base_momentum=[0.8, 0.7], max_momentum=0.95)),
    "cyclic-exp-range": ("sgd", lambda s, o: s.CyclicLR(
        o, 0.01, 0.1, step_size_up=6, mode="exp_range", gamma=0.97)),
    "cyclic-adam": ("adam", lambda s, o: s.CyclicLR(o, 1e-4, 1e-2, step_size_up=5)),
    "cyclic-no-momentum": ("adam", lambda s, o: s.CyclicLR(
        o, 1e-4, 1e-2, step_size_up=3, cycle_momentum=False)),
    "cyclic-scale-fn": ("sgd", lambda s, o: s.CyclicLR(
        o, 0.01, 0.1, step_size_up=4, scale_fn=lambda x: 1 / x, scale_mode="cycle")),
    "onecycle-cos": ("sgd", lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=STEPS + 1)),
    "onecycle-linear": ("sgd", lambda s, o: s.OneCycleLR(
        o, max_lr=[1.0, 0.5], epochs=7, steps_per_epoch=9, anneal_strategy="linear",
        pct_start=0.25)),
    "onecycle-three-phase": ("adam", lambda s, o: s.OneCycleLR(
        o, max_lr=0.01, total_steps=STEPS, three_phase=True, div_factor=10.0)),
    "sequential": ("sgd", lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, 0.1, total_iters=5), s.CosineAnnealingLR(o, T_max=20)], [5])),
    "sequential-3": ("sgd", lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o, 0.3, total_iters=4), s.ExponentialLR(o, 0.9),
            s.StepLR(o, 5, 0.5)], [6, 20])),
    "chained": ("sgd", lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o, 0.5, total_iters=10), s.ExponentialLR(o, 0.95)])),
}


def _build(lib, kind: str, factory):
    opt = (sgd if kind == "sgd" else adam)(lib)()
    return opt, factory(lib.optim.lr_scheduler, opt)


def _record(opt, sched, steps: int, metrics=None) -> list:
    """lr (and momentum / beta1) of every group after each step."""
    out = []
    for i in range(steps):
        opt.step()  # no gradients: a no-op, but PyTorch warns without it
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        out.append([(g["lr"], g.get("momentum", g.get("betas", (None,))[0]))
                    for g in opt.param_groups])
    return out


def _assert_close(a: list, b: list) -> None:
    for step, (ra, rb) in enumerate(zip(a, b, strict=True)):
        for (lra, ma), (lrb, mb) in zip(ra, rb, strict=True):
            assert lra == pytest.approx(lrb, rel=1e-12, abs=1e-15), f"lr at step {step}"
            assert ma == pytest.approx(mb, rel=1e-12, abs=1e-15), f"momentum at step {step}"


@pytest.mark.parametrize("case", list(CASES))
def test_schedule_matches_torch(case: str) -> None:
    torch = pytest.importorskip("torch")
    kind, factory = CASES[case]
    opt_a, sch_a = _build(mt, kind, factory)
    opt_b, sch_b = _build(torch, kind, factory)
    assert sch_a.get_last_lr() == pytest.approx(sch_b.get_last_lr(), rel=1e-12)
    _assert_close(_record(opt_a, sch_a, STEPS), _record(opt_b, sch_b, STEPS))
    assert sch_a.get_last_lr() == pytest.approx(sch_b.get_last_lr(), rel=1e-12)


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.7, 0.71, 0.7, 0.7, 0.7, 0.7, 0.7] * 5


@pytest.mark.parametrize("kw", [
    dict(patience=2),
    dict(mode="max", factor=0.5, patience=1, threshold=0.01, threshold_mode="abs"),
    dict(patience=1, cooldown=3, min_lr=[0.02, 0.05], factor=0.3),
    dict(patience=0, min_lr=0.01, eps=1e-3),
])
def test_reduce_on_plateau_matches_torch(kw: dict) -> None:
    torch = pytest.importorskip("torch")
    opt_a, opt_b = sgd(mt)(), sgd(torch)()
    sch_a = mls.ReduceLROnPlateau(opt_a, **kw)
    sch_b = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_b, **kw)
    n = len(PLATEAU_METRICS)
    _assert_close(_record(opt_a, sch_a, n, PLATEAU_METRICS),
                  _record(opt_b, sch_b, n, PLATEAU_METRICS))
    assert opt_a.param_groups[0]["lr"] < 0.1  # it did reduce


def test_inverse_time_decay_closed_form() -> None:
    """Seed 002: eta_t = eta_0 / (1 + decay*t), in chainable form, to 1e-12 for 500 steps."""
    opt = sgd(mt)()
    sched = mls.InverseTimeLR(opt, decay=0.3)
    assert sched.get_last_lr() == [0.1, 0.2]
    for t in range(1, 501):
        opt.step()
        sched.step()
        for base, lr in zip((0.1, 0.2), sched.get_last_lr(), strict=True):
            assert lr == pytest.approx(base / (1 + 0.3 * t), rel=1e-12)
    sched.step(epoch=7)  # the closed form when jumping
    assert sched.get_last_lr() == pytest.approx([0.1 / 3.1, 0.2 / 3.1], rel=1e-15)


def test_inverse_time_matches_torch_lambda() -> None:
    torch = pytest.importorskip("torch")
    opt_a, opt_b = sgd(mt)(), sgd(torch)()
    sch_a = mls.InverseTimeLR(opt_a, decay=0.05)
    sch_b = torch.optim.lr_scheduler.LambdaLR(opt_b, lambda t: 1 / (1 + 0.05 * t))
    _assert_close(_record(opt_a, sch_a, STEPS), _record(opt_b, sch_b, STEPS))


@pytest.mark.parametrize("case", list(CASES) + ["inverse-time", "plateau"])
def test_resume_from_saved_state_continues_identically(case: str, tmp_path) -> None:
    """Save optimizer + scheduler at step 25 with mt.save, rebuild both, load, continue:
    the learning rates equal those of an uninterrupted run exactly."""
    if case == "inverse-time":
        kind, factory = "sgd", lambda s, o: s.InverseTimeLR(o, decay=0.1)
    elif case == "plateau":
        kind, factory = "sgd", lambda s, o: s.ReduceLROnPlateau(o, patience=1, cooldown=2)
    else:
        kind, factory = CASES[case]
    metrics = PLATEAU_METRICS if case == "plateau" else None
    opt, sched = _build(mt, kind, factory)
    full = _record(opt, sched, STEPS, metrics)

    opt, sched = _build(mt, kind, factory)
    first = _record(opt, sched, 25, metrics)
    mt.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "ck.mt")
    ck = mt.load(tmp_path / "ck.mt")
    opt2, sched2 = _build(mt, kind, factory)
    opt2.load_state_dict(ck["opt"])
    sched2.load_state_dict(ck["sched"])
    rest = _record(opt2, sched2, STEPS - 25, metrics[25:] if metrics else None)
    assert first + rest == full


def test_scheduler_state_dict_is_a_snapshot_and_checks_keys() -> None:
    opt = sgd(mt)()
    sched = mls.StepLR(opt, step_size=2)
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 0
    sched.step()
    assert sd["last_epoch"] == 0  # later steps do not change a saved state
    with pytest.raises(ValueError, match="missing keys.*step_size"):
        sched.load_state_dict({k: v for k, v in sd.items() if k != "step_size"})
    other = mls.CosineAnnealingLR(sgd(mt)(), T_max=3).state_dict()
    with pytest.raises(ValueError, match="does not match StepLR"):
        sched.load_state_dict(other)


def test_lambda_lr_does_not_save_functions(tmp_path) -> None:
    class Warmup:  # a callable object: its attributes are state, as in PyTorch
        def __init__(self) -> None:
            self.scale = 2.0

        def __call__(self, epoch: int) -> float:
            return self.scale * 0.9 ** epoch

    fn = Warmup()
    sched = mls.LambdaLR(sgd(mt)(), [fn, lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"scale": 2.0}, None]
    mt.save(sd, tmp_path / "s.mt")
    fn2 = Warmup()
    fn2.scale = 5.0
    sched2 = mls.LambdaLR(sgd(mt)(), [fn2, lambda e: 1.0])
    sched2.load_state_dict(mt.load(tmp_path / "s.mt"))
    assert fn2.scale == 2.0


def test_registry_builds_by_name_and_lists_names_on_error() -> None:
    names = mls.available()
    assert names == sorted(names) and "cosineannealinglr" in names and "inversetimelr" in names
    opt = sgd(mt)()
    assert isinstance(mls.get("StepLR", opt, step_size=3), mls.StepLR)
    assert isinstance(mls.get("cosine_annealing", sgd(mt)(), T_max=5), mls.CosineAnnealingLR)
    assert isinstance(mls.get("one-cycle", sgd(mt)(), max_lr=1.0, total_steps=10),
                      mls.OneCycleLR)
    seq = mls.get("sequential", opt := sgd(mt)(), milestones=[3], schedulers=[
        {"name": "linear", "start_factor": 0.1, "total_iters": 3},
        {"name": "exponential", "gamma": 0.9}])
    assert isinstance(seq, mls.SequentialLR)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)
    chained = mls.get("chainedscheduler", opt2 := sgd(mt)(),
                      schedulers=[{"name": "exponentiallr", "gamma": 0.5}])
    chained.step()
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="unknown lr scheduler 'warmup'.*cosineannealinglr"):
        mls.get("warmup", opt)


@pytest.mark.parametrize("make,match", [
    (lambda o: mls.StepLR(o, step_size=0), "step_size"),
    (lambda o: mls.CosineAnnealingLR(o, T_max=0), "T_max"),
    (lambda o: mls.LinearLR(o, start_factor=0.0), "Starting multiplicative factor"),
    (lambda o: mls.ConstantLR(o, factor=2.0), "between 0 and 1"),
    (lambda o: mls.CosineAnnealingWarmRestarts(o, T_0=0), "T_0"),
    (lambda o: mls.CyclicLR(o, 0.1, 1.0, mode="zigzag"), "mode 'zigzag' is invalid"),
    (lambda o: mls.CyclicLR(o, [0.1], 1.0), "one value per parameter group"),
    (lambda o: mls.OneCycleLR(o, max_lr=1.0), "total_steps OR"),
    (lambda o: mls.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1), "pct_start"),
    (lambda o: mls.ReduceLROnPlateau(o, factor=1.0), "Factor should be < 1.0"),
    (lambda o: mls.ReduceLROnPlateau(o, mode="up"), "mode 'up' is unknown"),
    (lambda o: mls.LambdaLR(o, [lambda e: 1.0]), "Expected 2 lr_lambdas"),
    (lambda o: mls.InverseTimeLR(o, decay=-1.0), "decay >= 0"),
    (lambda o: mls.StepLR(o, 3, last_epoch=4), "initial_lr"),
    (lambda o: mls.SequentialLR(o, [mls.StepLR(o, 2)], milestones=[3]), "one milestone fewer"),
    (lambda o: mls.StepLR("not an optimizer", 3), "str is not an Optimizer"),
])
def test_bad_arguments_raise_clear_errors(make, match: str) -> None:
    with pytest.raises((ValueError, TypeError, KeyError), match=match):
        make(sgd(mt)())


def test_cyclic_momentum_needs_momentum() -> None:
    opt = mt.optim.Adagrad([mt.nn.Parameter(mt.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match="neither momentum nor betas"):
        mls.CyclicLR(opt, 0.01, 0.1)
    mls.CyclicLR(opt, 0.01, 0.1, cycle_momentum=False)


def test_onecycle_refuses_to_run_past_total_steps() -> None:
    opt = sgd(mt)()
    sched = mls.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()


def test_schedules_drive_a_lookahead_inner_lr() -> None:
    inner = mt.optim.SGD([mt.nn.Parameter(mt.zeros(2))], lr=1.0)
    la = mt.optim.Lookahead(inner, k=2)
    sched = mls.ExponentialLR(la, gamma=0.5)
    sched.step()
    assert inner.param_groups[0]["lr"] == 0.5


def test_cosine_warm_restarts_fractional_epochs() -> None:
    opt = sgd(mt)()
    sched = mls.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
    sched.step(5.5)  # 1.5 into the second cycle, of length 8
    expected = 0.1 * (1 + math.cos(math.pi * 1.5 / 8)) / 2
    assert np.isclose(sched.get_last_lr()[0], expected, rtol=1e-14)
