"""Homework: layers, a loss, optimisers, a schedule and an initialiser for minitorch.

Fill in every `raise NotImplementedError`. Check your work at any time with

    python -m minitorch.grading --assignment configs/grading/example.yaml \
        --submission student_template.py --visible-only

Rules the grader enforces:
- Use minitorch primitives (Tensor operations, or the raw arrays in `.data` with
  `mt.get_array_module`); the framework's ready-made versions of what you implement
  (F.linear, F.relu, F.cross_entropy, mt.optim.SGD.step, nn.init.xavier_uniform_, ...) are
  off limits, and changing minitorch itself costs the task its points.
- forward and backward must not modify their inputs or the incoming gradient in place;
  an optimizer's step must not modify any parameter's .grad.
- Keep the inputs' dtype (float32 or float64) and device.
- Don't print much: a task whose code prints more than the output limit scores 0.
"""

from __future__ import annotations

import minitorch as mt  # noqa: F401  (mt.rand, mt.get_array_module, ... are yours to use)
from minitorch.autograd import Function
from minitorch.optim import Optimizer
from minitorch.optim.lr_scheduler import LRScheduler


# ---- functions: forward(ctx, ...) and backward(ctx, grad_output) ------------------------------
class Linear(Function):
    """forward(ctx, x, weight, bias) = x @ weight.T + bias
    x: (N, in), weight: (out, in), bias: (out,)  ->  (N, out)
    backward returns (dL/dx, dL/dweight, dL/dbias) = (g @ W, g^T @ x, sum of g over the batch),
    each with exactly its input's shape."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError


class ReLU(Function):
    """y = max(x, 0);  dL/dx = g * [x > 0]."""

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dL/dx = g * y * (1 - y).
    exp(-x) overflows for very negative x: find a form that never does."""

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError


class SoftmaxCrossEntropy(Function):
    """forward(ctx, logits, target): logits (N, C) float, target (N,) integer class indices ->
    the mean loss over the batch, a 0-d tensor:
        loss = (1/N) sum_i [ log sum_c exp(z_ic) - z_i,y_i ]
    Subtract each row's maximum before exponentiating (logits may be ~1e4).
    backward returns (dL/dlogits, None) with dL/dlogits = (softmax(z) - onehot(y)) / N * g."""

    @staticmethod
    def forward(ctx, logits, target):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError


# ---- optimisers: PyTorch's semantics ----------------------------------------------------------
class SGD(Optimizer):
    """For each parameter p with gradient g (skip p when p.grad is None):
        d = g + weight_decay * p
        if momentum != 0:
            b = d                                   on the first step (no dampening)
            b = momentum * b + (1 - dampening) * d  afterwards
            d = d + momentum * b  if nesterov  else  b
        p = p - lr * d
    Keep b in self.state[p] (so state_dict() saves it) and never change p.grad."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def step(self, closure=None):
        raise NotImplementedError


class Adam(Optimizer):
    """Kingma & Ba (2014). With t the parameter's step count (from 1):
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t),   v_hat = v / (1 - beta2^t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)
    Each group's own lr, betas, eps and weight_decay apply (self.param_groups)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def step(self, closure=None):
        raise NotImplementedError


# ---- learning-rate schedule -------------------------------------------------------------------
class StepLR(LRScheduler):
    """lr_t = base_lr * gamma ** floor(t / step_size) for every parameter group, where
    t = self.last_epoch is the number of step() calls so far (0 right after construction) and
    base_lr comes from self.base_lrs. The LRScheduler base calls get_lr() in step() and
    provides get_last_lr(), state_dict() and load_state_dict()."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """One learning rate per parameter group, for step self.last_epoch."""
        raise NotImplementedError


# ---- initialiser ------------------------------------------------------------------------------
def xavier_uniform_(tensor, gain=1.0):
    """Fill `tensor` in place with U[-a, a], a = gain * sqrt(6 / (fan_in + fan_out)), and
    return it. fan_in = size(1) * r, fan_out = size(0) * r, where r is the product of the
    remaining sizes (the receptive field). Draw from minitorch's generator (mt.rand), so that
    mt.manual_seed makes the result reproducible."""
    raise NotImplementedError

