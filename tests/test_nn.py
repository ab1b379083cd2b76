"""minitorch.nn: modules and losses against PyTorch (values and gradients, float64), the
Module API (parameters, state dicts and their errors, train/eval, devices), Dropout's
statistics, BatchNorm's running statistics, gradient clipping."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
import minitorch.nn.functional as F


def _to_torch(torch: Any, module: nn.Module, tmod: Any) -> Any:
    """Load minitorch's parameters and buffers into the PyTorch twin (same key names)."""
    sd = {k: torch.tensor(v.numpy()) for k, v in module.state_dict().items()}
    tmod.load_state_dict(sd)
    return tmod.double()


def _compare_module(torch: Any, module: nn.Module, tmod: Any, x: np.ndarray,
                    rtol: float = 1e-7) -> None:
    module = module.double()
    _to_torch(torch, module, tmod)
    mx = mt.tensor(x, dtype=mt.float64, requires_grad=True)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    mo, to = module(mx), tmod(tx)
    np.testing.assert_allclose(mo.numpy(), to.detach().numpy(), rtol=rtol, atol=1e-12)
    v = np.random.default_rng(1).standard_normal(mo.shape)
    mo.backward(mt.tensor(v, dtype=mt.float64))
    to.backward(torch.tensor(v))
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=1e-12)
    tparams = dict(tmod.named_parameters())
    for name, p in module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=rtol,
                                   atol=1e-12, err_msg=name)
    tbuf = dict(tmod.named_buffers())
    for name, b in module.named_buffers():
        np.testing.assert_allclose(b.numpy(), tbuf[name].numpy(), rtol=rtol, err_msg=name)


MODULES: list[tuple[str, Callable, Callable, tuple]] = [
    ("Linear", lambda: nn.Linear(4, 3), lambda t: t.nn.Linear(4, 3), (5, 4)),
    ("Linear_nobias_3d", lambda: nn.Linear(4, 2, bias=False),
     lambda t: t.nn.Linear(4, 2, bias=False), (2, 5, 4)),
    ("ReLU", nn.ReLU, lambda t: t.nn.ReLU(), (3, 4)),
    ("LeakyReLU", lambda: nn.LeakyReLU(0.3), lambda t: t.nn.LeakyReLU(0.3), (3, 4)),
    ("Sigmoid", nn.Sigmoid, lambda t: t.nn.Sigmoid(), (3, 4)),
    ("Tanh", nn.Tanh, lambda t: t.nn.Tanh(), (3, 4)),
    ("GELU", nn.GELU, lambda t: t.nn.GELU(), (3, 4)),
    ("GELU_tanh", lambda: nn.GELU("tanh"), lambda t: t.nn.GELU("tanh"), (3, 4)),
    ("ELU", lambda: nn.ELU(0.5), lambda t: t.nn.ELU(0.5), (3, 4)),
    ("Softplus", lambda: nn.Softplus(2.0), lambda t: t.nn.Softplus(2.0), (3, 4)),
    ("Softmax", lambda: nn.Softmax(dim=1), lambda t: t.nn.Softmax(dim=1), (3, 4, 2)),
    ("LogSoftmax", lambda: nn.LogSoftmax(dim=-1), lambda t: t.nn.LogSoftmax(dim=-1), (3, 4)),
    ("Identity", nn.Identity, lambda t: t.nn.Identity(), (3, 4)),
    ("Flatten", nn.Flatten, lambda t: t.nn.Flatten(), (2, 3, 4)),
    ("Flatten_range", lambda: nn.Flatten(0, 1), lambda t: t.nn.Flatten(0, 1), (2, 3, 4)),
    ("Dropout_eval", lambda: nn.Dropout(0.5).eval(), lambda t: t.nn.Dropout(0.5).eval(), (3, 4)),
    ("LayerNorm", lambda: nn.LayerNorm(4), lambda t: t.nn.LayerNorm(4), (3, 4)),
    ("LayerNorm_2d_nobias", lambda: nn.LayerNorm((3, 4), bias=False),
     lambda t: t.nn.LayerNorm((3, 4), bias=False), (2, 3, 4)),
    ("BatchNorm1d_train", lambda: nn.BatchNorm1d(4), lambda t: t.nn.BatchNorm1d(4), (6, 4)),
    ("BatchNorm1d_train_3d", lambda: nn.BatchNorm1d(3, momentum=0.3),
     lambda t: t.nn.BatchNorm1d(3, momentum=0.3), (4, 3, 5)),
    ("BatchNorm1d_no_affine", lambda: nn.BatchNorm1d(4, affine=False),
     lambda t: t.nn.BatchNorm1d(4, affine=False), (6, 4)),
    ("BatchNorm1d_no_stats", lambda: nn.BatchNorm1d(4, track_running_stats=False).eval(),
     lambda t: t.nn.BatchNorm1d(4, track_running_stats=False).eval(), (6, 4)),
    ("Sequential_MLP", lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8),
                                             nn.Tanh(), nn.Linear(8, 2)),
     lambda t: t.nn.Sequential(t.nn.Linear(4, 8), t.nn.ReLU(), t.nn.Linear(8, 8),
                               t.nn.Tanh(), t.nn.Linear(8, 2)), (5, 4)),
]


@pytest.mark.parametrize("name, make, make_torch, shape", MODULES, ids=[m[0] for m in MODULES])
def test_module_matches_torch(name: str, make: Callable, make_torch: Callable,
                              shape: tuple) -> None:
    torch = pytest.importorskip("torch")
    module = make()
    # non-trivial affine parameters, so that their gradients are tested for real
    with mt.no_grad():
        for p in module.parameters():
            p.data[...] = np.random.default_rng(2).standard_normal(p.shape)
    x = np.random.default_rng(0).standard_normal(shape)
    _compare_module(torch, module, make_torch(torch), x)


def test_batchnorm_running_stats_track_torch_over_steps_then_eval() -> None:
    torch = pytest.importorskip("torch")
    bn, tbn = nn.BatchNorm1d(3, momentum=0.2).double(), torch.nn.BatchNorm1d(3, momentum=0.2)
    _to_torch(torch, bn, tbn)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.standard_normal((8, 3)) * 3 + 1
        bn(mt.tensor(x, dtype=mt.float64))
        tbn(torch.tensor(x))
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(bn, name).numpy(), getattr(tbn, name).numpy(),
                                   rtol=1e-12)
    assert bn.num_batches_tracked.item() == tbn.num_batches_tracked.item() == 4
    bn.eval()
    tbn.eval()
    x = rng.standard_normal((5, 3))
    np.testing.assert_allclose(bn(mt.tensor(x, dtype=mt.float64)).numpy(),
                               tbn(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    before = bn.running_mean.numpy().copy()
    bn(mt.tensor(x, dtype=mt.float64))
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)  # eval never updates


def test_batchnorm_cumulative_average_with_momentum_none() -> None:
    torch = pytest.importorskip("torch")
    bn, tbn = nn.BatchNorm1d(2, momentum=None).double(), torch.nn.BatchNorm1d(2, momentum=None)
    _to_torch(torch, bn, tbn)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = rng.standard_normal((6, 2)) + 2
        bn(mt.tensor(x, dtype=mt.float64))
        tbn(torch.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), tbn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), tbn.running_var.numpy(), rtol=1e-12)


def test_batchnorm_errors() -> None:
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\).*\(3, 5\)"):
        bn(mt.randn(3, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(mt.randn(1, 4))


# ---- losses ------------------------------------------------------------------------------------

LABELS = np.array([1, 0, 3, 3, 2, -100])
WEIGHT = np.array([0.2, 1.0, 3.0, 0.7])

LOSSES: list[tuple[str, Callable, Any, str]] = [
    ("CrossEntropyLoss", lambda L: L.nn.CrossEntropyLoss(), LABELS, "logits"),
    ("CrossEntropyLoss_all", lambda L: L.nn.CrossEntropyLoss(
        weight=L.tensor(WEIGHT), label_smoothing=0.15, reduction="sum"), LABELS, "logits"),
    ("CrossEntropyLoss_ignore", lambda L: L.nn.CrossEntropyLoss(ignore_index=3), LABELS[:5],
     "logits"),
    ("NLLLoss", lambda L: L.nn.NLLLoss(weight=L.tensor(WEIGHT)), LABELS, "logp"),
    ("NLLLoss_none", lambda L: L.nn.NLLLoss(reduction="none"), LABELS, "logp"),
    ("MSELoss", lambda L: L.nn.MSELoss(), None, "regress"),
    ("MSELoss_none", lambda L: L.nn.MSELoss(reduction="none"), None, "regress"),
    ("L1Loss", lambda L: L.nn.L1Loss(reduction="sum"), None, "regress"),
    ("HuberLoss", lambda L: L.nn.HuberLoss(delta=0.5), None, "regress"),
    ("BCELoss", lambda L: L.nn.BCELoss(), None, "prob"),
    ("BCELoss_weight", lambda L: L.nn.BCELoss(weight=L.tensor(WEIGHT), reduction="sum"), None,
     "prob"),
    ("BCEWithLogitsLoss", lambda L: L.nn.BCEWithLogitsLoss(), None, "logit01"),
    ("BCEWithLogitsLoss_pos", lambda L: L.nn.BCEWithLogitsLoss(
        pos_weight=L.tensor(WEIGHT), weight=L.tensor(WEIGHT[::-1].copy()),
        reduction="none"), None, "logit01"),
]


def _loss_inputs(kind: str, target: Any) -> tuple:
    rng = np.random.default_rng(5)
    z = rng.standard_normal((6, 4)) * 2
    if kind == "logits":
        return z, target
    if kind == "logp":
        return z - np.log(np.exp(z).sum(1, keepdims=True)), target
    if kind == "regress":
        return z, rng.standard_normal((6, 4))
    if kind == "prob":
        return rng.uniform(0.02, 0.98, (6, 4)), rng.uniform(0, 1, (6, 4))
    return z, (rng.uniform(0, 1, (6, 4)) > 0.5).astype(np.float64)


@pytest.mark.parametrize("name, make, target, kind", LOSSES, ids=[x[0] for x in LOSSES])
def test_loss_matches_torch(name: str, make: Callable, target: Any, kind: str) -> None:
    torch = pytest.importorskip("torch")
    x, y = _loss_inputs(kind, target)
    if target is not None:
        x = x[: len(y)]
    mx = mt.tensor(x, dtype=mt.float64, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    my = mt.tensor(y)
    ty = torch.tensor(y)
    ml, tl = make(mt)(mx, my), make(torch)(tx, ty)
    np.testing.assert_allclose(ml.numpy(), tl.detach().numpy(), rtol=1e-7, atol=1e-12)
    v = np.random.default_rng(3).standard_normal(ml.shape)
    ml.backward(mt.tensor(v, dtype=mt.float64))
    tl.backward(torch.tensor(v))
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-7, atol=1e-12)


def test_cross_entropy_is_one_fused_node_with_softmax_minus_onehot_gradient() -> None:
    z = mt.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]], dtype=mt.float64, requires_grad=True)
    y = mt.tensor([1, 2])
    loss = nn.CrossEntropyLoss()(z, y)
    assert loss.grad_fn.name == "SoftmaxCrossEntropy"
    assert loss.grad_fn._inputs[0] is z
    loss.backward()
    s = np.exp(z.numpy()) / np.exp(z.numpy()).sum(1, keepdims=True)
    np.testing.assert_allclose(z.grad.numpy(), (s - np.eye(3)[[1, 2]]) / 2, rtol=1e-14)


def test_linear_is_one_fused_node() -> None:
    lin = nn.Linear(3, 2)
    x = mt.randn(4, 3)
    y = lin(x)
    assert y.grad_fn.name == "Linear"
    assert y.grad_fn._inputs == (x, lin.weight, lin.bias)


def test_label_errors_name_the_label_and_the_number_of_classes() -> None:
    z = mt.randn(3, 4)
    with pytest.raises(IndexError, match=r"label 7 .*4 classes"):
        F.cross_entropy(z, mt.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match=r"label -2 .*4 classes"):
        F.nll_loss(z, mt.tensor([0, -2, 1]))
    with pytest.raises(ValueError, match=r"batch size 3.*\(3, 4\).*2 labels"):
        F.cross_entropy(z, mt.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*with_logits"):
        F.binary_cross_entropy(z, mt.zeros(3, 4))
    with pytest.raises(ValueError, match=r"mse_loss.*\(3, 4\).*\(4, 3\)"):
        F.mse_loss(z, mt.zeros(4, 3))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_linear_shape_error_names_layer_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"Linear\(4, 3\).*4 features.*\(2, 5\)"):
        nn.Linear(4, 3)(mt.randn(2, 5))
    with pytest.raises(ValueError, match=r"linear.*5 features.*\(3, 4\)"):
        F.linear(mt.randn(2, 5), mt.randn(3, 4))


# ---- Dropout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p: float) -> None:
    n = 200_000
    x = mt.ones(n, requires_grad=True)
    y = nn.Dropout(p)(x)
    out = y.numpy()
    dropped = np.mean(out == 0)
    # the fraction dropped is Binomial(n, p)/n: 6 standard deviations
    assert abs(dropped - p) < 6 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(out[out != 0], 1 / (1 - p), rtol=1e-6)
    assert abs(out.mean() - 1) < 6 * np.sqrt(p / (1 - p) / n)  # inverted dropout: unbiased
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out)  # the same mask scales the gradient


def test_dropout_modes_and_edge_probabilities() -> None:
    x = mt.randn(4, 5)
    d = nn.Dropout(0.3)
    d.eval()
    assert d(x) is x
    assert nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).numpy(), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    mt.manual_seed(3)
    a = nn.Dropout(0.5)(x).numpy()
    mt.manual_seed(3)
    b = nn.Dropout(0.5)(x).numpy()
    np.testing.assert_array_equal(a, b)


# ---- the Module API ----------------------------------------------------------------------------


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.norm = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(mt.ones(4))
        self.register_buffer("steps", mt.zeros(1))
        self.register_buffer("cache", mt.zeros(2), persistent=False)
        self.act = nn.ReLU()
        self.plain = 5  # not a parameter

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return self.act(self.norm(self.fc(x))) * self.scale


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 1)])
        self.shared = self.heads[0]  # the same module twice: its parameters count once

    def forward(self, x: mt.Tensor) -> tuple:
        h = self.block(x)
        return tuple(head(h) for head in self.heads)


def test_parameter_discovery_and_names() -> None:
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["block.scale", "block.fc.weight", "block.fc.bias", "block.norm.weight",
                     "block.norm.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight",
                     "heads.1.bias"]
    assert len(list(net.parameters())) == 9
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [n for n, _ in net.named_children()] == ["block", "heads", "shared"]
    assert len(list(net.modules())) == 8  # net, block, fc, norm, act, heads, 2 linears
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]
    assert {n for n, _ in net.named_buffers()} == {
        "block.steps", "block.cache", "block.norm.running_mean", "block.norm.running_var",
        "block.norm.num_batches_tracked"}
    assert net.block.plain == 5


def test_train_eval_propagate() -> None:
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_and_requires_grad_() -> None:
    net = Net()
    out = net(mt.randn(5, 3))
    (out[0].sum() + out[1].sum()).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_dtype_keeps_parameter_objects() -> None:
    net = Net()
    ids = [id(p) for p in net.parameters()]
    net.double()
    assert [id(p) for p in net.parameters()] == ids
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.block.norm.num_batches_tracked.dtype == np.int64  # integers stay integers
    assert net.to("cpu") is net
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())


def test_state_dict_keys_sharing_and_round_trip() -> None:
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert "block.cache" not in sd  # non-persistent buffer
    assert set(sd) == {n for n, _ in net.named_parameters()} | {
        "block.steps", "block.norm.running_mean", "block.norm.running_var",
        "block.norm.num_batches_tracked"}
    assert np.shares_memory(sd["block.fc.weight"].data, net.block.fc.weight.data)
    other = Net()
    missing, unexpected = other.load_state_dict(sd)
    assert missing == [] and unexpected == []
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), sd[k].numpy())
        assert not np.shares_memory(v.data, sd[k].data)  # loading copies
    x = mt.randn(4, 3)
    net.eval()
    other.eval()
    np.testing.assert_array_equal(net(x)[0].numpy(), other(x)[0].numpy())


def test_load_state_dict_errors_name_the_keys() -> None:
    net = Net()
    sd = net.state_dict()
    bad = dict(sd)
    del bad["block.fc.bias"]
    bad["block.extra"] = mt.zeros(1)
    with pytest.raises(KeyError, match=r"unexpected keys: block\.extra.*missing keys: "
                                       r"block\.fc\.bias"):
        net.load_state_dict(bad)
    missing, unexpected = net.load_state_dict(bad, strict=False)
    assert missing == ["block.fc.bias"] and unexpected == ["block.extra"]
    wrong = dict(sd)
    wrong["heads.1.weight"] = mt.zeros(3, 4)
    with pytest.raises(KeyError, match=r"size mismatch for heads\.1\.weight.*\(3, 4\).*\(1, 4\)"):
        net.load_state_dict(wrong)
    with pytest.raises(KeyError, match="size mismatch"):
        net.load_state_dict(wrong, strict=False)  # shapes are checked even when not strict
    try:
        net.load_state_dict(wrong)
    except KeyError as exc:
        assert not str(exc).startswith("'")  # readable, not a quoted repr


def test_torch_state_dict_loads_into_minitorch_and_back() -> None:
    torch = pytest.importorskip("torch")
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                               torch.nn.Linear(4, 2))
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    net.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(net(mt.tensor(x)).numpy(), tnet(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_module_setattr_before_init_and_missing_attribute() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        nn.Linear(2, 2).nope


def test_sequential_modulelist_moduledict() -> None:
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU)
    assert isinstance(seq[-1], nn.Linear) and len(seq[:2]) == 2
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    named = nn.Sequential(OrderedDict([("inp", nn.Linear(2, 3)), ("out", nn.Linear(3, 1))]))
    assert [n for n, _ in named.named_parameters()] == ["inp.weight", "inp.bias", "out.weight",
                                                        "out.bias"]
    ml = nn.ModuleList([nn.Linear(2, 2)])
    ml.extend([nn.Linear(2, 2), nn.Tanh()])
    assert len(ml) == 3 and len(list(ml.parameters())) == 4
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.Linear(1, 2)
    assert list(md.keys()) == ["a", "b"] and len(list(md.parameters())) == 4
    assert "Linear(in_features=2, out_features=3, bias=True)" in repr(seq)


def test_parameter_shares_memory_and_wraps() -> None:
    arr = np.zeros(3, dtype=np.float32)
    p = nn.Parameter(mt.from_numpy(arr))
    p.data[0] = 1
    assert arr[0] == 1 and p.requires_grad and p.is_leaf
    assert "Parameter containing" in repr(p)
    assert not nn.Parameter(mt.zeros(2), requires_grad=False).requires_grad


def test_linear_default_init_is_pytorchs() -> None:
    """kaiming_uniform_(a=sqrt(5)) is U[-1/sqrt(in), 1/sqrt(in)], the bias too."""
    lin = nn.Linear(400, 300)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    bound = 1 / np.sqrt(400)
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.var() - bound ** 2 / 3) < 0.03 * bound ** 2 / 3
    assert abs(w.mean()) < 6 * bound / np.sqrt(3 * w.size)
    assert np.abs(b).max() > 0.9 * bound


# ---- gradient clipping --------------------------------------------------------------------------


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(norm_type: float) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    mps = [nn.Parameter(mt.zeros(g.shape, dtype=mt.float64)) for g in grads]
    tps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, tp, g in zip(mps, tps, grads):
        p.grad = mt.tensor(g, dtype=mt.float64)
        tp.grad = torch.tensor(g)
    total = nn.utils.clip_grad_norm_(mps, 1.5, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 1.5, norm_type)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    for p, tp in zip(mps, tps):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)
    # already small: unchanged
    assert nn.utils.clip_grad_norm_(mps, 1e6, norm_type).item() <= 1.5 + 1e-9


def test_clip_grad_value_and_nonfinite_error() -> None:
    p = nn.Parameter(mt.zeros(4))
    p.grad = mt.tensor([-3.0, -0.5, 0.5, 3.0])
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, -0.5, 0.5, 1.0])
    p.grad = mt.tensor([np.inf, 1.0, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_module_to_device(device: str) -> None:
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    net.to(device)
    assert all(p.device == device for p in net.parameters())
    assert all(b.device == device for b in net.buffers())
    out = net(mt.randn(5, 3, device=device))
    out.sum().backward()
    assert all(p.grad.device == device for p in net.parameters())
