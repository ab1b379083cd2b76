"""ReLU that kills its own process with os._exit(0) (no exception, no cleanup); Sigmoid is
correct and must keep its points."""

import os

from minitorch.autograd import Function


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        os._exit(0)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        y = ((x * 0.5).tanh() + 1.0) * 0.5
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y * (1.0 - y)
