"""A full-marks solution of configs/grading/example.yaml, written with minitorch primitives
(Tensor operations and the backend's array module), not with the framework's ready-made ops.

    python -m minitorch.grading --assignment configs/grading/example.yaml \
        --submission examples/grading/reference_solution.py
"""

from __future__ import annotations

import math

import minitorch as mt
from minitorch.autograd import Function
from minitorch.optim import Optimizer
from minitorch.optim.lr_scheduler import LRScheduler


# ---- functions: forward and backward side by side ---------------------------------------------
class Linear(Function):
    """y = x W^T + b;  dx = g W,  dW = g^T x,  db = sum of g over the batch."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        return grad_output @ weight, grad_output.T @ x, grad_output.sum(dim=0)


class ReLU(Function):
    """y = max(x, 0);  dx = g * [x > 0]."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0.0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0).to(dtype=grad_output.dtype)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x), computed as (1 + tanh(x/2)) / 2, which never overflows;
    dx = g * y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        y = ((x * 0.5).tanh() + 1.0) * 0.5
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y * (1.0 - y)


class SoftmaxCrossEntropy(Function):
    """loss = mean_i [ logsumexp(z_i) - z_i[y_i] ], with the row maximum subtracted first;
    dz = (softmax(z) - onehot(y)) / N * g."""

    @staticmethod
    def forward(ctx, logits, target):
        n, c = logits.shape
        shifted = logits - logits.max(dim=1, keepdim=True).values
        log_p = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        onehot = (target.reshape(n, 1) == mt.arange(c, device=logits.device)).to(
            dtype=logits.dtype)
        ctx.save_for_backward(log_p, onehot)
        return -(log_p * onehot).sum() / n

    @staticmethod
    def backward(ctx, grad_output):
        log_p, onehot = ctx.saved_tensors
        return (log_p.exp() - onehot) * (grad_output / log_p.shape[0]), None


# ---- optimisers (PyTorch's update rules, on the parameters' raw arrays) -----------------------
class SGD(Optimizer):
    """d = g + wd p;  b = d (first step) or mu b + (1 - dampening) d;
    d = d + mu b (nesterov) or b;  p -= lr d."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            mu, wd = group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad.data
                if wd:
                    d = d + wd * p.data
                if mu:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = d.copy()
                    else:
                        buf = state["momentum_buffer"]
                        buf *= mu
                        buf += (1 - group["dampening"]) * d
                    buf = state["momentum_buffer"]
                    d = d + mu * buf if group["nesterov"] else buf
                p.data -= group["lr"] * d
        return loss


class Adam(Optimizer):
    """m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr m^ / (sqrt(v^) + eps) with
    m^ = m / (1 - b1^t), v^ = v / (1 - b2^t);  weight decay adds wd p to g (L2)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p.data
                state = self.state[p]
                if not state:
                    xp = mt.get_array_module(p.data)
                    state["step"] = 0
                    state["exp_avg"] = xp.zeros_like(p.data)
                    state["exp_avg_sq"] = xp.zeros_like(p.data)
                state["step"] += 1
                m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * g * g
                m_hat = m / (1 - b1**t)
                v_hat = v / (1 - b2**t)
                p.data -= group["lr"] * m_hat / (v_hat**0.5 + group["eps"])
        return loss


# ---- learning-rate schedule -------------------------------------------------------------------
class StepLR(LRScheduler):
    """lr_t = base_lr * gamma ** floor(t / step_size), t = number of scheduler.step() calls;
    the LRScheduler base does the bookkeeping (step, get_last_lr, state_dict)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = self.gamma ** (self.last_epoch // self.step_size)
        return [base * factor for base in self.base_lrs]


# ---- initialiser ------------------------------------------------------------------------------
def xavier_uniform_(tensor, gain=1.0):
    """U[-a, a], a = gain sqrt(6 / (fan_in + fan_out)); fan_in = size(1) * receptive field,
    fan_out = size(0) * receptive field (receptive field = product of the trailing sizes)."""
    receptive = math.prod(tensor.shape[2:])
    fan_in, fan_out = tensor.shape[1] * receptive, tensor.shape[0] * receptive
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    u = mt.rand(*tensor.shape, dtype=tensor.dtype, device=tensor.device)
    tensor.data[...] = (u * (2 * a) - a).data
    return tensor
