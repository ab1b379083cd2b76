"""Time one optimizer.step() on the parameters of a 784-512-512-10 MLP (float32, ~670k
weights, gradients preset), minitorch vs PyTorch in the same process.

    python benchmarks/optim_step.py [--device cpu|cuda] [--steps 50]

Prints a Markdown table: median milliseconds per step and the ratio minitorch / PyTorch;
writes benchmarks/results/optim_step.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import minitorch as mt  # noqa: E402
from _results import write_json  # noqa: E402

SHAPES = [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]
CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=1e-3)), ("AdamW", dict(lr=1e-3)),
    ("Adamax", dict(lr=1e-3)), ("NAdam", dict(lr=1e-3)), ("RAdam", dict(lr=1e-3)),
    ("RMSprop", dict(lr=1e-3)), ("Adagrad", dict(lr=1e-2)), ("Adadelta", dict()),
    ("ASGD", dict(lr=1e-2)), ("Rprop", dict(lr=1e-3)), ("Adafactor", dict(lr=1e-2)),
    ("Lion", dict(lr=1e-4)), ("LAMB", dict(lr=1e-3)), ("LARS", dict(lr=0.1)),
    ("Signum", dict(lr=1e-3)),
]


def _median_ms(step, sync, steps: int) -> float:
    for _ in range(3):
        step()
    sync()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--out", default=None, help="JSON file (default benchmarks/results/)")
    args = ap.parse_args()
    rows = []
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype(np.float32) * 0.05 for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in SHAPES]
    dev = mt.backend.parse_device(args.device)

    print("| optimizer | minitorch ms/step | PyTorch ms/step | ratio |")
    print("| --- | --- | --- | --- |")
    for name, kw in CASES:
        ps = [mt.nn.Parameter(mt.tensor(w, device=dev)) for w in weights]
        for p, g in zip(ps, grads, strict=True):
            p.grad = mt.tensor(g, device=dev)
        opt = getattr(mt.optim, name)(ps, **kw)
        ours = _median_ms(opt.step, lambda: mt.backend.synchronize(dev), args.steps)
        theirs = float("nan")
        if torch is not None and hasattr(torch.optim, name):
            tdev = "cuda" if dev.startswith("cuda") else "cpu"
            tps = [torch.tensor(w, device=tdev, requires_grad=True) for w in weights]
            for p, g in zip(tps, grads, strict=True):
                p.grad = torch.tensor(g, device=tdev)
            topt = getattr(torch.optim, name)(tps, **kw)
            sync = torch.cuda.synchronize if tdev == "cuda" else (lambda: None)
            theirs = _median_ms(topt.step, sync, args.steps)
        print(f"| {name} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} |")
        rows.append({"optimizer": name, "kwargs": kw, "minitorch_ms": ours,
                     "torch_ms": None if theirs != theirs else theirs})
    write_json(args.out, "optim_step", {"device": dev, "steps": args.steps, "rows": rows})


if __name__ == "__main__":
    main()
