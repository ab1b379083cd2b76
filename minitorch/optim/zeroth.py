"""Zeroth-order optimisation: SGD on a two-point gradient estimate (no backward pass)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import backend, random
from ..tensor import Tensor
from .optimizer import Optimizer, check_range


def _value(loss: Any) -> Any:
    """The loss as a (device) scalar without a host round trip."""
    return loss.data if isinstance(loss, Tensor) else float(loss)


class ZerothOrderSGD(Optimizer):
    """SGD on the two-point estimate of SPEC section 2 (seed 000; Nesterov & Spokoiny 2017,
    Duchi et al. 2015): G = d * (L(w + eps*v) - L(w - eps*v)) / (2*eps) * v, v uniform on the
    unit sphere of the group's d coordinates, averaged over num_samples directions;
    w <- w - lr*(G + weight_decay*w). E[G] -> grad L as eps -> 0.

    step(closure) needs a closure that returns the loss; it need not call backward (a
    closure that runs under mt.no_grad() saves the graph's memory). v = z/||z|| with
    z ~ N(0, I) drawn from the framework generator (mt.manual_seed) parameter by parameter,
    so runs are reproducible. step() returns the mean of the evaluated losses, an O(eps^2)
    estimate of L(w)."""

    def __init__(self, params: Any, lr: float = 1e-3, eps: float = 1e-3, num_samples: int = 1,
                 weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, eps=eps, num_samples=num_samples, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        check_range("eps", group["eps"], 0.0, lo_open=True)
        n = group["num_samples"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"Invalid num_samples: {n!r} (expected an int >= 1)")

    @staticmethod
    def sample_direction(params: list) -> list:
        """A direction uniform on the unit sphere, split into arrays shaped like `params`."""
        zs = []
        for p in params:
            gen = random.generator(backend.device_of(p.data))
            zs.append(gen.standard_normal(p.data.shape).astype(p.dtype, copy=False))
        xp = backend.get_array_module(zs[0])
        norm = xp.sqrt(sum(xp.sum(z * z) for z in zs))
        return [z / norm for z in zs]

    def estimate_gradient(self, closure: Callable[[], Any], group: dict) -> tuple:
        """(estimates, losses): the two-point estimate for each parameter of `group`."""
        params = group["params"]
        eps = group["eps"]
        dim = sum(p.data.size for p in params)
        est = [backend.get_array_module(p.data).zeros_like(p.data) for p in params]
        losses = []
        for _ in range(group["num_samples"]):
            vs = self.sample_direction(params)
            w0 = [p.data.copy() for p in params]
            values = []
            for sign in (1.0, -1.0):
                for p, w, v in zip(params, w0, vs, strict=True):
                    p.data[...] = w + (sign * eps) * v
                loss = closure()
                values.append(_value(loss))
                losses.append(loss)
            for p, w in zip(params, w0, strict=True):
                p.data[...] = w
            coef = (dim / (2 * eps)) * (values[0] - values[1])
            for e, v in zip(est, vs, strict=True):
                e += coef * v
        n = group["num_samples"]
        return [e / n for e in est], losses

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        if closure is None:
            raise ValueError("ZerothOrderSGD.step needs a closure that returns the loss "
                             "(it is evaluated at w +- eps*v; no backward is needed)")
        # estimate every group at the current point first, then move
        estimates, losses = [], []
        for group in self.param_groups:
            est, ls = self.estimate_gradient(closure, group)
            estimates.append(est)
            losses.extend(ls)
        for group, est in zip(self.param_groups, estimates, strict=True):
            lr, wd = group["lr"], group["weight_decay"]
            for p, g in zip(group["params"], est, strict=True):
                if group["maximize"]:
                    g = -g
                if wd != 0:
                    g = g + wd * p.data
                p.data -= lr * g
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        return total / len(losses)
