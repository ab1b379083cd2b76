"""Initialisers (seed 004), with PyTorch's names, fan modes and gains; all in place, no grad.

Uniform U[-a, a] has variance a^2/3, so:
  LeCun   uniform a = sqrt(3/fan_in)            normal std = 1/sqrt(fan_in)
  Xavier  uniform a = gain sqrt(6/(fan_in+fan_out))  normal std = gain sqrt(2/(fan_in+fan_out))
  Kaiming uniform a = gain sqrt(3/fan)          normal std = gain/sqrt(fan), gain(relu)=sqrt(2)
PyTorch's Linear default is kaiming_uniform_(a=sqrt(5)), i.e. U[-1/sqrt(fan_in), 1/sqrt(fan_in)],
which (seed 004) shrinks the activation variance by ~1/3 per layer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor


def _gen(t: Tensor) -> Any:
    return _random.generator(t.device)


def _fill(t: Tensor, arr: Any) -> Tensor:
    t.data[...] = arr.astype(t.dtype, copy=False) if hasattr(arr, "astype") else arr
    return t


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps the activation variance for a nonlinearity (PyTorch's table)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid", "identity")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if not isinstance(slope, (int, float)) or isinstance(slope, bool):
            raise ValueError(f"negative_slope {slope} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(t: Tensor) -> tuple:
    if t.ndim < 2:
        raise ValueError(
            f"fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
            f"(shape {t.shape})"
        )
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


calculate_fan_in_and_fan_out = _calculate_fan_in_and_fan_out


def _fan(t: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    return _fill(t, _gen(t).uniform(a, b, t.shape))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    return _fill(t, _gen(t).normal(mean, std, t.shape))


def trunc_normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0) -> Tensor:
    """N(mean, std^2) conditioned on [a, b] (absolute bounds, as PyTorch), by rejection."""
    gen = _gen(t)
    xp = t._xp()
    n = t.numel()
    out = xp.empty(0, dtype=np.float64)
    while out.size < n:
        draw = gen.normal(mean, std, (max(2 * (n - out.size), 16),))
        out = xp.concatenate([out, draw[(draw >= a) & (draw <= b)]])
    return _fill(t, out[:n].reshape(t.shape))


def constant_(t: Tensor, val: float) -> Tensor:
    t.data[...] = val
    return t


def zeros_(t: Tensor) -> Tensor:
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    return constant_(t, 1.0)


def eye_(t: Tensor) -> Tensor:
    if t.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {t.shape}")
    return _fill(t, t._xp().eye(*t.shape))


def dirac_(t: Tensor, groups: int = 1) -> Tensor:
    """The identity of a convolution: weight (out, in, *kernel) passes channel i through the
    kernel's centre (PyTorch's dirac_, for 3-D to 5-D weights)."""
    if not 3 <= t.ndim <= 5:
        raise ValueError(f"dirac_: only 3-D to 5-D tensors are supported, got shape {t.shape}")
    out_per_group = t.shape[0] // groups
    if t.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({t.shape[0]}) is not divisible by groups={groups}")
    t.data[...] = 0
    centre = tuple(k // 2 for k in t.shape[2:])
    for g in range(groups):
        for i in range(min(out_per_group, t.shape[1])):
            t.data[(g * out_per_group + i, i) + centre] = 1
    return t


def orthogonal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian matrix, with the
    signs of R's diagonal folded in so the result is uniformly (Haar) distributed."""
    if t.ndim < 2:
        raise ValueError(f"orthogonal_: needs at least 2 dimensions, got shape {t.shape}")
    rows = t.shape[0]
    cols = t.numel() // rows
    xp = t._xp()
    flat = _gen(t).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diag(r))
    if rows < cols:
        q = q.T
    return _fill(t, gain * q.reshape(t.shape))


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a)


def xavier_normal_(t: Tensor, gain: float = 1.0) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(t, mode))
    return uniform_(t, -bound, bound)


def kaiming_normal_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    return normal_(t, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode)))


def lecun_uniform_(t: Tensor) -> Tensor:
    """U[-sqrt(3/fan_in), sqrt(3/fan_in)]: variance 1/fan_in (LeCun et al. 1998)."""
    bound = math.sqrt(3.0 / _fan(t, "fan_in"))
    return uniform_(t, -bound, bound)


def lecun_normal_(t: Tensor) -> Tensor:
    """N(0, 1/fan_in) (LeCun et al. 1998)."""
    return normal_(t, 0.0, 1.0 / math.sqrt(_fan(t, "fan_in")))


# He initialisation under the name the lectures use
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_

INITIALIZERS = {
    "zeros": zeros_, "ones": ones_, "normal": normal_, "uniform": uniform_,
    "trunc_normal": trunc_normal_, "orthogonal": orthogonal_, "eye": eye_,
    "xavier_uniform": xavier_uniform_, "xavier_normal": xavier_normal_,
    "kaiming_uniform": kaiming_uniform_, "kaiming_normal": kaiming_normal_,
    "lecun_uniform": lecun_uniform_, "lecun_normal": lecun_normal_,
}
