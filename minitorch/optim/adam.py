"""The Adam family: Adam (AMSGrad), AdamW, Adamax, NAdam, RAdam; PyTorch's numerics."""

from __future__ import annotations

from typing import Any

from ..backend import get_array_module
from .optimizer import Optimizer, check_betas, check_range


class _AdamBase(Optimizer):
    """Shared by the family: validation, the two moment buffers and weight decay."""

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_range("epsilon value", group["eps"], 0.0)
        check_betas(group["betas"])

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        state["step"] = 0
        state["exp_avg"] = xp.zeros_like(p)
        state["exp_avg_sq"] = xp.zeros_like(p)

    @staticmethod
    def _decay(p: Any, g: Any, group: dict) -> Any:
        """Weight decay: decoupled (AdamW, Loshchilov & Hutter 2019) or L2 added to g."""
        wd = group["weight_decay"]
        if wd == 0:
            return g
        if group.get("decoupled_weight_decay", False):
            p *= 1 - group["lr"] * wd
            return g
        return g + wd * p

    @classmethod
    def _moments(cls, state: dict, g: Any, beta1: float, beta2: float, tmp: Any) -> tuple:
        m, v = state["exp_avg"], state["exp_avg_sq"]
        cls._moments_arrays(m, v, g, beta1, beta2, tmp)
        return m, v

    @staticmethod
    def _moments_arrays(m: Any, v: Any, g: Any, beta1: float, beta2: float, tmp: Any) -> None:
        """m <- m + (1-beta1)*(g - m);  v <- beta2*v + (1-beta2)*g^2, in place, with the
        work array `tmp` (PyTorch's lerp_ and mul_/addcmul_, same operation order)."""
        xp = get_array_module(g)
        xp.subtract(g, m, out=tmp)
        tmp *= 1 - beta1
        m += tmp
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v *= beta2
        v += tmp


class Adam(_AdamBase):
    """Adam (Kingma & Ba 2015): m, v as EMAs of g and g^2;
    w <- w - lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps).
    amsgrad=True uses the running max of v (Reddi et al. 2018). Seed 002 writes
    sqrt(v_hat + eps); the eps placement here is the paper's and PyTorch's."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
                 *, maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        super()._init_state(p, state, group)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = get_array_module(p).zeros_like(p)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        beta1, beta2 = group["betas"]
        lr, eps = group["lr"], group["eps"]
        state["step"] += 1
        t = state["step"]
        arrays = [p, g, state["exp_avg"], state["exp_avg_sq"]]
        if group["amsgrad"]:
            if state.get("max_exp_avg_sq") is None:  # amsgrad switched on mid-run
                state["max_exp_avg_sq"] = xp.zeros_like(p)
            arrays.append(state["max_exp_avg_sq"])
        step_size = lr / (1 - beta1 ** t)
        bc2_sqrt = (1 - beta2 ** t) ** 0.5
        for blk in self._blocks(*arrays):  # all passes on one cache-sized block at a time
            p_, g_, m, v = blk[:4]
            tmp = blk[-1]
            g_ = self._decay(p_, g_, group)  # per block: decoupled decay scales p_ in place
            self._moments_arrays(m, v, g_, beta1, beta2, tmp)
            if len(blk) == 6:  # AMSGrad: the running max of v replaces v in the step
                v = xp.maximum(blk[4], v, out=blk[4])
            # p -= step_size * m / (sqrt(v) / sqrt(1 - beta2^t) + eps), in place in tmp
            denom = xp.sqrt(v, out=tmp)
            denom /= bc2_sqrt
            denom += eps
            upd = xp.divide(m, denom, out=tmp)
            upd *= step_size
            p_ -= upd


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay
    w <- w*(1 - lr*weight_decay) before the Adam step; weight_decay defaults to 1e-2."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
                 *, maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)


class Adamax(_AdamBase):
    """AdaMax (Kingma & Ba 2015, section 7.1): u <- max(beta2*u, |g| + eps);
    w <- w - lr/(1-beta1^t) * m/u. (The paper has no eps; PyTorch adds it inside the max.)"""

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        state["step"] = 0
        state["exp_avg"] = xp.zeros_like(p)
        state["exp_inf"] = xp.zeros_like(p)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        beta1, beta2 = group["betas"]
        state["step"] += 1
        g = self._decay(p, g, group)
        m, u = state["exp_avg"], state["exp_inf"]
        m += (1 - beta1) * (g - m)
        u *= beta2
        xp.maximum(u, xp.abs(g) + group["eps"], out=u)
        p -= (group["lr"] / (1 - beta1 ** state["step"])) * (m / u)


class NAdam(_AdamBase):
    """NAdam (Dozat 2016): Adam with Nesterov momentum and the momentum schedule
    mu_t = beta1*(1 - 0.5*0.96^(t*momentum_decay));
    w <- w - lr*(1-mu_t)/(1-prod mu_1..t) * g/denom - lr*mu_{t+1}/(1-prod mu_1..t+1) * m/denom,
    denom = sqrt(v/(1-beta2^t)) + eps. decoupled_weight_decay=True gives NAdamW."""

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_range("momentum_decay value", group["momentum_decay"], 0.0)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        super()._init_state(p, state, group)
        state["mu_product"] = 1.0

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        beta1, beta2 = group["betas"]
        lr, psi = group["lr"], group["momentum_decay"]
        state["step"] += 1
        t = state["step"]
        g = self._decay(p, g, group)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        prod = state["mu_product"]
        m, v = self._moments(state, g, beta1, beta2, self._scratch(p))
        denom = xp.sqrt(v / (1 - beta2 ** t)) + group["eps"]
        p -= (lr * (1.0 - mu) / (1.0 - prod)) * (g / denom)
        p -= (lr * mu_next / (1.0 - prod * mu_next)) * (m / denom)


class RAdam(_AdamBase):
    """RAdam (Liu et al. 2020): rectified Adam. rho_inf = 2/(1-beta2) - 1,
    rho_t = rho_inf - 2t*beta2^t/(1-beta2^t). If rho_t > 5: the Adam step times
    r_t = sqrt((rho_t-4)(rho_t-2)rho_inf / ((rho_inf-4)(rho_inf-2)rho_t)); else an
    un-adapted momentum step w <- w - lr*m_hat. decoupled_weight_decay=True gives RAdamW."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        state["step"] += 1
        t = state["step"]
        g = self._decay(p, g, group)
        m, v = self._moments(state, g, beta1, beta2, self._scratch(p))
        bc1, bc2 = 1 - beta1 ** t, 1 - beta2 ** t
        m_hat = m / bc1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bc2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = bc2 ** 0.5 / (xp.sqrt(v) + group["eps"])
            p -= m_hat * lr * adaptive * rect
        else:
            p -= m_hat * lr
