"""Finite-difference checks of analytic gradients (seed 000: central differences, float64)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree."""


def _inputs(inputs: Any) -> list:
    from ..tensor import Tensor

    return [inputs] if isinstance(inputs, Tensor) else list(inputs)


def _differentiable(t: Any) -> bool:
    """Inputs that are checked: Tensors that require grad (others are constants)."""
    from ..tensor import Tensor

    return isinstance(t, Tensor) and t.requires_grad


def _outputs(out: Any) -> list:
    """The floating-point Tensors among fn's outputs (indices and the like are skipped)."""
    from ..tensor import Tensor

    outs = [out] if isinstance(out, Tensor) else list(out)
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind in "fc"]


def numerical_jacobian(fn: Callable, inputs: Sequence[Any], eps: float = 1e-6) -> list:
    """d(flattened outputs)/d(each input), by central differences: (f(x+e)-f(x-e))/2e."""
    from ..autograd.grad_mode import no_grad

    jac = []
    with no_grad():
        outs = _outputs(fn(*inputs))
        n_out = sum(o.numel() for o in outs)
        for t in inputs:
            if not _differentiable(t):
                jac.append(None)
                continue
            if not t.data.flags.c_contiguous:
                t.data = t.data.copy()
            x = t.data
            flat = x.reshape(-1)  # a view: perturb in place
            j = np.zeros((flat.size, n_out))
            for k in range(flat.size):
                orig = flat[k].item()
                flat[k] = orig + eps
                plus = np.concatenate([o.numpy().ravel() for o in _outputs(fn(*inputs))])
                flat[k] = orig - eps
                minus = np.concatenate([o.numpy().ravel() for o in _outputs(fn(*inputs))])
                flat[k] = orig
                j[k] = (plus - minus) / (2 * eps)
            jac.append(j)
    return jac


def analytical_jacobian(fn: Callable, inputs: Sequence[Any]) -> list:
    """Rows built with one vector-Jacobian product per output element."""
    from . import grad

    outs = _outputs(fn(*inputs))
    n_out = sum(o.numel() for o in outs)
    diff_inputs = [t for t in inputs if _differentiable(t)]
    jac = [np.zeros((t.numel(), n_out)) for t in diff_inputs]
    col = 0
    for o in outs:
        for k in range(o.numel()):
            if not o.requires_grad:
                col += 1
                continue
            xp = o._xp()
            seed = xp.zeros(o.numel(), dtype=o.dtype)
            seed[k] = 1
            from ..tensor import Tensor

            gs = grad([o], diff_inputs, [Tensor._wrap(seed.reshape(o.shape))],
                      retain_graph=True, allow_unused=True)
            for j, g in zip(jac, gs, strict=True):
                if g is not None:
                    j[:, col] = g.numpy().ravel()
            col += 1
    full = []
    it = iter(jac)
    for t in inputs:
        full.append(next(it) if _differentiable(t) else None)
    return full


def gradcheck(
    fn: Callable,
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare reverse-mode gradients with central finite differences (inputs in float64)."""
    ins = _inputs(inputs)
    for i, t in enumerate(ins):
        if _differentiable(t) and t.dtype != np.float64:
            raise GradcheckError(
                f"gradcheck: input {i} is {t.dtype}; finite differences need float64 inputs"
            )
    num = numerical_jacobian(fn, ins, eps)
    ana = analytical_jacobian(fn, ins)
    for i, (n, a) in enumerate(zip(num, ana, strict=True)):
        if n is None:
            continue
        if not np.allclose(a, n, atol=atol, rtol=rtol):
            err = np.abs(a - n)
            k = np.unravel_index(np.argmax(err), err.shape)
            msg = (
                f"gradcheck: Jacobian mismatch for input {i} at (input element {k[0]}, "
                f"output element {k[1]}): analytical {a[k]:.10g} vs numerical {n[k]:.10g} "
                f"(max abs error {err.max():.3g})"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(
    fn: Callable,
    inputs: Any,
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """gradcheck of the function x -> vjp(fn, x, v), i.e. of the backward pass itself."""
    from ..tensor import Tensor
    from . import grad

    ins = _inputs(inputs)
    outs = _outputs(fn(*ins))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [
            Tensor(rng.standard_normal(o.shape), dtype=o.dtype, device=o.device, requires_grad=True)
            for o in outs
        ]
    else:
        grad_outputs = _inputs(grad_outputs)
    n_in = len(ins)
    diff_idx = [i for i, t in enumerate(ins) if _differentiable(t)]

    def first_order(*args: Any) -> tuple:
        from .grad_mode import enable_grad

        xs, vs = args[:n_in], args[n_in:]
        with enable_grad():
            o = _outputs(fn(*xs))
            gs = grad(o, [xs[i] for i in diff_idx], list(vs), create_graph=True,
                      allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_order, list(ins) + list(grad_outputs), eps, atol, rtol,
                     raise_exception)
