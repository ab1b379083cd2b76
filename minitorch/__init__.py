"""minitorch: a small, readable deep-learning framework on NumPy (CPU) or CuPy (CUDA)."""

from . import autograd, backend, cuda, dtypes, fpenv, linalg, nn, ops, optim
from . import data
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import DeviceError, get_array_module
from .creation import (
    abs, allclose, arange, argmax, argmin, cat, clamp, concatenate, cos, empty, erf, exp, eye,
    flatten, from_numpy, full, full_like, is_tensor, linspace, log, log_softmax, logsumexp,
    matmul, max, maximum, mean, min, minimum, numel, ones, ones_like, permute, pow, rand, randint,
    randn, randperm, relu, reshape, sigmoid, sign, sin, softmax, sqrt, square, squeeze, stack,
    std, sum, tanh, tensor, transpose, unsqueeze, var, where, zeros, zeros_like,
)
from .dtypes import (
    bool_, double, float16, float32, float64, get_default_dtype, half, int32, int64, long,
    set_default_dtype, uint8,
)
from .fpenv import set_flush_denormal
from .random import get_rng_state, initial_seed, manual_seed, set_rng_state
from .serialization import load, save
from .tensor import Tensor

from . import func, utils  # noqa: E402  (they build on everything above)

__version__ = "0.1.0"

__all__ = [
    "DeviceError", "Tensor", "abs", "allclose", "arange", "argmax", "argmin", "autograd",
    "backend", "bool_", "cat", "clamp", "concatenate", "cos", "cuda", "data", "double", "dtypes",
    "empty", "enable_grad", "erf", "exp", "eye", "flatten", "float16", "float32", "float64",
    "fpenv", "from_numpy", "full", "full_like", "func", "get_array_module", "get_default_dtype",
    "get_rng_state", "half", "initial_seed", "int32", "int64", "is_grad_enabled", "is_tensor",
    "linalg", "linspace", "load", "log", "log_softmax", "logsumexp", "long", "manual_seed",
    "matmul", "max", "maximum", "mean", "min", "minimum", "nn", "no_grad", "numel", "ones",
    "ones_like", "ops", "optim", "permute", "pow", "rand", "randint", "randn", "randperm",
    "relu", "reshape", "save", "set_default_dtype", "set_flush_denormal", "set_grad_enabled",
    "set_rng_state", "sigmoid",
    "sign", "sin", "softmax", "sqrt", "square", "squeeze", "stack", "std", "sum", "tanh",
    "tensor", "transpose", "uint8", "unsqueeze", "utils", "var", "where", "zeros", "zeros_like",
]
