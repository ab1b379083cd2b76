"""Layer-wise adaptive step sizes for large batches: LARS, LAMB; and Muon (matrix-wise).

The trust ratio ||w|| / ||update|| is computed per parameter tensor. Norms stay 0-d device
arrays (xp.where instead of `if`), so a step never synchronises with the GPU.
"""

from __future__ import annotations

from typing import Any

from ..backend import get_array_module
from .optimizer import Optimizer, check_betas, check_range


def _norm(xp: Any, a: Any) -> Any:
    return xp.sqrt(xp.sum(a * a))


class LARS(Optimizer):
    """LARS (You, Gitman & Ginsburg 2017, Algorithm 1):
    local_lr = trust_coefficient * ||w|| / (||g|| + weight_decay*||w|| + eps)
    (1 where ||w|| or ||g|| is 0);  v <- momentum*v + lr*local_lr*(g + weight_decay*w);
    w <- w - v. Put biases and norm layers in a group with lars=False to step them as SGD."""

    def __init__(self, params: Any, lr: float = 0.1, momentum: float = 0.9,
                 weight_decay: float = 0.0, trust_coefficient: float = 1e-3, eps: float = 1e-8,
                 *, lars: bool = True, maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                        trust_coefficient=trust_coefficient, eps=eps, lars=lars,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_range("momentum value", group["momentum"], 0.0)
        check_range("trust_coefficient", group["trust_coefficient"], 0.0, lo_open=True)
        check_range("epsilon value", group["eps"], 0.0)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["momentum_buffer"] = get_array_module(p).zeros_like(p)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        wd = group["weight_decay"]
        d = g + wd * p if wd != 0 else g
        scale = group["lr"]
        if group["lars"]:
            wn, gn = _norm(xp, p), _norm(xp, g)
            ratio = group["trust_coefficient"] * wn / (gn + wd * wn + group["eps"])
            scale = scale * xp.where((wn > 0) & (gn > 0), ratio, 1.0)
        v = state["momentum_buffer"]
        v *= group["momentum"]
        v += scale * d
        p -= v


class LAMB(Optimizer):
    """LAMB (You et al. 2020, "Large Batch Optimization for Deep Learning"):
    Adam moments m, v (bias-corrected unless bias_correction=False);
    r = m_hat/(sqrt(v_hat) + eps) + weight_decay*w;
    w <- w - lr * (||w|| / ||r||) * r, the ratio taken as 1 where either norm is 0."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-6, weight_decay: float = 0.0, *, bias_correction: bool = True,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        bias_correction=bias_correction, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_betas(group["betas"])
        check_range("epsilon value", group["eps"], 0.0)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        state["step"] = 0
        state["exp_avg"] = xp.zeros_like(p)
        state["exp_avg_sq"] = xp.zeros_like(p)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        bc1, bc2 = (1 - beta1 ** t, 1 - beta2 ** t) if group["bias_correction"] else (1.0, 1.0)
        r = (m / bc1) / (xp.sqrt(v / bc2) + group["eps"])
        if group["weight_decay"] != 0:
            r = r + group["weight_decay"] * p
        wn, rn = _norm(xp, p), _norm(xp, r)
        trust = xp.where((wn > 0) & (rn > 0), wn / xp.where(rn > 0, rn, 1.0), 1.0)
        p -= (group["lr"] * trust) * r


def newton_schulz(xp: Any, g: Any, coefficients: tuple, steps: int, eps: float) -> Any:
    """Approximate U V^T of g = U S V^T by the quintic Newton-Schulz iteration
    X <- a X + (b A + c A^2) X with A = X X^T, from X_0 = g/||g|| (Jordan et al. 2024)."""
    a, b, c = coefficients
    tall = g.shape[0] > g.shape[1]
    x = g.T if tall else g
    x = x / xp.maximum(_norm(xp, x), eps)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


class Muon(Optimizer):
    """Muon (Jordan et al. 2024; torch.optim.Muon): for 2-D parameters,
    B <- momentum*B + (1 - momentum)*g;  u = g + momentum*(B - g) if nesterov else B;
    O = NewtonSchulz(u);  w <- w*(1 - lr*weight_decay) - lr*s*O with s = sqrt(max(1, A/B))
    ("original") or 0.2*sqrt(max(A, B)) ("match_rms_adamw"). PyTorch runs the iteration in
    bfloat16; NumPy has no bfloat16, so it runs here in the parameter's dtype."""

    def __init__(self, params: Any, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple = (3.4445, -4.7750, 2.0315), eps: float = 1e-7,
                 ns_steps: int = 5, adjust_lr_fn: str | None = None) -> None:
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=tuple(ns_coefficients), eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_range("momentum value", group["momentum"], 0.0)
        if group["adjust_lr_fn"] not in (None, "original", "match_rms_adamw"):
            raise ValueError(f"Invalid adjust_lr_fn: {group['adjust_lr_fn']!r} (expected None, "
                             "'original' or 'match_rms_adamw')")
        if len(group["ns_coefficients"]) != 3:
            raise ValueError("ns_coefficients must be three numbers (a, b, c)")
        if not 0 < group["ns_steps"] < 100:
            raise ValueError(f"Invalid ns_steps: {group['ns_steps']} (expected 1..99)")

    def _check_param(self, p: Any, index: int) -> None:
        if p.ndim != 2:
            raise ValueError(f"Muon only optimizes 2-D parameters (matrices); parameter {index} "
                             f"has shape {tuple(p.shape)}: give it to another optimizer")

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["momentum_buffer"] = get_array_module(p).zeros_like(p)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        mu, lr = group["momentum"], group["lr"]
        buf = state["momentum_buffer"]
        buf += (1 - mu) * (g - buf)
        u = g + mu * (buf - g) if group["nesterov"] else buf
        o = newton_schulz(xp, u, group["ns_coefficients"], group["ns_steps"], group["eps"])
        rows, cols = p.shape
        if group["adjust_lr_fn"] == "match_rms_adamw":
            ratio = 0.2 * max(rows, cols) ** 0.5
        else:
            ratio = max(1.0, rows / cols) ** 0.5
        p *= 1 - lr * group["weight_decay"]
        p -= (lr * ratio) * o
