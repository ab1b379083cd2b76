"""Shared by the optimizer tests: one small float64 network, built identically in minitorch
and (when it is installed) in PyTorch, from the same NumPy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

import minitorch as mt
import minitorch.nn.functional as F
from minitorch import nn

SHAPES = {"w1": (8, 4), "b1": (8,), "w2": (3, 8), "b2": (3,)}


def problem(seed: int = 0) -> dict:
    """Data and initial weights of a 4-8-3 tanh classifier on 24 points."""
    rng = np.random.default_rng(seed)
    out = {"x": rng.standard_normal((24, 4)), "y": rng.integers(0, 3, 24)}
    for name, shape in SHAPES.items():
        out[name] = rng.standard_normal(shape) * 0.5
    return out


class MtNet:
    """The network in minitorch: parameters in the order w1, b1, w2, b2. l2 > 0 adds
    l2*sum(w^2) to the loss, which gives it a minimiser (the data are separable)."""

    def __init__(self, prob: dict, device: str = "cpu", l2: float = 0.0) -> None:
        self.l2 = l2
        self.params = [nn.Parameter(mt.tensor(prob[k], dtype=mt.float64, device=device))
                       for k in SHAPES]
        self.x = mt.tensor(prob["x"], dtype=mt.float64, device=device)
        self.y = mt.tensor(prob["y"], device=device)

    def loss(self) -> Any:
        w1, b1, w2, b2 = self.params
        h = mt.tanh(F.linear(self.x, w1, b1))
        loss = F.cross_entropy(F.linear(h, w2, b2), self.y)
        if self.l2:
            loss = loss + self.l2 * sum((p * p).sum() for p in self.params)
        return loss

    def closure(self, opt: Any) -> Any:
        def fn() -> Any:
            opt.zero_grad()
            loss = self.loss()
            loss.backward()
            return loss
        return fn

    def arrays(self) -> list:
        return [p.numpy().copy() for p in self.params]


class TorchNet:
    def __init__(self, torch: Any, prob: dict, l2: float = 0.0) -> None:
        self.torch, self.l2 = torch, l2
        self.params = [torch.tensor(prob[k], dtype=torch.float64, requires_grad=True)
                       for k in SHAPES]
        self.x = torch.tensor(prob["x"], dtype=torch.float64)
        self.y = torch.tensor(prob["y"])

    def loss(self) -> Any:
        f = self.torch.nn.functional
        w1, b1, w2, b2 = self.params
        h = self.torch.tanh(f.linear(self.x, w1, b1))
        loss = f.cross_entropy(f.linear(h, w2, b2), self.y)
        if self.l2:
            loss = loss + self.l2 * sum((p * p).sum() for p in self.params)
        return loss

    def closure(self, opt: Any) -> Any:
        def fn() -> Any:
            opt.zero_grad()
            loss = self.loss()
            loss.backward()
            return loss
        return fn

    def arrays(self) -> list:
        return [p.detach().numpy().copy() for p in self.params]


def grads_step(net: Any, opt: Any) -> float:
    """One plain (closure-less) step; returns the loss before it."""
    opt.zero_grad()
    loss = net.loss()
    loss.backward()
    opt.step()
    return float(loss.item())
