"""Flush-to-zero for denormal floats on the CPU (PyTorch's `torch.set_flush_denormal`).

Denormal (subnormal) floats are those below 1.18e-38 in float32 (2.2e-308 in float64). x86
CPUs handle them in microcode: an operation that reads or writes one is 10-100x slower. They
arise in training when state decays geometrically toward zero: Adam's first moment of a weight
whose gradient is exactly zero (a dead ReLU unit) shrinks by beta1 every step, reaches the
denormal range after ~800 steps and, because m*(1-beta1) rounds back to m there, stays in it.
A few such entries in a vector slow the whole vector; measured on a Fashion-MNIST MLP at batch 32,
the Adam step went from 1.9 ms to 4.2 ms per step within one epoch (BENCHMARKS.md).

Setting the FTZ (flush results to zero) and DAZ (read denormal inputs as zero) bits of the SSE
control register MXCSR makes those operations full speed; the only numerical change is that
values below the smallest normal float become 0. The register is per thread.

This is done with the C library's `fegetenv`/`fesetenv` through ctypes, on x86-64 Linux
(glibc's `fenv_t` keeps MXCSR at byte 28; the layout is checked before anything is written).
Elsewhere `set_flush_denormal` returns False and nothing changes, as in PyTorch.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import platform
import sys
from collections.abc import Iterator

_FTZ_DAZ = 0x8040         # MXCSR bit 15 (flush to zero) and bit 6 (denormals are zero)
_MASKS = 0x1F80           # the exception-mask bits, all set in every sane MXCSR
_MXCSR_OFFSET = 28        # offsetof(fenv_t, __mxcsr) in glibc on x86-64
_FENV_SIZE = 64           # sizeof(fenv_t) is 32; room to spare

_libm = None
_checked = False


def _lib() -> ctypes.CDLL | None:
    """The C maths library when this platform's fenv_t layout is the one we know, else None."""
    global _libm, _checked
    if _checked:
        return _libm
    _checked = True
    if not (sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")):
        return None
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        env = _getenv(lib)
    except (OSError, AttributeError):
        return None
    if env is None or _mxcsr(env) & _MASKS != _MASKS:  # not the layout we expect: touch nothing
        return None
    _libm = lib
    return lib


def _getenv(lib: ctypes.CDLL) -> ctypes.Array | None:
    """This thread's floating-point environment (a glibc fenv_t), or None if fegetenv fails."""
    env = ctypes.create_string_buffer(_FENV_SIZE)
    return env if lib.fegetenv(env) == 0 else None


def _mxcsr(env: ctypes.Array) -> int:
    return int.from_bytes(env.raw[_MXCSR_OFFSET:_MXCSR_OFFSET + 4], "little")


def _with_mxcsr(env: ctypes.Array, value: int) -> ctypes.Array:
    raw = bytearray(env.raw)
    raw[_MXCSR_OFFSET:_MXCSR_OFFSET + 4] = value.to_bytes(4, "little")
    return ctypes.create_string_buffer(bytes(raw), _FENV_SIZE)


def is_flush_denormal_supported() -> bool:
    return _lib() is not None


def set_flush_denormal(mode: bool) -> bool:
    """Flush denormal floats to zero in this thread (mode=True) or stop (False). Returns True
    when supported on this CPU and platform (x86-64 Linux), False otherwise (nothing changed)."""
    lib = _lib()
    if lib is None:
        return False
    env = _getenv(lib)
    mx = _mxcsr(env)
    mx = (mx | _FTZ_DAZ) if mode else (mx & ~_FTZ_DAZ)
    return lib.fesetenv(_with_mxcsr(env, mx)) == 0


def is_flush_denormal() -> bool:
    """Whether denormals are being flushed to zero in this thread."""
    lib = _lib()
    if lib is None:
        return False
    return _mxcsr(_getenv(lib)) & _FTZ_DAZ == _FTZ_DAZ


@contextlib.contextmanager
def flush_denormal() -> Iterator[bool]:
    """Flush denormals to zero inside the block, then restore the thread's previous floating-
    point environment exactly. Yields whether flushing is in effect."""
    lib = _lib()
    if lib is None:
        yield False
        return
    saved = _getenv(lib)
    mx = _mxcsr(saved)
    if mx & _FTZ_DAZ == _FTZ_DAZ:  # already on: nothing to do or undo
        yield True
        return
    lib.fesetenv(_with_mxcsr(saved, mx | _FTZ_DAZ))
    try:
        yield True
    finally:
        lib.fesetenv(saved)
