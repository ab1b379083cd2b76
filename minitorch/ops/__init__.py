"""Differentiable primitives, grouped by kind; Tensor methods and mt.* functions call these."""

from .elementwise import (
    Abs, Add, Cast, Clamp, Clone, Cos, Div, Erf, Exp, LeakyReLU, Log, Maximum, Minimum, Mul,
    Neg, Pow, ReLU, RPow, Sigmoid, Sin, Softplus, Sqrt, Sub, Tanh, ToDevice, Where,
)
from .linalg import Det, Inverse, MatMul
from .nn import Linear, LogSoftmax, Softmax, SoftmaxCrossEntropy
from .reduce import Extremum, LogSumExp, Mean, Norm2, Sum
from .shape import Cat, Expand, GetItem, IndexBackward, Permute, Reshape

__all__ = [
    "Abs", "Add", "Cast", "Cat", "Clamp", "Clone", "Cos", "Det", "Div", "Erf", "Exp", "Expand",
    "Extremum", "GetItem", "IndexBackward", "Inverse", "LeakyReLU", "Linear", "Log",
    "LogSoftmax", "LogSumExp", "MatMul", "Maximum", "Mean", "Minimum", "Mul", "Neg", "Norm2",
    "Permute",
    "Pow", "RPow", "ReLU", "Reshape", "Sigmoid", "Sin", "Softmax", "SoftmaxCrossEntropy",
    "Softplus", "Sqrt", "Sub", "Sum", "Tanh", "ToDevice", "Where",
]
