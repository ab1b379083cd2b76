"""Activation checkpointing on a deep MLP: memory held for backward, process peak, step time.

Model: depth x (Linear(width, width) + ReLU), float32, input (batch, width), loss = sum of
the outputs; one step = forward + backward. Rows:

  plain            no checkpointing
  even sqrt(n)     checkpoint_sequential(model, round(sqrt(n)), x): equal layer counts (PyTorch's)
  auto             checkpoint_sequential(model, "auto", x): boundaries from measured sizes, the
                   least memory any plan holds (about sqrt(n) segments, Chen et al. 2016)
  budget F         segments="auto", budget = F x the plain run's peak: the plan that recomputes
                   least within the budget (checked: measured peak <= budget)

Memory: minitorch.utils.memory.MemoryMeter, one step each: the peak of the bytes held for
backward (exact), and the process peak (tracemalloc on the CPU, the CuPy pool on CUDA), which
also counts gradients and temporaries. Time: median over interleaved repeats, meter off.
PyTorch (when installed) times the same model plain and with torch.utils.checkpoint.
checkpoint_sequential(use_reentrant=False) at round(sqrt(n)) segments, for the overhead ratio.

Run:  python benchmarks/checkpointing.py [--depth 32] [--width 256] [--batch 4096]
      [--repeats 5] [--device cpu|cuda] [--budgets 0.5 0.25]
Prints a table and writes benchmarks/results/checkpointing.json.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from typing import Callable

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import minitorch as mt  # noqa: E402
import minitorch.nn as nn  # noqa: E402
from minitorch import backend  # noqa: E402
from minitorch.utils.checkpoint import (  # noqa: E402
    _even_bounds, checkpoint_sequential, plan_checkpoints,
)
from minitorch.utils.memory import MemoryMeter, format_bytes  # noqa: E402
from _results import write_json  # noqa: E402


def build(depth: int, width: int, device: str) -> nn.Sequential:
    layers: list = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    return nn.Sequential(*layers).to(device)


def step_fn(model: nn.Sequential, run: Callable, x: mt.Tensor) -> Callable:
    def step() -> None:
        model.zero_grad()
        run(x).sum().backward()
        backend.synchronize(x.device)

    return step


def measure_memory(step: Callable) -> dict:
    with MemoryMeter() as m:
        step()
    out = {"peak_saved_bytes": m.peak_saved_bytes, "peak_process_bytes": m.peak_process_bytes}
    if m.peak_cuda_bytes is not None:
        out["peak_cuda_bytes"] = m.peak_cuda_bytes
    return out


def interleaved_medians(steps: dict, repeats: int) -> dict:
    times: dict = {k: [] for k in steps}
    for _ in range(repeats):
        for k, f in steps.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def torch_times(model: nn.Sequential, x: np.ndarray, segments: int, repeats: int,
                device: str) -> dict | None:
    try:
        import torch
        from torch.utils.checkpoint import checkpoint_sequential as torch_ckpt
    except ImportError:
        return None
    dev = "cuda" if device.startswith("cuda") else "cpu"
    layers = []
    for m in model:
        if isinstance(m, nn.Linear):
            lin = torch.nn.Linear(m.in_features, m.out_features)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(m.weight.numpy()))
                lin.bias.copy_(torch.from_numpy(m.bias.numpy()))
            layers.append(lin)
        else:
            layers.append(torch.nn.ReLU())
    tm = torch.nn.Sequential(*layers).to(dev)
    xt = torch.from_numpy(x).to(dev)

    def make(run: Callable) -> Callable:
        def step() -> None:
            tm.zero_grad(set_to_none=True)
            run(xt).sum().backward()
            if dev == "cuda":
                torch.cuda.synchronize()

        return step

    steps = {"plain": make(tm),
             "ckpt": make(lambda t: torch_ckpt(tm, segments, t, use_reentrant=False))}
    for f in steps.values():  # warm-up
        f()
    return interleaved_medians(steps, repeats)


def main(argv: list | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--depth", type=int, default=32)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--budgets", type=float, nargs="*", default=[0.5, 0.25])
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--out", default=None, help="JSON file (default benchmarks/results/)")
    args = ap.parse_args(argv)
    try:
        device = backend.parse_device(args.device)
    except backend.DeviceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    mt.manual_seed(0)
    model = build(args.depth, args.width, device)
    x_np = np.random.default_rng(0).standard_normal((args.batch, args.width)).astype(np.float32)
    x = mt.tensor(x_np, device=device)
    n = len(model)
    k_even = round(math.sqrt(n))

    plan_auto = plan_checkpoints(model, x)
    runs: dict = {"plain": None, f"even sqrt(n)={k_even}": k_even, "auto": plan_auto}
    step_plain = step_fn(model, model, x)
    step_plain()  # warm-up
    plain_mem = measure_memory(step_plain)
    plans: dict = {"auto": plan_auto}
    for frac in args.budgets:
        budget = int(frac * plain_mem["peak_saved_bytes"])
        name = f"budget {frac:g}"
        try:
            plans[name] = plan_checkpoints(model, x, budget=budget)
        except ValueError as e:
            print(f"{name}: {e}")
            continue
        runs[name] = plans[name]

    steps, rows = {}, {}
    for name, seg in runs.items():
        run = model if seg is None else (lambda t, s=seg: checkpoint_sequential(model, s, t))
        steps[name] = step_fn(model, run, x)
        steps[name]()  # warm-up
        rows[name] = measure_memory(steps[name]) if seg is not None else dict(plain_mem)
        plan = plans.get(name)
        if plan is not None:
            rows[name].update(segments=len(plan.bounds), recomputed_layers=plan.recomputed_layers,
                              predicted_peak_bytes=plan.predicted_peak, budget_bytes=plan.budget)
        elif seg is not None:
            rows[name].update(segments=seg, recomputed_layers=_even_bounds(n, seg)[-1][0])
        else:
            rows[name].update(segments=0, recomputed_layers=0)
    medians = interleaved_medians(steps, args.repeats)
    base = rows["plain"]
    for name, row in rows.items():
        row["time_s"] = medians[name]
        row["time_ratio"] = medians[name] / medians["plain"]
        row["saved_ratio"] = base["peak_saved_bytes"] / row["peak_saved_bytes"]
        row["process_ratio"] = base["peak_process_bytes"] / row["peak_process_bytes"]

    torch_res = None if args.no_torch else torch_times(model, x_np, k_even, args.repeats,
                                                        device)
    print(f"{args.depth} x (Linear({args.width}) + ReLU) = {n} layers, batch {args.batch}, "
          f"float32, {device}; median of {args.repeats}")
    head = (f"{'run':<18}{'segs':>5}{'recomp':>7}{'held for bwd':>14}{'x less':>8}"
            f"{'process peak':>14}{'x less':>8}{'step s':>9}{'time x':>8}")
    print(head)
    print("-" * len(head))
    for name, r in rows.items():
        print(f"{name:<18}{r['segments']:>5}{r['recomputed_layers']:>7}"
              f"{format_bytes(r['peak_saved_bytes']):>14}{r['saved_ratio']:>8.2f}"
              f"{format_bytes(r['peak_process_bytes']):>14}{r['process_ratio']:>8.2f}"
              f"{r['time_s']:>9.3f}{r['time_ratio']:>8.2f}")
        if r.get("budget_bytes") is not None:
            ok = r["peak_saved_bytes"] <= r["budget_bytes"]
            print(f"{'':<18}budget {format_bytes(r['budget_bytes'])}: "
                  f"{'met' if ok else 'MISSED'}")
    if torch_res:
        print(f"PyTorch: plain {torch_res['plain']:.3f} s, checkpoint_sequential({k_even}) "
              f"{torch_res['ckpt']:.3f} s, time x {torch_res['ckpt'] / torch_res['plain']:.2f}")
    result = {
        "config": {"depth": args.depth, "width": args.width, "batch": args.batch,
                   "layers": n, "repeats": args.repeats, "device": device,
                   "dtype": "float32", "loss": "sum of outputs"},
        "command": "python benchmarks/checkpointing.py " + " ".join(argv or sys.argv[1:]),
        "rows": rows,
        "torch": torch_res,
    }
    print(f"wrote {write_json(args.out, 'checkpointing', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
