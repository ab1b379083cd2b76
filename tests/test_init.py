"""nn.init: PyTorch's names and semantics (fan modes, gains), checked statistically (means,
variances, bounds, orthogonality) and against PyTorch's own samples; seed 004's facts about
signal propagation through deep stacks and about the symmetry of constant initialisation."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
from minitorch.nn import init

SHAPE = (300, 500)  # fan_in 500, fan_out 300: 150,000 samples
FAN_IN, FAN_OUT = 500, 300


def _sample(fn: Callable, *args: Any, shape: tuple = SHAPE, device: str = "cpu",
            **kwargs: Any) -> np.ndarray:
    t = nn.Parameter(mt.zeros(*shape, dtype=mt.float64, device=device))
    out = fn(t, *args, **kwargs)
    assert out is t and t.grad_fn is None and t.is_leaf  # in place, nothing recorded
    return t.numpy()


def _check_moments(x: np.ndarray, mean: float, std: float) -> None:
    """Sample mean and variance within 6 standard errors of the exact values."""
    n = x.size
    assert abs(x.mean() - mean) < 6 * std / math.sqrt(n), (x.mean(), mean)
    kurt = 3.0  # a bound that holds for the normal and uniform laws used here
    assert abs(x.var() - std ** 2) < 6 * std ** 2 * math.sqrt((kurt - 1) / n), (x.std(), std)


def test_constant_initialisers(device: str) -> None:
    assert not _sample(init.zeros_, device=device).any()
    assert (_sample(init.ones_, device=device) == 1).all()
    assert (_sample(init.constant_, 0.25, device=device) == 0.25).all()
    eye = _sample(init.eye_, shape=(3, 5))
    np.testing.assert_array_equal(eye, np.eye(3, 5))


def test_uniform_and_normal(device: str) -> None:
    x = _sample(init.uniform_, -2.0, 3.0, device=device)
    assert x.min() >= -2.0 and x.max() < 3.0
    assert x.min() < -1.99 and x.max() > 2.99
    _check_moments(x, 0.5, 5 / math.sqrt(12))
    _check_moments(_sample(init.normal_, 1.5, 0.3, device=device), 1.5, 0.3)


def test_trunc_normal_uses_absolute_bounds() -> None:
    mean, std, a, b = 0.5, 2.0, -1.0, 3.0
    x = _sample(init.trunc_normal_, mean, std, a, b)
    assert x.min() >= a and x.max() <= b
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    t_mean = mean + std * (phi(alpha) - phi(beta)) / z
    t_var = std ** 2 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / z
                        - ((phi(alpha) - phi(beta)) / z) ** 2)
    _check_moments(x, t_mean, math.sqrt(t_var))


@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (4, 2, 3, 3)])
def test_orthogonal(shape: tuple) -> None:
    q = _sample(init.orthogonal_, 2.0, shape=shape).reshape(shape[0], -1) / 2.0
    rows, cols = q.shape
    gram = q.T @ q if rows >= cols else q @ q.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_is_haar_distributed() -> None:
    """With R's diagonal signs folded in, Q's entries have mean 0 and variance 1/n (a plain
    QR would bias the diagonal towards positive values)."""
    n, reps = 4, 2000
    diag = np.array([np.diag(_sample(init.orthogonal_, shape=(n, n))) for _ in range(reps)])
    _check_moments(diag.ravel(), 0.0, 1 / math.sqrt(n))


# (name, function, kwargs, expected law: ("u", bound) or ("n", std))
FAN_CASES = [
    ("xavier_uniform", init.xavier_uniform_, {}, ("u", math.sqrt(6 / (FAN_IN + FAN_OUT)))),
    ("xavier_uniform_gain", init.xavier_uniform_, {"gain": 5 / 3},
     ("u", 5 / 3 * math.sqrt(6 / (FAN_IN + FAN_OUT)))),
    ("xavier_normal", init.xavier_normal_, {"gain": 2.0},
     ("n", 2.0 * math.sqrt(2 / (FAN_IN + FAN_OUT)))),
    ("kaiming_uniform_default", init.kaiming_uniform_, {}, ("u", math.sqrt(6 / FAN_IN))),
    ("kaiming_uniform_sqrt5", init.kaiming_uniform_, {"a": math.sqrt(5)},
     ("u", 1 / math.sqrt(FAN_IN))),
    ("kaiming_uniform_fan_out_relu", init.kaiming_uniform_,
     {"mode": "fan_out", "nonlinearity": "relu"}, ("u", math.sqrt(6 / FAN_OUT))),
    ("kaiming_normal_relu", init.kaiming_normal_, {"nonlinearity": "relu"},
     ("n", math.sqrt(2 / FAN_IN))),
    ("kaiming_normal_leaky_fan_out", init.kaiming_normal_, {"a": 0.2, "mode": "fan_out"},
     ("n", math.sqrt(2 / (1 + 0.04)) / math.sqrt(FAN_OUT))),
    ("kaiming_normal_tanh", init.kaiming_normal_, {"nonlinearity": "tanh"},
     ("n", 5 / 3 / math.sqrt(FAN_IN))),
    ("lecun_uniform", init.lecun_uniform_, {}, ("u", math.sqrt(3 / FAN_IN))),
    ("lecun_normal", init.lecun_normal_, {}, ("n", 1 / math.sqrt(FAN_IN))),
]


def _check_law(x: np.ndarray, law: tuple) -> None:
    kind, scale = law
    if kind == "u":
        assert np.abs(x).max() <= scale
        assert np.abs(x).max() > 0.999 * scale
        _check_moments(x, 0.0, scale / math.sqrt(3))
    else:
        _check_moments(x, 0.0, scale)


@pytest.mark.parametrize("name, fn, kwargs, law", FAN_CASES, ids=[c[0] for c in FAN_CASES])
def test_fan_based_initialisers(name: str, fn: Callable, kwargs: dict, law: tuple,
                                device: str) -> None:
    _check_law(_sample(fn, device=device, **kwargs), law)


@pytest.mark.parametrize("name, fn, kwargs, law", [c for c in FAN_CASES if "lecun" not in c[0]],
                         ids=[c[0] for c in FAN_CASES if "lecun" not in c[0]])
def test_same_law_as_torch(name: str, fn: Callable, kwargs: dict, law: tuple) -> None:
    """PyTorch's initialiser of the same name draws from the law we expect (so both agree)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    t = torch.empty(SHAPE, dtype=torch.float64)
    getattr(torch.nn.init, fn.__name__)(t, **kwargs)
    _check_law(t.numpy(), law)


def test_calculate_gain_and_fans_match_torch() -> None:
    torch = pytest.importorskip("torch")
    for nl in ("linear", "conv2d", "sigmoid", "tanh", "relu", "selu"):
        assert init.calculate_gain(nl) == pytest.approx(torch.nn.init.calculate_gain(nl))
    for slope in (None, 0.0, 0.2, 3):
        assert init.calculate_gain("leaky_relu", slope) == pytest.approx(
            torch.nn.init.calculate_gain("leaky_relu", slope))
    for shape in ((5, 7), (4, 3, 2), (8, 3, 3, 3)):
        assert init.calculate_fan_in_and_fan_out(mt.zeros(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def test_initialiser_errors() -> None:
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions.*\(5,\)"):
        init.xavier_uniform_(mt.zeros(5))
    with pytest.raises(ValueError, match="fan_in' or 'fan_out"):
        init.kaiming_normal_(mt.zeros(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="eye_"):
        init.eye_(mt.zeros(2, 2, 2))


def test_registry_names_every_initialiser() -> None:
    for name in ("zeros", "ones", "normal", "uniform", "trunc_normal", "orthogonal", "eye",
                 "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
                 "lecun_uniform", "lecun_normal"):
        assert init.INITIALIZERS[name] is getattr(init, name + "_")


def test_initialisers_are_reproducible_under_manual_seed() -> None:
    mt.manual_seed(11)
    a = _sample(init.kaiming_normal_, shape=(4, 5))
    mt.manual_seed(11)
    b = _sample(init.kaiming_normal_, shape=(4, 5))
    np.testing.assert_array_equal(a, b)


def test_float32_parameters_stay_float32() -> None:
    p = nn.Parameter(mt.zeros(20, 30))
    for fn in (init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_,
               init.trunc_normal_, init.lecun_uniform_):
        fn(p)
        assert p.dtype == np.float32


# ---- seed 004: signal propagation through 50 layers --------------------------------------------


def _per_layer_factor(initialiser: Callable, relu: bool, n: int = 512, depth: int = 50) -> float:
    """Geometric mean over `depth` layers of Var(pre-activation_{l+1}) / Var(pre-activation_l)
    (for ReLU the preserved quantity is the second moment, which He's gain keeps)."""
    mt.manual_seed(4)
    x = mt.randn(256, n, dtype=mt.float64)
    layers = [nn.Linear(n, n, bias=False, dtype=mt.float64) for _ in range(depth)]
    moments = []
    with mt.no_grad():
        h = x
        for lin in layers:
            initialiser(lin.weight)
            z = lin(h)
            moments.append(float((z.numpy() ** 2).mean()))
            h = z.relu() if relu else z
    return (moments[-1] / moments[0]) ** (1 / (depth - 1))


def _torch_default(w: mt.Tensor) -> None:
    bound = 1 / math.sqrt(w.shape[1])
    init.uniform_(w, -bound, bound)


@pytest.mark.parametrize("initialiser, relu, factor", [
    (lambda w: init.kaiming_normal_(w, nonlinearity="relu"), True, 1.0),  # He keeps it
    (lambda w: init.kaiming_uniform_(w, nonlinearity="relu"), True, 1.0),
    (init.lecun_normal_, False, 1.0),  # LeCun keeps it for linear layers
    (init.lecun_uniform_, False, 1.0),
    (_torch_default, False, 1 / 3),  # U[-1/sqrt(n), 1/sqrt(n)]: variance 1/(3n) per weight
    (_torch_default, True, 1 / 6),  # ... and ReLU halves the second moment again
    (init.lecun_normal_, True, 1 / 2),  # LeCun is not enough for ReLU
])
def test_variance_through_a_50_layer_stack(initialiser: Callable, relu: bool,
                                           factor: float) -> None:
    measured = _per_layer_factor(initialiser, relu)
    # each layer's factor fluctuates by ~sqrt(4/n): 3 sigma on the mean of 49 of them
    assert abs(measured / factor - 1) < 3 * math.sqrt(4 / 512 / 49), (measured, factor)


def test_he_keeps_the_scale_after_50_layers_and_the_default_loses_it() -> None:
    he = _per_layer_factor(lambda w: init.kaiming_normal_(w, nonlinearity="relu"), True)
    default = _per_layer_factor(_torch_default, False)
    assert 0.25 < he ** 49 < 4
    assert default ** 49 < 1e-20


# ---- seed 004: constant initialisation keeps hidden units identical ----------------------------


def _train_mlp(init_hidden: Callable) -> tuple:
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2))
    for lin in (model[0], model[2]):
        init_hidden(lin.weight)
        init.zeros_(lin.bias)
    x = mt.randn(16, 3)
    y = mt.randint(0, 2, (16,))
    for _ in range(30):
        loss = nn.CrossEntropyLoss()(model(x), y)
        model.zero_grad()
        loss.backward()
        with mt.no_grad():
            for p in model.parameters():
                p.data -= 0.5 * p.grad.data
    hidden = model[1](model[0](x)).numpy()
    return model[0].weight.numpy(), hidden, loss.item()


@pytest.mark.parametrize("init_hidden", [init.zeros_, lambda w: init.constant_(w, 0.3)],
                         ids=["zeros", "constant"])
def test_constant_init_never_breaks_symmetry(init_hidden: Callable) -> None:
    w1, hidden, _ = _train_mlp(init_hidden)
    np.testing.assert_allclose(w1, np.broadcast_to(w1[:1], w1.shape), atol=1e-6)
    np.testing.assert_allclose(hidden, np.broadcast_to(hidden[:, :1], hidden.shape), atol=1e-6)


def test_random_init_breaks_symmetry() -> None:
    w1, hidden, _ = _train_mlp(init.xavier_uniform_)
    assert np.ptp(w1, axis=0).min() > 1e-3
    assert np.ptp(hidden, axis=1).min() > 1e-3
