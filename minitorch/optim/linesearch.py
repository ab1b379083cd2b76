"""Line searches on the flattened parameter vector, and steepest descent (seed 001).

`strong_wolfe` and `cubic_interpolate` follow the algorithm of torch.optim.LBFGS (after
minFunc; Nocedal & Wright, Numerical Optimization, algorithms 3.5-3.6) so that LBFGS
matches PyTorch iterate for iterate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..autograd import enable_grad
from ..backend import get_array_module
from .optimizer import Optimizer, check_range


def cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                      bounds: tuple | None = None) -> float:
    """Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to bounds."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(pos, lo), hi)
    return (lo + hi) / 2.0


def strong_wolfe(obj: Callable, x: Any, t: float, d: Any, f: float, g: Any, gtd: float,
                 c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9,
                 max_ls: int = 25) -> tuple:
    """Find t with f(x+td) <= f + c1*t*gtd and |g(x+td).d| <= -c2*gtd (bracket, then zoom).

    obj(x, t, d) -> (loss, flat_grad). Returns (f_new, g_new, t, number of evaluations)."""
    d_norm = float(abs(d).max())
    f_new, g_new = obj(x, t, d)
    evals = 1
    gtd_new = float(g_new.dot(d))
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list = []
    bracket_f: list = []
    bracket_g: list = []
    bracket_gtd: list = []
    while ls_iter < max_ls:  # bracketing phase
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        tmp = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                              bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj(x, t, d)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    insuf_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:  # zoom phase
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                              bracket[1], bracket_f[1], bracket_gtd[1])
        # keep away from the bracket's ends, else the search stalls there
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) \
                    else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj(x, t, d)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class FlatParams:
    """Mixin: the parameters of the single group seen as one flat vector."""

    param_groups: list

    def _flat(self) -> list:
        return self.param_groups[0]["params"]

    def _gather_flat_grad(self) -> Any:
        ps = self._flat()
        xp = get_array_module(ps[0].data)
        return xp.concatenate([
            (p.grad.data if p.grad is not None else xp.zeros_like(p.data)).reshape(-1)
            for p in ps
        ])

    def _add_grad(self, t: float, d: Any) -> None:
        offset = 0
        for p in self._flat():
            n = p.data.size
            p.data += t * d[offset:offset + n].reshape(p.data.shape)
            offset += n

    def _clone_param(self) -> list:
        return [p.data.copy() for p in self._flat()]

    def _set_param(self, arrays: list) -> None:
        for p, a in zip(self._flat(), arrays, strict=True):
            p.data[...] = a

    def _directional_evaluate(self, closure: Callable, x: list, t: float, d: Any) -> tuple:
        """Loss and flat gradient at x + t*d; the parameters are left at x."""
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        g = self._gather_flat_grad()
        self._set_param(x)
        return loss, g


def single_group(opt: Optimizer) -> None:
    if len(opt.param_groups) != 1:
        raise ValueError(f"{type(opt).__name__} doesn't support per-parameter options "
                         "(parameter groups): pass one list of parameters")


class SteepestDescent(FlatParams, Optimizer):
    """Gradient descent with a line search along -g (seed 001: t* = argmin_t L(w - t*g)),
    w <- w - t* g, the "method of steepest descent" (Cauchy 1847).

    line_search: "exact" (bracket, then golden-section search on the loss to ls_tolerance),
    "armijo" (backtracking from t = lr by `shrink` until L(w - t g) <= L - c1*t*|g|^2;
    Armijo 1966), or "strong_wolfe" (as LBFGS). `lr` is the first trial step.
    step() needs a closure that zeroes the gradients, computes the loss, calls backward and
    returns the loss; it returns the loss before the step."""

    def __init__(self, params: Any, lr: float = 1.0, line_search: str = "exact",
                 max_ls: int = 40, ls_tolerance: float = 1e-6, c1: float = 1e-4,
                 c2: float = 0.9, shrink: float = 0.5) -> None:
        defaults = dict(lr=lr, line_search=line_search, max_ls=max_ls,
                        ls_tolerance=ls_tolerance, c1=c1, c2=c2, shrink=shrink)
        super().__init__(params, defaults)
        single_group(self)

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        if group["line_search"] not in ("exact", "armijo", "strong_wolfe"):
            raise ValueError(f"Invalid line_search: {group['line_search']!r} (expected "
                             "'exact', 'armijo' or 'strong_wolfe')")
        check_range("max_ls", group["max_ls"], 1)
        check_range("shrink", group["shrink"], 0.0, 1.0, lo_open=True, hi_open=True)
        check_range("c1", group["c1"], 0.0, 1.0, lo_open=True, hi_open=True)
        check_range("c2", group["c2"], group["c1"], 1.0, lo_open=True, hi_open=True)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        if closure is None:
            raise ValueError("SteepestDescent.step needs a closure that re-evaluates the loss "
                             "(zero_grad, loss, backward, return loss)")
        group = self.param_groups[0]
        state = self.state[self._flat()[0]]
        with enable_grad():
            orig_loss = closure()
        f0 = float(orig_loss)
        g = self._gather_flat_grad()
        d = -g
        gtd = float(g.dot(d))
        x = self._clone_param()

        def phi(t: float) -> float:
            return self._directional_evaluate(closure, x, t, d)[0]

        kind, t0, max_ls = group["line_search"], group["lr"], group["max_ls"]
        if gtd == 0.0:
            t, evals = 0.0, 0
        elif kind == "strong_wolfe":
            _, _, t, evals = strong_wolfe(
                lambda x_, t_, d_: self._directional_evaluate(closure, x_, t_, d_),
                x, t0, d, f0, g, gtd, c1=group["c1"], c2=group["c2"], max_ls=max_ls)
        elif kind == "armijo":
            t, evals = _armijo(phi, t0, f0, gtd, group["c1"], group["shrink"], max_ls)
        else:
            t, evals = _golden(phi, t0, f0, group["ls_tolerance"], max_ls)
        self._add_grad(t, d)
        state["n_iter"] = state.get("n_iter", 0) + 1
        state["func_evals"] = state.get("func_evals", 0) + 1 + evals
        state["t"] = t
        return orig_loss


def _armijo(phi: Callable, t: float, f0: float, gtd: float, c1: float, shrink: float,
            max_ls: int) -> tuple:
    """Backtrack until sufficient decrease; keep the best step tried (0 if none decreased)."""
    best_t, best_f = 0.0, f0
    for i in range(max_ls):
        f = phi(t)
        if f < best_f:
            best_t, best_f = t, f
        if f <= f0 + c1 * t * gtd:
            return t, i + 1
        t *= shrink
    return best_t, max_ls


def _golden(phi: Callable, t0: float, f0: float, tol: float, max_evals: int) -> tuple:
    """Minimise phi on t >= 0: bracket a minimum by doubling or shrinking from t0, then
    golden-section search until the bracket is tol*(1 + t) wide."""
    seen = {0.0: f0}

    def f(t: float) -> float:
        if t not in seen:
            seen[t] = phi(t)
        return seen[t]

    lo, mid, hi = 0.0, t0, 2 * t0
    if f(mid) > f0:  # the minimum lies before t0: shrink the bracket
        while f(mid) > f0 and len(seen) < max_evals:
            hi, mid = mid, mid / 2
    else:  # walk right while the loss keeps falling
        while f(hi) <= f(mid) and len(seen) < max_evals:
            lo, mid, hi = mid, hi, 2 * hi
    r = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    x1, x2 = b - r * (b - a), a + r * (b - a)
    while b - a > tol * (1 + b) and len(seen) < max_evals:
        if f(x1) <= f(x2):
            b, x2 = x2, x1
            x1 = b - r * (b - a)
        else:
            a, x1 = x1, x2
            x2 = a + r * (b - a)
    best = min(seen, key=lambda t: (seen[t], t))
    return best, len(seen) - 1
