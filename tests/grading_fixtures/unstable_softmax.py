"""Softmax-cross-entropy without subtracting the row maximum: exp overflows for big logits."""

import minitorch as mt
from minitorch.autograd import Function


class SoftmaxCrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target):
        n, c = logits.shape
        e = logits.exp()
        p = e / e.sum(dim=1, keepdim=True)
        onehot = (target.reshape(n, 1) == mt.arange(c)).to(dtype=logits.dtype)
        ctx.save_for_backward(p, onehot)
        return -(p.log() * onehot).sum() / n

    @staticmethod
    def backward(ctx, grad_output):
        p, onehot = ctx.saved_tensors
        return (p - onehot) * (grad_output / p.shape[0]), None
