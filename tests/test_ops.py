"""One table of ops drives every op test: forward vs NumPy (float64 and float32), gradcheck of
the full Jacobian and gradgradcheck (float64 finite differences), the dtype of every gradient a
backward formula returns, and a differential test against PyTorch (values, vector-Jacobian
products with a random cotangent and second-order products, to 1e-7 relative in float64).

Each case's function takes the library first (`mt` or `torch`), so the same code runs on both:
minitorch's API is PyTorch's."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

import minitorch as mt

# ---- inputs ------------------------------------------------------------------------------------


def _gen(kind: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    if kind == "n":  # anything
        return rng.standard_normal(shape)
    if kind == "p":  # positive
        return rng.uniform(0.5, 2.0, shape)
    if kind == "u":  # a probability, away from 0 and 1
        return rng.uniform(0.05, 0.95, shape)
    if kind == "s":  # away from zero, either sign
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    if kind == "m":  # well-conditioned square matrices
        n = shape[-1]
        return rng.standard_normal(shape) / math.sqrt(n) + 2.0 * np.eye(n)
    raise ValueError(kind)


@dataclass
class Case:
    name: str
    fn: Callable  # fn(lib, *tensors) -> tensor or tuple of tensors; lib is mt or torch
    ref: Callable  # ref(*arrays) -> array or tuple of arrays (NumPy, float64)
    inputs: tuple  # ((kind, shape), ...)
    grad: bool = True  # differentiable: gradcheck, gradgradcheck, torch gradients
    gradgrad: bool = True
    torch: bool = True
    ids: list = field(default_factory=list)

    def arrays(self) -> list:
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        return [_gen(kind, shape, rng) for kind, shape in self.inputs]


def K(lib: Any, arr: Any, like: Any) -> Any:
    """A constant of the case (labels, masks, weights) on the device of `like`; floating
    constants take `like`'s dtype."""
    arr = np.asarray(arr)
    if arr.dtype.kind == "f":
        return lib.tensor(arr, dtype=like.dtype, device=like.device)
    return lib.tensor(arr, device=like.device)


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf)(x)


def _lse(x: np.ndarray, axis: Any, keepdims: bool = False) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    return x - _lse(x, axis, keepdims=True)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


LABELS = np.array([2, 0, 3, 1, 3])
W5 = np.array([0.5, 2.0, 1.0, 1.5])
LABELS_IGN = np.array([2, -100, 3, 1, -100])
MASK = np.array([[True, False, True, False], [False, False, True, True],
                 [True, True, False, False]])
IDX = np.array([2, 0, 2, 1])
PROBS = np.random.default_rng(3).dirichlet(np.ones(4), size=5)


def _ce_ref(z: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, eps: float = 0.0,
            ignore: int = -100, reduction: str = "mean", logits: bool = True) -> Any:
    n, c = z.shape
    logp = _log_softmax(z, 1) if logits else z
    w = np.ones(c) if w is None else w
    valid = y != ignore
    ys = np.where(valid, y, 0)
    nll = -logp[np.arange(n), ys] * w[ys] * valid
    smooth = -(logp * w).sum(1) / c * valid
    rows = (1 - eps) * nll + eps * smooth
    if reduction == "none":
        return rows
    if reduction == "sum":
        return rows.sum()
    return rows.sum() / (w[ys] * valid).sum()


def _bce_ref(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.mean(-(y * np.log(x) + (1 - y) * np.log(1 - x)))


def _bcel_ref(x: np.ndarray, y: np.ndarray, pw: Any = 1.0) -> np.ndarray:
    return np.mean((1 - y) * x + (1 + (pw - 1) * y) * _softplus(-x))


def _ln_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray, axes: tuple) -> np.ndarray:
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * w + b


def _bn_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) * w + b


F = "nn.functional"


def f_(lib: Any) -> Any:
    return lib.nn.functional


N, P, U, S, M = "n", "p", "u", "s", "m"
A34, A234 = (N, (3, 4)), (N, (2, 3, 4))

CASES = [
    # arithmetic with broadcasting
    Case("add", lambda L, a, b: a + b, np.add, (A34, (N, (4,)))),
    Case("add_bcast_both", lambda L, a, b: a + b, np.add, ((N, (3, 1)), (N, (1, 4)))),
    Case("add_scalar", lambda L, a: 2.5 + a, lambda a: 2.5 + a, (A34,)),
    Case("sub", lambda L, a, b: a - b, np.subtract, (A234, (N, (3, 1)))),
    Case("rsub_scalar", lambda L, a: 1.5 - a, lambda a: 1.5 - a, (A34,)),
    Case("mul", lambda L, a, b: a * b, np.multiply, ((N, (2, 1, 4)), (N, (3, 1)))),
    Case("mul_self", lambda L, a: a * a, lambda a: a * a, (A34,)),
    Case("div", lambda L, a, b: a / b, np.divide, (A34, (S, (3, 4)))),
    Case("div_bcast", lambda L, a, b: a / b, np.divide, (A34, (S, (4,)))),
    Case("rdiv_scalar", lambda L, a: 3.0 / a, lambda a: 3.0 / a, ((S, (3, 4)),)),
    Case("neg", lambda L, a: -a, np.negative, (A34,)),
    Case("pow_scalar", lambda L, a: a ** 3, lambda a: a ** 3, (A34,)),
    Case("pow_frac", lambda L, a: a ** 1.5, lambda a: a ** 1.5, ((P, (3, 4)),)),
    Case("pow_neg", lambda L, a: a ** -2, lambda a: a ** -2.0, ((S, (3, 4)),)),
    Case("pow_tensor", lambda L, a, b: a ** b, np.power, ((P, (3, 4)), (N, (4,)))),
    Case("rpow_scalar", lambda L, a: 2.0 ** a, lambda a: 2.0 ** a, (A34,)),
    Case("square", lambda L, a: a.square(), np.square, (A34,)),
    Case("reciprocal", lambda L, a: a.reciprocal(), np.reciprocal, ((S, (3, 4)),)),
    Case("rsqrt", lambda L, a: a.rsqrt(), lambda a: 1 / np.sqrt(a), ((P, (3, 4)),)),
    # matmul
    Case("matmul_2d", lambda L, a, b: a @ b, np.matmul, ((N, (3, 4)), (N, (4, 2)))),
    Case("matmul_batched", lambda L, a, b: L.matmul(a, b), np.matmul,
         ((N, (2, 3, 4)), (N, (2, 4, 5)))),
    Case("matmul_bcast", lambda L, a, b: a @ b, np.matmul, ((N, (2, 1, 3, 4)), (N, (3, 4, 2)))),
    Case("matmul_1d_2d", lambda L, a, b: a @ b, np.matmul, ((N, (4,)), (N, (4, 3)))),
    Case("matmul_2d_1d", lambda L, a, b: a @ b, np.matmul, ((N, (3, 4)), (N, (4,)))),
    Case("matmul_1d_1d", lambda L, a, b: a @ b, np.matmul, ((N, (4,)), (N, (4,)))),
    Case("matmul_1d_batched", lambda L, a, b: a @ b, np.matmul, ((N, (4,)), (N, (2, 4, 3)))),
    Case("matmul_batched_1d", lambda L, a, b: a @ b, np.matmul, ((N, (2, 3, 4)), (N, (4,)))),
    # reductions
    Case("sum_all", lambda L, a: a.sum(), np.sum, (A234,)),
    Case("sum_dim", lambda L, a: a.sum(dim=1), lambda a: a.sum(1), (A234,)),
    Case("sum_dims_keep", lambda L, a: a.sum(dim=(0, 2), keepdim=True),
         lambda a: a.sum((0, 2), keepdims=True), (A234,)),
    Case("sum_neg_dim", lambda L, a: L.sum(a, -1), lambda a: a.sum(-1), (A234,)),
    Case("mean_all", lambda L, a: a.mean(), np.mean, (A234,)),
    Case("mean_dim_keep", lambda L, a: a.mean(dim=-1, keepdim=True),
         lambda a: a.mean(-1, keepdims=True), (A234,)),
    Case("max_all", lambda L, a: a.max(), np.max, (A34,)),
    Case("min_all", lambda L, a: a.min(), np.min, (A34,)),
    Case("max_dim", lambda L, a: a.max(dim=1).values, lambda a: a.max(1), (A234,)),
    Case("max_dim_keep", lambda L, a: a.max(dim=0, keepdim=True)[0],
         lambda a: a.max(0, keepdims=True), (A234,)),
    Case("min_dim", lambda L, a: a.min(dim=-1).values, lambda a: a.min(-1), (A234,)),
    Case("amax", lambda L, a: a.amax(dim=1), lambda a: a.max(1), (A34,)),
    Case("var_all", lambda L, a: a.var(), lambda a: a.var(ddof=1), (A34,)),
    Case("var_dim", lambda L, a: a.var(dim=1, keepdim=True),
         lambda a: a.var(1, ddof=1, keepdims=True), (A234,)),
    Case("var_biased", lambda L, a: a.var(dim=0, correction=0), lambda a: a.var(0), (A34,)),
    Case("std_dim", lambda L, a: a.std(dim=0), lambda a: a.std(0, ddof=1), (A34,)),
    Case("logsumexp", lambda L, a: a.logsumexp(dim=1), lambda a: _lse(a, 1), (A234,)),
    Case("logsumexp_keep", lambda L, a: L.logsumexp(a, dim=(0, 2), keepdim=True),
         lambda a: _lse(a, (0, 2), keepdims=True), (A234,)),
    Case("norm", lambda L, a: a.norm(), np.linalg.norm, (A34,)),
    # shapes
    Case("reshape", lambda L, a: a.reshape(4, -1), lambda a: a.reshape(4, -1), (A234,)),
    Case("view", lambda L, a: a.view(6, 4), lambda a: a.reshape(6, 4), (A234,)),
    Case("transpose", lambda L, a: a.transpose(0, 2), lambda a: a.transpose(2, 1, 0), (A234,)),
    Case("permute", lambda L, a: a.permute(1, 2, 0), lambda a: a.transpose(1, 2, 0), (A234,)),
    Case("T", lambda L, a: a.T, lambda a: a.T, (A34,)),
    Case("mT", lambda L, a: a.mT, lambda a: a.swapaxes(-1, -2), (A234,)),
    Case("unsqueeze", lambda L, a: a.unsqueeze(-1), lambda a: a[..., None], (A34,)),
    Case("squeeze", lambda L, a: a.squeeze(1), lambda a: a.squeeze(1), ((N, (3, 1, 4)),)),
    Case("squeeze_all", lambda L, a: a.squeeze(), lambda a: a.squeeze(), ((N, (1, 3, 1)),)),
    Case("flatten", lambda L, a: a.flatten(1), lambda a: a.reshape(2, -1), (A234,)),
    Case("flatten_all", lambda L, a: L.flatten(a), lambda a: a.reshape(-1), (A234,)),
    Case("expand", lambda L, a: a.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)),
         ((N, (3, 1)),)),
    Case("getitem_basic", lambda L, a: a[1:, ::2], lambda a: a[1:, ::2], (A34,)),
    Case("getitem_int", lambda L, a: a[-1], lambda a: a[-1], (A234,)),
    Case("getitem_none_ellipsis", lambda L, a: a[None, ..., 1], lambda a: a[None, ..., 1],
         (A234,)),
    Case("getitem_list_repeats", lambda L, a: a[[2, 0, 2, 2]], lambda a: a[[2, 0, 2, 2]],
         (A34,)),
    Case("getitem_tensor_index", lambda L, a: a[:, K(L, IDX, a)], lambda a: a[:, IDX],
         (A34,)),
    Case("getitem_pairs", lambda L, a: a[K(L, [0, 2, 0], a), K(L, [1, 3, 1], a)],
         lambda a: a[[0, 2, 0], [1, 3, 1]], (A34,)),
    Case("getitem_mask", lambda L, a: a[K(L, MASK, a)], lambda a: a[MASK], (A34,)),
    Case("getitem_row_mask", lambda L, a: a[K(L, [True, False, True], a)],
         lambda a: a[[True, False, True]], (A34,)),
    Case("split", lambda L, a: a.split([1, 3], dim=1), lambda a: (a[:, :1], a[:, 1:]), (A34,)),
    Case("chunk", lambda L, a: a.chunk(2, dim=0), lambda a: (a[:2], a[2:]), (A34,)),
    Case("cat", lambda L, a, b: L.cat([a, b, a], dim=1),
         lambda a, b: np.concatenate([a, b, a], 1), (A34, (N, (3, 2)))),
    Case("cat_neg_dim", lambda L, a, b: L.cat([a, b], dim=-3),
         lambda a, b: np.concatenate([a, b], 0), (A234, (N, (1, 3, 4)))),
    Case("stack", lambda L, a, b: L.stack([a, b], dim=1), lambda a, b: np.stack([a, b], 1),
         (A34, A34)),
    Case("stack_last", lambda L, a, b: L.stack([a, b], dim=-1),
         lambda a, b: np.stack([a, b], -1), (A34, A34)),
    Case("clone", lambda L, a: a.clone(), np.copy, (A34,)),
    # unary maths and activations
    Case("exp", lambda L, a: a.exp(), np.exp, (A34,)),
    Case("log", lambda L, a: a.log(), np.log, ((P, (3, 4)),)),
    Case("sqrt", lambda L, a: L.sqrt(a), np.sqrt, ((P, (3, 4)),)),
    Case("abs", lambda L, a: a.abs(), np.abs, ((S, (3, 4)),)),
    Case("sin", lambda L, a: a.sin(), np.sin, (A34,)),
    Case("cos", lambda L, a: L.cos(a), np.cos, (A34,)),
    Case("tanh", lambda L, a: a.tanh(), np.tanh, (A34,)),
    Case("sigmoid", lambda L, a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), (A34,)),
    Case("relu", lambda L, a: a.relu(), lambda a: np.maximum(a, 0), (A34,)),
    Case("erf", lambda L, a: a.erf(), _erf, (A34,)),
    Case("clamp", lambda L, a: a.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), (A34,)),
    Case("clamp_min", lambda L, a: a.clamp(min=0.2), lambda a: np.maximum(a, 0.2), (A34,)),
    Case("clamp_max", lambda L, a: L.clamp(a, max=-0.1), lambda a: np.minimum(a, -0.1), (A34,)),
    Case("softmax", lambda L, a: a.softmax(dim=-1), lambda a: _softmax(a, -1), (A234,)),
    Case("softmax_dim0", lambda L, a: L.softmax(a, 0), lambda a: _softmax(a, 0), (A234,)),
    Case("log_softmax", lambda L, a: a.log_softmax(dim=1), lambda a: _log_softmax(a, 1),
         (A234,)),
    Case("where", lambda L, a, b: L.where(K(L, MASK, a), a, b), lambda a, b: np.where(MASK, a, b),
         (A34, (N, (4,)))),
    Case("where_scalar", lambda L, a: L.where(a > 0, a, 0.0), lambda a: np.where(a > 0, a, 0.0),
         (A34,)),
    Case("maximum", lambda L, a, b: L.maximum(a, b), np.maximum, (A34, (N, (4,)))),
    Case("minimum", lambda L, a, b: L.minimum(a, b), np.minimum, (A34, A34)),
    Case("leaky_relu", lambda L, a: f_(L).leaky_relu(a, 0.2),
         lambda a: np.where(a > 0, a, 0.2 * a), (A34,)),
    Case("gelu", lambda L, a: f_(L).gelu(a), lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2))),
         (A34,)),
    Case("gelu_tanh", lambda L, a: f_(L).gelu(a, approximate="tanh"),
         lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3))),
         (A34,)),
    Case("elu", lambda L, a: f_(L).elu(a, alpha=0.7),
         lambda a: np.where(a > 0, a, 0.7 * (np.exp(a) - 1)), (A34,)),
    Case("softplus", lambda L, a: f_(L).softplus(a), _softplus, ((N, (3, 4)),)),
    Case("softplus_beta", lambda L, a: f_(L).softplus(a, beta=2.0),
         lambda a: _softplus(2 * a) / 2, (A34,)),
    # fused layers and normalisation
    Case("linear", lambda L, x, w, b: f_(L).linear(x, w, b), lambda x, w, b: x @ w.T + b,
         ((N, (5, 3)), (N, (4, 3)), (N, (4,)))),
    Case("linear_nobias_3d", lambda L, x, w: f_(L).linear(x, w), lambda x, w: x @ w.T,
         ((N, (2, 3, 3)), (N, (4, 3)))),
    Case("linear_1d", lambda L, x, w, b: f_(L).linear(x, w, b), lambda x, w, b: w @ x + b,
         ((N, (3,)), (N, (2, 3)), (N, (2,)))),
    Case("layer_norm", lambda L, x, w, b: f_(L).layer_norm(x, (4,), w, b),
         lambda x, w, b: _ln_ref(x, w, b, (-1,)), (A234, (N, (4,)), (N, (4,)))),
    Case("layer_norm_2d", lambda L, x: f_(L).layer_norm(x, (3, 4)),
         lambda x: _ln_ref(x, 1.0, 0.0, (-2, -1)), (A234,)),
    Case("batch_norm_train", lambda L, x, w, b: f_(L).batch_norm(x, None, None, w, b,
                                                                 training=True),
         _bn_ref, ((N, (6, 3)), (N, (3,)), (N, (3,)))),
    # losses
    Case("cross_entropy", lambda L, z: f_(L).cross_entropy(z, K(L, LABELS, z)),
         lambda z: _ce_ref(z, LABELS), ((N, (5, 4)),)),
    Case("cross_entropy_sum", lambda L, z: f_(L).cross_entropy(z, K(L, LABELS, z),
                                                               reduction="sum"),
         lambda z: _ce_ref(z, LABELS, reduction="sum"), ((N, (5, 4)),)),
    Case("cross_entropy_none", lambda L, z: f_(L).cross_entropy(z, K(L, LABELS, z),
                                                                reduction="none"),
         lambda z: _ce_ref(z, LABELS, reduction="none"), ((N, (5, 4)),)),
    Case("cross_entropy_weight_smooth_ignore",
         lambda L, z: f_(L).cross_entropy(z, K(L, LABELS_IGN, z), weight=K(L, W5, z),
                                          label_smoothing=0.2),
         lambda z: _ce_ref(z, LABELS_IGN, W5, 0.2), ((N, (5, 4)),)),
    Case("cross_entropy_smooth_none",
         lambda L, z: f_(L).cross_entropy(z, K(L, LABELS_IGN, z), label_smoothing=0.1,
                                          reduction="none"),
         lambda z: _ce_ref(z, LABELS_IGN, eps=0.1, reduction="none"), ((N, (5, 4)),)),
    Case("cross_entropy_probs", lambda L, z, p: f_(L).cross_entropy(z, p.softmax(dim=1)),
         lambda z, p: -(_softmax(p, 1) * _log_softmax(z, 1)).sum(1).mean(), ((N, (5, 4)),
                                                                            (N, (5, 4)))),
    Case("cross_entropy_const_probs_weight_smooth",
         lambda L, z: f_(L).cross_entropy(z, K(L, PROBS, z), weight=K(L, W5, z),
                                          label_smoothing=0.3),
         lambda z: -(((PROBS * 0.7 + 0.3 / 4) * W5) * _log_softmax(z, 1)).sum(1).mean(),
         ((N, (5, 4)),)),
    Case("cross_entropy_const_probs_none",
         lambda L, z: f_(L).cross_entropy(z, K(L, PROBS, z), reduction="none"),
         lambda z: -(PROBS * _log_softmax(z, 1)).sum(1), ((N, (5, 4)),)),
    Case("cross_entropy_3d", lambda L, z: f_(L).cross_entropy(z, K(L, [[0, 2], [1, 1]], z)),
         lambda z: _ce_ref(z.transpose(0, 2, 1).reshape(-1, 3), np.array([0, 2, 1, 1])),
         ((N, (2, 3, 2)),)),
    Case("nll_loss", lambda L, z: f_(L).nll_loss(z, K(L, LABELS_IGN, z), weight=K(L, W5, z)),
         lambda z: _ce_ref(z, LABELS_IGN, W5, logits=False), ((N, (5, 4)),)),
    Case("mse_loss", lambda L, a, b: f_(L).mse_loss(a, b), lambda a, b: ((a - b) ** 2).mean(),
         (A34, A34)),
    Case("mse_loss_sum", lambda L, a, b: f_(L).mse_loss(a, b, reduction="sum"),
         lambda a, b: ((a - b) ** 2).sum(), (A34, A34)),
    Case("l1_loss", lambda L, a, b: f_(L).l1_loss(a, b), lambda a, b: np.abs(a - b).mean(),
         (A34, A34)),
    Case("huber_loss", lambda L, a, b: f_(L).huber_loss(a, b, delta=0.8),
         lambda a, b: np.where(np.abs(a - b) < 0.8, 0.5 * (a - b) ** 2,
                               0.8 * (np.abs(a - b) - 0.4)).mean(), (A34, A34)),
    Case("bce", lambda L, x, y: f_(L).binary_cross_entropy(x, y), _bce_ref,
         ((U, (3, 4)), (U, (3, 4)))),
    Case("bce_with_logits", lambda L, x, y: f_(L).binary_cross_entropy_with_logits(x, y),
         _bcel_ref, (A34, (U, (3, 4)))),
    Case("bce_with_logits_pos_weight",
         lambda L, x, y: f_(L).binary_cross_entropy_with_logits(
             x, y, pos_weight=K(L, [1.0, 2.0, 0.5, 3.0], x)),
         lambda x, y: _bcel_ref(x, y, np.array([1.0, 2.0, 0.5, 3.0])), (A34, (U, (3, 4)))),
    # linear algebra
    Case("inv", lambda L, a: L.linalg.inv(a), np.linalg.inv, ((M, (3, 3)),)),
    Case("inv_batched", lambda L, a: L.linalg.inv(a), np.linalg.inv, ((M, (2, 3, 3)),)),
    Case("det", lambda L, a: L.linalg.det(a), np.linalg.det, ((M, (3, 3)),)),
    Case("det_batched", lambda L, a: L.linalg.det(a), np.linalg.det, ((M, (2, 3, 3)),)),
]
IDS = [c.name for c in CASES]
assert len(set(IDS)) == len(IDS)


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _mt_inputs(case: Case, dtype: Any = np.float64, device: str = "cpu",
               requires_grad: bool = True) -> list:
    return [mt.tensor(a, dtype=dtype, device=device, requires_grad=requires_grad and case.grad)
            for a in case.arrays()]


# ---- forward ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_matches_numpy(case: Case, device: str) -> None:
    xs = _mt_inputs(case, device=device)
    outs = _as_tuple(case.fn(mt, *xs))
    refs = _as_tuple(case.ref(*case.arrays()))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert isinstance(o, mt.Tensor)
        assert o.device == device
        assert o.dtype == np.float64
        assert o.shape == np.shape(r), f"{case.name}: shape {o.shape} vs NumPy {np.shape(r)}"
        np.testing.assert_allclose(o.numpy(), r, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_float32_stays_float32(case: Case) -> None:
    """float32 in, float32 out, and close to the float64 result."""
    xs = _mt_inputs(case, dtype=np.float32)
    outs = _as_tuple(case.fn(mt, *xs))
    refs = _as_tuple(case.ref(*case.arrays()))
    for o, r in zip(outs, refs):
        assert o.dtype == np.float32, f"{case.name}: float32 input gave {o.dtype}"
        np.testing.assert_allclose(o.numpy(), r, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_no_graph_under_no_grad(case: Case) -> None:
    xs = _mt_inputs(case)
    with mt.no_grad():
        outs = _as_tuple(case.fn(mt, *xs))
    assert all(o.grad_fn is None and not o.requires_grad for o in outs)


# ---- backward ---------------------------------------------------------------------------------

GRAD_CASES = [c for c in CASES if c.grad]
GRAD_IDS = [c.name for c in GRAD_CASES]


@pytest.mark.parametrize("case", GRAD_CASES, ids=GRAD_IDS)
def test_gradcheck(case: Case, device: str) -> None:
    """The full Jacobian (one vector-Jacobian product per output element) vs central finite
    differences in float64."""
    xs = _mt_inputs(case, device=device)
    assert mt.autograd.gradcheck(lambda *a: case.fn(mt, *a), xs, eps=1e-6, atol=1e-6,
                                 rtol=1e-5)


@pytest.mark.parametrize("case", [c for c in GRAD_CASES if c.gradgrad],
                         ids=[c.name for c in GRAD_CASES if c.gradgrad])
def test_gradgradcheck(case: Case) -> None:
    """The backward pass is itself differentiable: x, v -> J(x)^T v checked by finite
    differences, with a random cotangent v."""
    xs = _mt_inputs(case)
    assert mt.autograd.gradgradcheck(lambda *a: case.fn(mt, *a), xs, eps=1e-6, atol=1e-5,
                                     rtol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", GRAD_CASES, ids=GRAD_IDS)
def test_backward_formulas_keep_dtype(case: Case, dtype: Any) -> None:
    """Every gradient a backward formula returns has its input's dtype (no silent float64
    upcast of float32 work, which the engine's cast would otherwise hide), both in the plain
    backward and in the recorded one (create_graph)."""
    xs = _mt_inputs(case, dtype=dtype)
    for out in _as_tuple(case.fn(mt, *xs)):
        node = out.grad_fn
        assert node is not None
        g = mt.tensor(np.ones(out.shape), dtype=dtype)
        for recorded in (False, True):
            with mt.set_grad_enabled(recorded):
                grads = node._fn.backward(node, g)
            for inp, gi in zip(node._inputs, _as_tuple(grads)):
                if inp is None or gi is None or not inp.requires_grad:
                    continue
                assert gi.dtype == dtype, f"{case.name}: {node!r} returned a {gi.dtype} grad"


@pytest.mark.parametrize("case", GRAD_CASES, ids=GRAD_IDS)
def test_grad_of_float32_graph_is_float32(case: Case) -> None:
    xs = _mt_inputs(case, dtype=np.float32)
    seen = []
    outs = _as_tuple(case.fn(mt, *xs))
    loss = sum((o * o).sum() for o in outs)
    for o in outs:
        o.register_hook(lambda g: seen.append(g.dtype))
    loss.backward()
    assert seen and all(d == np.float32 for d in seen)
    assert all(x.grad is None or x.grad.dtype == np.float32 for x in xs)


# ---- PyTorch differential tests ----------------------------------------------------------------

TORCH_CASES = [c for c in CASES if c.torch]


def _torch_eval(torch: Any, case: Case, arrays: list) -> tuple:
    xs = [torch.tensor(a, dtype=torch.float64, requires_grad=case.grad) for a in arrays]
    return xs, _as_tuple(case.fn(torch, *xs))


def _close(actual: Any, expected: Any, what: str) -> None:
    a = actual.numpy() if isinstance(actual, mt.Tensor) else np.asarray(actual)
    np.testing.assert_allclose(a, expected, rtol=1e-7, atol=1e-10, err_msg=what)


@pytest.mark.parametrize("case", TORCH_CASES, ids=[c.name for c in TORCH_CASES])
def test_matches_torch(case: Case) -> None:
    """Values, first-order VJPs with a random cotangent, and second-order products
    d/dx <J(x)^T v, w> against PyTorch in float64."""
    torch = pytest.importorskip("torch")
    arrays = case.arrays()
    tx, touts = _torch_eval(torch, case, arrays)
    xs = _mt_inputs(case)
    outs = _as_tuple(case.fn(mt, *xs))
    assert len(outs) == len(touts)
    for o, t in zip(outs, touts):
        assert o.shape == tuple(t.shape), case.name
        _close(o, t.detach().numpy(), f"{case.name}: value")
    if not case.grad:
        return
    rng = np.random.default_rng(7)
    vs = [rng.standard_normal(o.shape) for o in outs]
    ws = [rng.standard_normal(x.shape) for x in arrays]

    tv = [torch.tensor(v, requires_grad=True) for v in vs]
    tg = torch.autograd.grad(touts, tx, tv, create_graph=True, allow_unused=True)
    mv = [mt.tensor(v, dtype=np.float64, requires_grad=True) for v in vs]
    mg = mt.autograd.grad(outs, xs, mv, create_graph=True, allow_unused=True)
    for i, (m, t) in enumerate(zip(mg, tg)):
        assert (m is None) == (t is None), f"{case.name}: grad {i} None-ness differs"
        if m is not None:
            _close(m, t.detach().numpy(), f"{case.name}: grad of input {i}")
    if not case.gradgrad:
        return
    ts = sum((g * torch.tensor(w)).sum() for g, w in zip(tg, ws) if g is not None)
    ms = sum((g * mt.tensor(w, dtype=np.float64)).sum() for g, w in zip(mg, ws) if g is not None)
    if not isinstance(ts, torch.Tensor) or not ts.requires_grad:
        return
    tgg = torch.autograd.grad(ts, tx + tv, allow_unused=True)
    mgg = mt.autograd.grad(ms, xs + mv, allow_unused=True)
    for i, (m, t) in enumerate(zip(mgg, tgg)):
        t_arr = None if t is None else t.numpy(force=True)
        m_arr = None if m is None else m.numpy()
        if t_arr is None and m_arr is None:
            continue
        shape = (xs + mv)[i].shape
        _close(np.zeros(shape) if m_arr is None else m_arr,
               np.zeros(shape) if t_arr is None else t_arr,
               f"{case.name}: second-order grad of input {i}")


# ---- non-differentiable results ----------------------------------------------------------------


@pytest.mark.parametrize("op", ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"])
def test_comparisons_are_not_differentiable(op: str, device: str) -> None:
    a = mt.randn(3, 4, dtype=mt.float64, device=device, requires_grad=True)
    b = mt.randn(4, dtype=mt.float64, device=device)
    out = getattr(a, op)(b)
    assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None
    ref = getattr(a.numpy(), op)(b.numpy())
    np.testing.assert_array_equal(out.numpy(), ref)
    scalar = getattr(a, op)(0.0)
    np.testing.assert_array_equal(scalar.numpy(), getattr(a.numpy(), op)(0.0))


def test_argmax_sign_and_step_are_constants() -> None:
    a = mt.tensor([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]], requires_grad=True)
    for out in (a.argmax(dim=1), a.argmin(), a.sign(), mt.nn.functional.step(a), a.floor()):
        assert not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(a.argmax(dim=1).numpy(), [1, 2])
    assert a.argmax(dim=1).dtype == np.int64
    assert a.argmin().item() == 4
    np.testing.assert_array_equal(mt.nn.functional.step(a).numpy(), [[1, 1, 1], [1, 0, 1]])


def test_max_dim_returns_values_and_indices() -> None:
    a = mt.tensor([[1.0, 3.0, 2.0], [5.0, -1.0, 4.0]], requires_grad=True)
    values, indices = a.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [3.0, 5.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert indices.dtype == np.int64 and not indices.requires_grad
    values.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[0, 1, 0], [1, 0, 0]])


# ---- conventions at kinks and ties (PyTorch's) --------------------------------------------------


@pytest.mark.parametrize("name, fn", [
    ("relu", lambda L, x: x.relu()),
    ("abs", lambda L, x: x.abs()),
    ("clamp", lambda L, x: x.clamp(-1.0, 1.0)),
    ("leaky_relu", lambda L, x: f_(L).leaky_relu(x, 0.1)),
    ("max_all_ties", lambda L, x: x.max()),
    ("min_all_ties", lambda L, x: x.min()),
    ("maximum_ties", lambda L, x: L.maximum(x, L.zeros(5, dtype=L.float64))),
    ("minimum_ties", lambda L, x: L.minimum(x, L.ones(5, dtype=L.float64))),
    ("elu", lambda L, x: f_(L).elu(x)),
    ("sqrt_at_zero_is_inf", lambda L, x: (x + 1).sqrt()),
])
def test_gradient_conventions_at_kinks_match_torch(name: str, fn: Callable) -> None:
    torch = pytest.importorskip("torch")
    values = [-1.0, 0.0, 1.0, 1.0, 0.0]
    x = mt.tensor(values, dtype=mt.float64, requires_grad=True)
    with np.errstate(divide="ignore"):
        fn(mt, x).sum().backward()
    tx = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    fn(torch, tx).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-15, atol=0)


def test_relu_of_special_values() -> None:
    x = mt.tensor([-np.inf, -1.0, -0.0, np.nan, 2.0, np.inf])
    out = x.relu().numpy()
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, np.nan, 2.0, np.inf])


def test_sigmoid_is_accurate_in_the_tails() -> None:
    x = mt.tensor([-745.0, -100.0, -40.0, -20.0, 0.0, 20.0, 40.0, 800.0], dtype=mt.float64)
    with np.errstate(over="ignore"):
        ref = 1 / (1 + np.exp(-x.numpy()))
    np.testing.assert_allclose(x.sigmoid().numpy(), ref, rtol=1e-12, atol=1e-320)


def test_softmax_and_log_softmax_are_stable_for_huge_logits() -> None:
    z = mt.tensor([[1000.0, 0.0, -1000.0], [-5000.0, -5000.0, -5000.0]], requires_grad=True)
    s = z.softmax(dim=1)
    ls = z.log_softmax(dim=1)
    assert np.isfinite(s.numpy()).all() and np.isfinite(ls.numpy()).all()
    np.testing.assert_allclose(s.numpy()[1], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(ls.numpy()[0], [0.0, -1000.0, -2000.0], rtol=1e-6)
    loss = mt.nn.functional.cross_entropy(z, mt.tensor([2, 0]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(z.grad.numpy()).all()
    np.testing.assert_allclose(loss.item(), (2000.0 + math.log(3)) / 2, rtol=1e-6)
    lse = mt.tensor([[-np.inf, -np.inf]]).logsumexp(dim=1)
    assert lse.item() == -np.inf


# ---- errors that teach --------------------------------------------------------------------------


def test_matmul_shape_error_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        mt.randn(3, 4) @ mt.randn(5, 2)


def test_broadcast_error_names_both_shapes_and_op() -> None:
    with pytest.raises(ValueError, match=r"(?i)add.*\(3, 4\).*\(5,\)"):
        mt.randn(3, 4) + mt.randn(5)
    with pytest.raises(ValueError, match=r"(?i)mul.*\(2, 3\).*\(3, 2\)"):
        mt.randn(2, 3, requires_grad=True) * mt.randn(3, 2)


def test_reshape_cat_stack_errors_name_shapes() -> None:
    with pytest.raises(ValueError, match=r"reshape.*\(3, 4\).*\(5, -1\)"):
        mt.randn(3, 4).reshape(5, -1)
    with pytest.raises(ValueError, match=r"cat.*\(3, 4\).*\(3, 2, 1\)"):
        mt.cat([mt.randn(3, 4), mt.randn(3, 2, 1)], dim=1)
    with pytest.raises(ValueError, match=r"stack.*\(2,\).*\(3,\)"):
        mt.stack([mt.randn(2), mt.randn(3)])
    with pytest.raises(IndexError, match=r"shape \(3, 4\)"):
        mt.randn(3, 4)[5]
    with pytest.raises(IndexError, match=r"out of range"):
        mt.randn(3, 4).sum(dim=2)


def test_mixed_devices_error_names_both_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated on the CPU: an array type that reports a second device (the real CUDA case
    runs in test_backend.py when a GPU is present)."""
    from minitorch import backend

    class OnGPU(np.ndarray):
        pass

    real = backend.device_of
    monkeypatch.setattr(backend, "device_of",
                        lambda a: "cuda:1" if isinstance(a, OnGPU) else real(a))
    a = mt.randn(3)
    b = mt.Tensor._wrap(np.ones(3))
    b.data = b.data.view(OnGPU)
    assert b.device == "cuda:1"
    with pytest.raises(mt.DeviceError, match=r"cpu.*cuda:1"):
        a + b
