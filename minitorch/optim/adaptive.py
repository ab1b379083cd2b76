"""Per-coordinate step sizes: Adagrad, RMSprop, Adadelta, Rprop, Adafactor."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import get_array_module
from .optimizer import Optimizer, check_range


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer 2011): G <- G + g*g;  w <- w - clr * g / (sqrt(G) + eps),
    clr = lr / (1 + (t - 1)*lr_decay), G_0 = initial_accumulator_value (torch.optim.Adagrad).
    Seed 004 writes sqrt(G + eps); the eps placement here is PyTorch's. A group's own
    initial_accumulator_value is honoured (torch.optim.Adagrad uses the constructor's)."""

    def __init__(self, params: Any, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_range("lr_decay value", group["lr_decay"], 0.0)
        check_range("initial_accumulator_value", group["initial_accumulator_value"], 0.0)
        check_range("epsilon value", group["eps"], 0.0)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["step"] = 0
        state["sum"] = get_array_module(p).full_like(p, group["initial_accumulator_value"])

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        eps = group["eps"]
        for p_, g_, s_, tmp in self._blocks(p, g, state["sum"]):  # in place, block by block
            sq = xp.multiply(g_, g_, out=tmp)  # sum += g^2
            s_ += sq
            denom = xp.sqrt(s_, out=tmp)  # p -= clr * g / (sqrt(sum) + eps)
            denom += eps
            upd = xp.divide(g_, denom, out=tmp)
            upd *= clr
            p_ -= upd


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012): v <- alpha*v + (1 - alpha)*g*g;
    w <- w - lr * g / (sqrt(v) + eps). centered=True divides by sqrt(v - mean(g)^2) + eps
    (Graves 2013); momentum>0 uses b <- momentum*b + g/denominator, w <- w - lr*b."""

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_range("epsilon value", group["eps"], 0.0)
        check_range("momentum value", group["momentum"], 0.0)
        check_range("alpha value", group["alpha"], 0.0)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["step"] = 0
        state["square_avg"] = get_array_module(p).zeros_like(p)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        alpha, mu = group["alpha"], group["momentum"]
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        lr, eps, centered = group["lr"], group["eps"], group["centered"]
        arrays = [p, g, state["square_avg"]]
        if centered:
            if state.get("grad_avg") is None:
                state["grad_avg"] = xp.zeros_like(p)
            arrays.append(state["grad_avg"])
        if mu > 0:
            if state.get("momentum_buffer") is None:
                state["momentum_buffer"] = xp.zeros_like(p)
            arrays.append(state["momentum_buffer"])
        for blk in self._blocks(*arrays):  # in place, block by block
            p_, g_, sq, tmp = blk[0], blk[1], blk[2], blk[-1]
            sq *= alpha  # v <- alpha*v + (1 - alpha)*g^2
            t = xp.multiply(g_, g_, out=tmp)
            t *= 1 - alpha
            sq += t
            if centered:  # g_avg <- g_avg + (1 - alpha)*(g - g_avg); denominator of v - g_avg^2
                ga = blk[3]
                t = xp.subtract(g_, ga, out=tmp)
                t *= 1 - alpha
                ga += t
                t = xp.multiply(ga, ga, out=tmp)
                avg = xp.subtract(sq, t, out=tmp)
                xp.sqrt(avg, out=avg)
            else:
                avg = xp.sqrt(sq, out=tmp)
            avg += eps
            if mu > 0:  # buf <- mu*buf + g/avg;  p -= lr*buf
                buf = blk[-2]
                buf *= mu
                buf += xp.divide(g_, avg, out=tmp)
                upd = xp.multiply(buf, lr, out=tmp)
            else:  # p -= lr * g/avg
                upd = xp.divide(g_, avg, out=tmp)
                upd *= lr
            p_ -= upd


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012): G <- rho*G + (1 - rho)*g^2;  d = sqrt(D + eps)/sqrt(G + eps) * g;
    D <- rho*D + (1 - rho)*d^2;  w <- w - lr*d (lr = 1 is the paper's method)."""

    def __init__(self, params: Any, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_range("rho value", group["rho"], 0.0, 1.0)
        check_range("epsilon value", group["eps"], 0.0)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        state["step"] = 0
        state["square_avg"] = xp.zeros_like(p)
        state["acc_delta"] = xp.zeros_like(p)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        rho, eps = group["rho"], group["eps"]
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        sq, acc = state["square_avg"], state["acc_delta"]
        sq *= rho
        sq += (1 - rho) * (g * g)
        delta = xp.sqrt(acc + eps) / xp.sqrt(sq + eps) * g
        acc *= rho
        acc += (1 - rho) * (delta * delta)
        p -= group["lr"] * delta


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun 1993), torch.optim.Rprop's variant:
    per-coordinate step s grows by etaplus while sign(g*g_prev) > 0, shrinks by etaminus
    (and skips the update) when it flips; s is clipped to step_sizes; w <- w - sign(g)*s."""

    def __init__(self, params: Any, lr: float = 1e-2, etas: tuple = (0.5, 1.2),
                 step_sizes: tuple = (1e-6, 50), *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        etas = group["etas"]
        if not (isinstance(etas, (tuple, list)) and len(etas) == 2
                and 0.0 < etas[0] < 1.0 < etas[1]):
            raise ValueError(f"Invalid eta values: {etas} (expected 0 < etaminus < 1 < etaplus)")
        sizes = group["step_sizes"]
        if not (isinstance(sizes, (tuple, list)) and len(sizes) == 2
                and 0.0 <= sizes[0] <= sizes[1]):
            raise ValueError(f"Invalid step_sizes: {sizes} (expected 0 <= min <= max)")

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        state["step"] = 0
        state["prev"] = xp.zeros_like(p)
        state["step_size"] = xp.full_like(p, group["lr"])

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        etaminus, etaplus = group["etas"]
        smin, smax = group["step_sizes"]
        state["step"] += 1
        s = xp.sign(g * state["prev"])
        factor = xp.where(s > 0, etaplus, xp.where(s < 0, etaminus, 1.0)).astype(p.dtype)
        step_size = state["step_size"]
        step_size *= factor
        xp.clip(step_size, smin, smax, out=step_size)
        g = xp.where(s < 0, 0, g).astype(p.dtype, copy=False)  # a sign flip: no step, forget g
        p -= xp.sign(g) * step_size
        state["prev"][...] = g


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern 2018), torch.optim.Adafactor's variant: for matrices the
    second moment is factored into row and column means R, C of g^2,
    V = R C / mean(R); beta2_t = 1 - t^beta2_decay; rho_t = min(lr, 1/sqrt(t));
    u = g / sqrt(max(V, eps1^2)) clipped to RMS <= d; w <- w - max(eps2, RMS(w))*rho_t*u.
    No first moment. weight_decay is decoupled: w <- w*(1 - lr*weight_decay)."""

    def __init__(self, params: Any, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0,
                 *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_range("beta2_decay", group["beta2_decay"], None, 0.0)
        eps1, eps2 = group["eps"]
        if eps1 is not None:
            check_range("epsilon1", eps1, 0.0)
        check_range("epsilon2", eps2, 0.0)
        check_range("clipping threshold d", group["d"], 1.0)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        state["step"] = 0
        if p.ndim > 1:
            state["row_var"] = xp.zeros(p.shape[:-1] + (1,), dtype=p.dtype)
            state["col_var"] = xp.zeros(p.shape[:-2] + (1, p.shape[-1]), dtype=p.dtype)
        else:
            state["variance"] = xp.zeros_like(p)

    def _update(self, p: Any, g: Any, state: dict, group: dict) -> None:
        xp = get_array_module(p)
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(np.finfo(p.dtype).eps)
        lr = group["lr"]
        state["step"] += 1
        t = float(state["step"])
        beta = t ** group["beta2_decay"]  # the weight of the new g^2, 1 - beta2_t
        rho = min(lr, 1 / t ** 0.5)
        # 0-d device arrays, not Python floats: no GPU sync for the norms
        alpha = xp.maximum(eps2, xp.sqrt(xp.sum(p * p)) / p.size ** 0.5) * rho
        if group["weight_decay"] != 0:
            p *= 1 - lr * group["weight_decay"]
        g2 = g * g
        if g.ndim > 1:
            row, col = state["row_var"], state["col_var"]
            row += beta * (xp.mean(g2, axis=-1, keepdims=True) - row)
            col += beta * (xp.mean(g2, axis=-2, keepdims=True) - col)
            var = xp.matmul(row, col) / xp.maximum(xp.mean(row, axis=-2, keepdims=True), eps1)
        else:
            v = state["variance"]
            v += beta * (g2 - v)
            var = v.copy()
        update = g / xp.sqrt(xp.maximum(var, eps1 * eps1))
        rms = xp.sqrt(xp.sum(update * update)) / (update.size ** 0.5 * group["d"])
        p -= (alpha / xp.maximum(1.0, rms)) * update
