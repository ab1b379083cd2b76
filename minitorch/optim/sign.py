"""Sign methods (seed 002's "sign of the gradient"): SignSGD, Signum, Lion.

Only the sign of the (averaged) gradient enters the step, so every coordinate moves by lr;
weight decay is decoupled, w <- w - lr*(sign(.) + weight_decay*w), as in the papers.
"""

from __future__ import annotations

from typing import Any

from ..backend import get_array_module
from .optimizer import Optimizer, check_betas, check_range


class SignSGD(Optimizer):
    """signSGD (Bernstein et al. 2018; seed 002): w <- w - lr*sign(g)."""

    def __init__(self, params: Any, lr: float = 1e-3, weight_decay: float = 0.0,
                 *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, maximize=maximize))

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        if group["weight_decay"] != 0:
            p *= 1 - group["lr"] * group["weight_decay"]
        p -= group["lr"] * xp.sign(g)


class Signum(Optimizer):
    """Signum, signSGD with momentum (Bernstein et al. 2018):
    m <- momentum*m + (1 - momentum)*g (m_0 = 0);  w <- w - lr*sign(m)."""

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0.9,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                      maximize=maximize))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_range("momentum value", group["momentum"], 0.0, 1.0, hi_open=True)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["momentum_buffer"] = get_array_module(p).zeros_like(p)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        m, beta = state["momentum_buffer"], group["momentum"]
        m *= beta
        m += (1 - beta) * g
        if group["weight_decay"] != 0:
            p *= 1 - group["lr"] * group["weight_decay"]
        p -= group["lr"] * xp.sign(m)


class Lion(Optimizer):
    """Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"):
    c = beta1*m + (1 - beta1)*g;  w <- w - lr*(sign(c) + weight_decay*w);
    m <- beta2*m + (1 - beta2)*g. Use a 3-10x smaller lr than AdamW."""

    def __init__(self, params: Any, lr: float = 1e-4, betas: tuple = (0.9, 0.99),
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay,
                                      maximize=maximize))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_betas(group["betas"])

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["exp_avg"] = get_array_module(p).zeros_like(p)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        beta1, beta2 = group["betas"]
        m = state["exp_avg"]
        c = beta1 * m + (1 - beta1) * g
        if group["weight_decay"] != 0:
            p *= 1 - group["lr"] * group["weight_decay"]
        p -= group["lr"] * xp.sign(c)
        m *= beta2
        m += (1 - beta2) * g
