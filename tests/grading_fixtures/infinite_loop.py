"""Sigmoid with a correct forward and a backward that never returns."""

from minitorch.autograd import Function


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        y = ((x * 0.5).tanh() + 1.0) * 0.5
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        while True:
            pass
