"""Autodiff beyond backprop: grad, vjp, jvp, jacobian, hessian, hvp, Hutchinson's trace, and the
two-point zero-order gradient estimate (PyTorch's torch.func / torch.autograd.functional).

Every transform runs `fn` on fresh variables that alias the given tensors' arrays (no copy) and
differentiates with `autograd.grad`, so it never touches any `.grad`. When a given tensor itself
requires grad and recording is on, the variables stay connected to it and the result is built
with create_graph=True: transforms compose (hessian = jacobian of jacobian) and their results
can be differentiated again.

Forward mode (jvp) uses the double-vjp trick rather than dual numbers (seed 001): the vjp
u -> J^T u is linear in u, so differentiating <J^T u, v> with respect to u gives J v. It needs
only the reverse-mode rules (every op's backward is itself differentiable here) at the price
of two reverse passes per tangent instead of one forward pass carrying dual values.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from . import random as _random
from .autograd import Function, enable_grad, is_grad_enabled
from .autograd import grad as _autograd_grad
from .autograd.function import Context
from .tensor import Tensor

__all__ = ["TraceEstimate", "grad", "grad_and_value", "hessian", "hutchinson_trace", "hvp",
           "jacobian", "jvp", "vjp", "zero_order_grad"]


class _Alias(Function):
    """The same array as a new graph node (identity; gradient passes through)."""

    @staticmethod
    def forward(ctx: Context, a: Tensor) -> Tensor:
        return Tensor._wrap(a.data)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g


def _check_tensor(x: Any, what: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{what} must be a Tensor, got {type(x).__name__}")
    if x.dtype.kind not in "fc":
        raise TypeError(f"{what} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def _variables(xs: Sequence[Tensor], what: str) -> tuple[list, bool]:
    """Fresh variables for xs; connected (differentiable again) where x requires grad."""
    out, connected = [], False
    for i, x in enumerate(xs):
        _check_tensor(x, f"{what}: input {i}")
        if x.requires_grad and is_grad_enabled():
            out.append(_Alias.apply(x))
            connected = True
        else:
            v = Tensor._wrap(x.data)
            v.requires_grad = True
            out.append(v)
    return out, connected


def _zeros_for(grads: Sequence[Any], like: Sequence[Tensor]) -> tuple:
    """None (an input the output does not depend on) -> zeros of that input's shape."""
    return tuple(Tensor._wrap(x._xp().zeros(x.shape, dtype=x.dtype)) if g is None else g
                 for g, x in zip(grads, like))


def _argnums(argnums: Any, n: int, what: str) -> tuple[tuple, bool]:
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not -n <= a < n:
            raise ValueError(f"{what}: argnums {a} is out of range for {n} positional argument(s)")
    return tuple(a % n for a in nums), single


def _as_outputs(out: Any, what: str) -> tuple[list, bool]:
    if isinstance(out, Tensor):
        return [out], True
    if isinstance(out, (tuple, list)) and all(isinstance(o, Tensor) for o in out):
        return list(out), False
    raise TypeError(f"{what}: fn must return a Tensor or a tuple of Tensors, "
                    f"got {type(out).__name__}")


def _differentiate(outs: list, wrt: list, cotangents: list, create_graph: bool) -> tuple:
    pairs = [(o, c) for o, c in zip(outs, cotangents) if o.requires_grad]
    if not pairs:  # no output depends on any input
        return _zeros_for([None] * len(wrt), wrt)
    got = _autograd_grad([o for o, _ in pairs], wrt, [c for _, c in pairs],
                         retain_graph=True, create_graph=create_graph, allow_unused=True)
    return _zeros_for(got, wrt)


# ---- reverse mode -------------------------------------------------------------------------------
def vjp(fn: Callable, *primals: Tensor, has_aux: bool = False) -> tuple:
    """(fn(*primals), vjp_fn[, aux]) with vjp_fn(cotangents) = cotangents^T J, one per primal."""
    with enable_grad():
        xs, connected = _variables(primals, "vjp")
        result = fn(*xs)
        aux = None
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise TypeError("vjp: with has_aux=True fn must return (output, aux)")
            result, aux = result
        outs, single = _as_outputs(result, "vjp")

    def vjp_fn(*cotangents: Any) -> tuple:
        cts = list(cotangents[0]) if len(cotangents) == 1 and not single \
            and isinstance(cotangents[0], (tuple, list)) else list(cotangents)
        if len(cts) != len(outs):
            raise ValueError(f"vjp_fn: fn has {len(outs)} output(s), got {len(cts)} cotangent(s)")
        for i, (c, o) in enumerate(zip(cts, outs)):
            if not isinstance(c, Tensor) or c.shape != o.shape:
                raise ValueError(f"vjp_fn: cotangent {i} must be a Tensor of shape {o.shape}, "
                                 f"got {getattr(c, 'shape', type(c).__name__)}")
        with enable_grad():
            return _differentiate(outs, xs, cts, connected)

    value = outs[0] if single else tuple(outs)
    if not connected:
        value = value.detach() if single else tuple(o.detach() for o in value)
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def grad_and_value(fn: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """(d fn / d args[argnums], fn(*args)) for a scalar-valued fn (torch.func.grad_and_value)."""

    def wrapper(*args: Any) -> tuple:
        nums, single = _argnums(argnums, len(args), "grad")
        with enable_grad():
            xs, connected = _variables([args[i] for i in nums], "grad")
            full = list(args)
            for i, x in zip(nums, xs):
                full[i] = x
            out = fn(*full)
            aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise TypeError("grad: with has_aux=True fn must return (output, aux)")
                out, aux = out
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise ValueError("grad: fn must return a scalar Tensor (one element), got "
                                 f"{getattr(out, 'shape', type(out).__name__)}; use vjp or "
                                 "jacobian for non-scalar outputs")
            ones = Tensor._wrap(out._xp().ones(out.shape, dtype=out.dtype))
            g = _differentiate([out], xs, [ones], connected)
        value = out if connected else out.detach()
        g = g[0] if single else g
        return (g, (value, aux)) if has_aux else (g, value)

    return wrapper


def grad(fn: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """The function x -> ∇fn(x) of a scalar-valued fn (torch.func.grad)."""
    gv = grad_and_value(fn, argnums, has_aux)

    def wrapper(*args: Any) -> Any:
        g, value = gv(*args)
        return (g, value[1]) if has_aux else g

    return wrapper


# ---- forward mode -------------------------------------------------------------------------------
def jvp(fn: Callable, primals: Sequence[Tensor], tangents: Sequence[Tensor]) -> tuple:
    """(fn(*primals), J·tangents) by the double-vjp trick (see the module docstring)."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    for i, (p, t) in enumerate(zip(primals, tangents)):
        _check_tensor(t, f"jvp: tangent {i}")
        if _check_tensor(p, f"jvp: primal {i}").shape != t.shape:
            raise ValueError(f"jvp: tangent {i} has shape {t.shape}, its primal {p.shape}")
    value, push = _linearize(fn, primals, "jvp")
    return value, push(tangents)


def _linearize(fn: Callable, primals: tuple, what: str) -> tuple:
    """(fn(*primals), tangents -> J·tangents), sharing one forward and one vjp graph."""
    with enable_grad():
        xs, connected = _variables(primals, what)
        outs, single = _as_outputs(fn(*xs), what)
        # u: dummy cotangents; J^T u is linear in u, recorded so that it can be differentiated
        us = [Tensor._wrap(o._xp().zeros(o.shape, dtype=o.dtype)) for o in outs]
        for u in us:
            u.requires_grad = True
        vjps = _differentiate(outs, xs, us, create_graph=True)

    def push(tangents: Sequence[Tensor]) -> Any:
        with enable_grad():
            res = _differentiate(list(vjps), us, list(tangents), create_graph=connected)
        return res[0] if single else res

    value = outs[0] if single else tuple(outs)
    if not connected:
        value = value.detach() if single else tuple(o.detach() for o in value)
    return value, push


def jacobian(fn: Callable, argnums: Any = 0, mode: str = "auto") -> Callable:
    """x -> J, of shape out.shape + x.shape (torch.func.jacrev / jacfwd layout). mode:
    "reverse" (one vjp per output element), "forward" (one jvp per input element) or "auto":
    forward when there are fewer inputs than outputs (seed 001: passes = inputs vs outputs)."""
    if mode not in ("auto", "reverse", "forward"):
        raise ValueError(f"jacobian: mode must be 'auto', 'reverse' or 'forward', got {mode!r}")

    def wrapper(*args: Any) -> Any:
        nums, single = _argnums(argnums, len(args), "jacobian")
        xs = [args[i] for i in nums]

        def f(*vs: Tensor) -> Any:
            full = list(args)
            for i, v in zip(nums, vs):
                full[i] = v
            return fn(*full)

        n_in = sum(x.numel() for x in xs)
        use_forward = mode == "forward"
        if mode == "auto":
            with enable_grad():  # one cheap forward to learn the output size
                n_out = sum(o.numel() for o in _as_outputs(f(*xs), "jacobian")[0])
            use_forward = n_in < n_out
        table, single_out = _jac_forward(f, xs) if use_forward else _jac_reverse(f, xs)
        rows = [row[0] if single else tuple(row) for row in table]  # table[output][input]
        return rows[0] if single_out else tuple(rows)

    return wrapper


def _basis(x: Tensor, k: int) -> Tensor:
    e = x._xp().zeros(x.numel(), dtype=x.dtype)
    e[k] = 1
    return Tensor._wrap(e.reshape(x.shape))


def _stack(rows: list, shape: tuple) -> Tensor:
    from .creation import stack

    return stack(rows).reshape(shape)


def _jac_reverse(f: Callable, xs: list) -> tuple:
    value, pull = vjp(f, *xs)
    outs = [value] if isinstance(value, Tensor) else list(value)
    table = []
    for oi, o in enumerate(outs):
        rows: list[list] = [[] for _ in xs]
        for k in range(o.numel()):
            cts = [_basis(o, k) if j == oi else Tensor._wrap(o2._xp().zeros_like(o2.data))
                   for j, o2 in enumerate(outs)]
            for i, g in enumerate(pull(*cts)):
                rows[i].append(g.reshape(-1))
        table.append([_stack(r, o.shape + x.shape) if r else
                      Tensor._wrap(x._xp().zeros(o.shape + x.shape, dtype=x.dtype))
                      for r, x in zip(rows, xs)])
    return table, isinstance(value, Tensor)


def _jac_forward(f: Callable, xs: list) -> tuple:
    value, push = _linearize(f, tuple(xs), "jacobian")
    outs = [value] if isinstance(value, Tensor) else list(value)
    cols: list = [[[] for _ in xs] for _ in outs]
    for i, x in enumerate(xs):
        for k in range(x.numel()):
            ts = [_basis(x, k) if j == i else Tensor._wrap(x2._xp().zeros_like(x2.data))
                  for j, x2 in enumerate(xs)]
            res = push(ts)
            res = [res] if isinstance(res, Tensor) else list(res)
            for oi, r in enumerate(res):
                cols[oi][i].append(r.reshape(-1))
    table = []
    for oi, o in enumerate(outs):
        entry = []
        for i, x in enumerate(xs):
            c = cols[oi][i]
            if not c:
                entry.append(Tensor._wrap(x._xp().zeros(o.shape + x.shape, dtype=x.dtype)))
                continue
            # columns are d out / d x_k: stack them last, then restore out.shape + x.shape
            m = _stack(c, (x.numel(), o.numel())).transpose(0, 1)
            entry.append(m.reshape(o.shape + x.shape))
        table.append(entry)
    return table, isinstance(value, Tensor)


def hessian(fn: Callable, argnums: Any = 0) -> Callable:
    """x -> ∇²fn(x), shape out.shape + x.shape + x.shape (reverse over reverse)."""
    return jacobian(jacobian(fn, argnums, mode="reverse"), argnums, mode="reverse")


# ---- Hessian-vector products and trace estimation ----------------------------------------------
def hvp(fn: Callable, inputs: Any, v: Any) -> tuple:
    """(fn(x), ∇²fn(x)·v) without forming the Hessian: ∇_x[∇fn(x)ᵀ v] (seed 000, double
    backward); same return as torch.autograd.functional.hvp. inputs, v: Tensors or tuples."""
    single = isinstance(inputs, Tensor)
    xs_in = [inputs] if single else list(inputs)
    vs = [v] if isinstance(v, Tensor) else list(v)
    if len(vs) != len(xs_in):
        raise ValueError(f"hvp: got {len(xs_in)} input(s) but {len(vs)} vector(s)")
    for i, (x, vi) in enumerate(zip(xs_in, vs)):
        if _check_tensor(vi, f"hvp: v {i}").shape != _check_tensor(x, f"hvp: input {i}").shape:
            raise ValueError(f"hvp: v {i} has shape {vi.shape}, its input {x.shape}")
    value, prod = _hvp_fn(fn, xs_in, "hvp")
    res = prod(vs)
    return value, res[0] if single else res


def _hvp_fn(fn: Callable, xs_in: list, what: str) -> tuple:
    """(fn(x), v -> H v), sharing one forward and one recorded gradient."""
    with enable_grad():
        xs, connected = _variables(xs_in, what)
        out = fn(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise ValueError(f"{what}: fn must return a scalar Tensor, got "
                             f"{getattr(out, 'shape', type(out).__name__)}")
        ones = Tensor._wrap(out._xp().ones(out.shape, dtype=out.dtype))
        gs = _differentiate([out], xs, [ones], create_graph=True)

    def prod(vs: Sequence[Tensor]) -> tuple:
        with enable_grad():
            return _differentiate(list(gs), xs, list(vs), create_graph=connected)

    return (out if connected else out.detach()), prod


class TraceEstimate(NamedTuple):
    """Hutchinson's estimate, its standard error std(vᵢᵀHvᵢ)/sqrt(k), and the k samples."""

    estimate: float
    stderr: float
    samples: np.ndarray


def hutchinson_trace(fn: Callable, x: Tensor, samples: int = 100,
                     distribution: str = "rademacher") -> TraceEstimate:
    """tr ∇²fn(x) ≈ (1/k) Σ vᵢᵀ ∇²fn(x) vᵢ with E[v vᵀ] = I (Hutchinson 1990): Rademacher
    (±1, the least variance) or Gaussian vᵢ from the framework RNG; k Hessian-vector products."""
    if not isinstance(samples, int) or samples < 1:
        raise ValueError(f"hutchinson_trace: samples must be a positive int, got {samples!r}")
    if distribution not in ("rademacher", "gaussian"):
        raise ValueError("hutchinson_trace: distribution must be 'rademacher' or 'gaussian', "
                         f"got {distribution!r}")
    _check_tensor(x, "hutchinson_trace: x")
    _, prod = _hvp_fn(fn, [x], "hutchinson_trace")
    gen = _random.generator(x.device)
    xp = x._xp()
    vals = []
    for _ in range(samples):
        if distribution == "rademacher":
            v = (gen.integers(0, 2, size=x.shape) * 2 - 1).astype(x.dtype)
        else:
            v = gen.standard_normal(size=x.shape, dtype=np.float64).astype(x.dtype)
        hv = prod([Tensor._wrap(v)])[0]
        vals.append(float(xp.sum(v * hv.data)))
    arr = np.asarray(vals)
    stderr = float(arr.std(ddof=1) / math.sqrt(samples)) if samples > 1 else math.inf
    return TraceEstimate(float(arr.mean()), stderr, arr)


# ---- zero-order ---------------------------------------------------------------------------------
def zero_order_grad(fn: Callable, x: Tensor, eps: float = 1e-3, samples: int = 1) -> Tensor:
    """Two-point estimate G = d·(f(x+εv) − f(x−εv))/(2ε)·v, v uniform on the unit sphere,
    averaged over `samples` directions (seed 000); unbiased for ∇f as ε -> 0, 2 calls each."""
    _check_tensor(x, "zero_order_grad: x")
    if samples < 1:
        raise ValueError(f"zero_order_grad: samples must be >= 1, got {samples}")
    gen = _random.generator(x.device)
    d = x.numel()
    total = x._xp().zeros(x.shape, dtype=x.dtype)
    from .autograd import no_grad

    with no_grad():
        for _ in range(samples):
            v = gen.standard_normal(size=x.shape, dtype=np.float64)
            v = (v / np.sqrt(float((v * v).sum()))).astype(x.dtype)
            plus = fn(Tensor._wrap(x.data + eps * v))
            minus = fn(Tensor._wrap(x.data - eps * v))
            diff = float(plus.item()) - float(minus.item())
            total += (d * diff / (2 * eps)) * v
    return Tensor._wrap(total / samples)
