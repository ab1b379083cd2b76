"""Gradient descent with momentum: SGD (three momentum forms), ASGD, accelerated GD."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..autograd import enable_grad
from ..backend import get_array_module
from .optimizer import Optimizer, check_range

MOMENTUM_FORMS = ("pytorch", "polyak", "ema")


class SGD(Optimizer):
    """Stochastic gradient descent (Robbins & Monro 1951) with momentum (Polyak 1964) and
    Nesterov momentum (Nesterov 1983; Sutskever et al. 2013).

    `momentum_form` picks how momentum is written (g includes weight decay):
      "pytorch" (default, torch.optim.SGD):  b <- mu*b + (1 - dampening)*g  (b_1 = g);
                 w <- w - lr*b, or with nesterov w <- w - lr*(g + mu*b).
      "polyak"  (seed 004's heavy ball):      v <- mu*v - lr*g;  w <- w + v.
                 Same iterates as "pytorch" at a constant lr; under a schedule the velocity
                 keeps the old learning rates. With nesterov=True this is seed 004's
                 look-ahead form v <- mu*v - lr*grad L(w + mu*v): the gradient is evaluated
                 at the look-ahead point, so step() needs a closure.
      "ema"     (seed 001):                   P <- (1 - beta)*P + beta*g with beta = 1 - mu,
                 i.e. P <- mu*P + (1 - mu)*g from P_0 = 0;  w <- w - lr*P.
                 An exponential moving average: same family, gradients scaled by (1 - mu).
    """

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False, momentum_form: str = "pytorch") -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        momentum_form=momentum_form)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_range("momentum value", group["momentum"], 0.0)
        form = group["momentum_form"]
        if form not in MOMENTUM_FORMS:
            raise ValueError(f"Invalid momentum_form: {form!r} (expected one of "
                             f"{', '.join(MOMENTUM_FORMS)})")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if form != "pytorch" and group["dampening"] != 0:
            raise ValueError(f"dampening applies to momentum_form='pytorch' only, "
                             f"not {form!r}")
        if form == "ema" and group["nesterov"]:
            raise ValueError("nesterov=True is defined for momentum_form 'pytorch' and "
                             "'polyak' (seed 004's look-ahead form), not 'ema'")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        look = [g for g in self.param_groups
                if g["nesterov"] and g["momentum_form"] == "polyak"]
        if not look:
            return super().step(closure)
        if closure is None:
            raise ValueError("SGD(nesterov=True, momentum_form='polyak') evaluates the gradient "
                             "at the look-ahead point w + momentum*v: pass a closure to step()")
        saved = []
        for group in look:  # move to w + mu*v, evaluate there, come back exactly
            for p in group["params"]:
                v = self.state[p].get("velocity")
                if v is not None:
                    saved.append((p, p.data.copy()))
                    p.data += group["momentum"] * v
        with enable_grad():
            loss = closure()
        for p, w in saved:
            p.data[...] = w
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd != 0:
            g = g + wd * p
        form = group["momentum_form"]
        if mu == 0:  # p -= lr*g, in place, block by block
            for p_, g_, tmp in self._blocks(p, g):
                upd = xp.multiply(g_, lr, out=tmp)
                p_ -= upd
        elif form == "pytorch":
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
                p -= lr * (g + mu * buf if group["nesterov"] else buf)
                return
            damp, nesterov = 1 - group["dampening"], group["nesterov"]
            for p_, g_, b_, tmp in self._blocks(p, g, buf):
                xp.multiply(g_, damp, out=tmp)  # buf <- mu*buf + (1 - dampening)*g
                b_ *= mu
                b_ += tmp
                if nesterov:  # p -= lr*(g + mu*buf)
                    upd = xp.multiply(b_, mu, out=tmp)
                    upd += g_
                    upd *= lr
                else:  # p -= lr*buf
                    upd = xp.multiply(b_, lr, out=tmp)
                p_ -= upd
        elif form == "polyak":
            v = state.get("velocity")
            if v is None:
                v = state["velocity"] = -lr * g
            else:
                v *= mu
                v -= lr * g
            p += v
        else:  # "ema"
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = (1 - mu) * g
            else:
                buf *= mu
                buf += (1 - mu) * g
            p -= lr * buf


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky 1992; schedule of Bottou 2012, torch.optim.ASGD):
    w <- w*(1 - lambd*eta) - eta*g;  ax <- ax + mu*(w - ax);
    eta_t = lr / (1 + lambd*lr*t)^alpha;  mu_t = 1 / max(1, t - t0). `ax` is the average."""

    def __init__(self, params: Any, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        state["step"] = 0
        state["eta"] = float(group["lr"])
        state["mu"] = 1.0
        state["ax"] = xp.zeros_like(p)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        lr, lambd, wd = group["lr"], group["lambd"], group["weight_decay"]
        state["step"] += 1
        if wd != 0:
            g = g + wd * p
        eta = state["eta"]
        p *= 1 - lambd * eta
        p -= eta * g
        if state["mu"] != 1:
            state["ax"] += state["mu"] * (p - state["ax"])
        else:
            state["ax"][...] = p
        t = state["step"]
        state["eta"] = lr / ((1 + lambd * lr * t) ** group["alpha"])
        state["mu"] = 1 / max(1, t - group["t0"])


class AcceleratedGD(Optimizer):
    """Nesterov's accelerated gradient in seed 002's form (Nesterov 1983):
    x_{k+1} = y_k - lr*grad f(y_k);  y_{k+1} = x_{k+1} + k/(k+3) * (x_{k+1} - x_k),
    i.e. momentum (k-1)/(k+2) that grows towards 1; O(1/k^2) on smooth convex f.
    The parameters hold the look-ahead point y_k; state 'x' is the last x_k."""

    def __init__(self, params: Any, lr: float = 1e-3, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, maximize=maximize))

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["k"] = 1
        state["x"] = p.copy()

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        k, x = state["k"], state["x"]
        x_new = p - group["lr"] * g
        p[...] = x_new + (k / (k + 3)) * (x_new - x)
        state["x"] = x_new
        state["k"] = k + 1

