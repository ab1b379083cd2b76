"""SGD that adds weight decay into p.grad in place (right trajectory, but the caller's
gradients change whenever weight_decay is set)."""

from minitorch.optim import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def step(self, closure=None):
        for group in self.param_groups:
            mu = group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad.data
                if group["weight_decay"]:
                    d += group["weight_decay"] * p.data  # the bug: writes into p.grad
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
