"""One misbehaviour per symbol, for the isolation tests (graded against relu): each task must
lose its own points and nothing more. Linear is correct and must keep full marks."""

import ctypes
import signal
import sys

import numpy as np

from minitorch.autograd import Function


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        return grad_output @ weight, grad_output.T @ x, grad_output.sum(dim=0)


class _Relu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0.0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0).to(dtype=grad_output.dtype)


class Exits(_Relu):  # sys.exit: caught per case, the process lives on
    @staticmethod
    def forward(ctx, x):
        sys.exit(3)


class Hog(_Relu):  # allocates without bound: MemoryError under the memory limit
    @staticmethod
    def forward(ctx, x):
        blocks = []
        while True:
            blocks.append(np.ones(1 << 24))


class Chatty(_Relu):  # right answers, but prints megabytes
    @staticmethod
    def forward(ctx, x):
        for _ in range(20000):
            print("debug " * 40)
        return _Relu.forward(ctx, x)


class Crash(_Relu):  # a segfault in native code
    @staticmethod
    def forward(ctx, x):
        ctypes.string_at(0)


class Stubborn(_Relu):  # ignores the check's alarm: only the task's hard limit stops it
    @staticmethod
    def backward(ctx, grad_output):
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            pass


class AsList(_Relu):  # right values, as a nested list
    @staticmethod
    def forward(ctx, x):
        return np.maximum(x.numpy(), 0).tolist()


class Wide(_Relu):  # right values, but float64 for float32 inputs
    @staticmethod
    def forward(ctx, x):
        return _Relu.forward(ctx, x).to(dtype="float64")


class Cheat(_Relu):  # uses the framework's own relu
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.relu()


NotAFunction = 42
