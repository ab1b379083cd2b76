"""minitorch's own implementations handed in as a submission: they must get full marks
(graded with the forbidden-call lists switched off, since they are the reference)."""

import minitorch as mt
from minitorch import ops
from minitorch.autograd import Function

Linear = ops.Linear
ReLU = ops.ReLU
Sigmoid = ops.Sigmoid


class SoftmaxCrossEntropy(Function):
    """(logits, target) -> mean loss, through the framework's fused op."""

    @staticmethod
    def forward(ctx, logits, target):
        xp = logits._xp()
        n, c = logits.shape
        coef = (target.data[:, None] == xp.arange(c)).astype(logits.dtype)
        return ops.SoftmaxCrossEntropy.forward(ctx, logits, coef, logits.dtype.type(n))

    @staticmethod
    def backward(ctx, grad_output):
        return ops.SoftmaxCrossEntropy.backward(ctx, grad_output)[0], None


def __getattr__(name):
    """Everything else by name: optimisers, schedules, initialisers; nn_<Name> is the module
    nn.<Name> (Linear above is the Function)."""
    if name.startswith("nn_"):
        return getattr(mt.nn, name[3:])
    for space in ("optim", "optim.lr_scheduler", "nn.init"):
        obj = mt
        for part in space.split("."):
            obj = getattr(obj, part, None)
        if obj is not None and hasattr(obj, name):
            return getattr(obj, name)
    raise AttributeError(name)
