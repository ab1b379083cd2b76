"""GPU epoch time of the MNIST-shaped MLP (784-512-512-10, ReLU, softmax-cross-entropy, Adam),
minitorch (CuPy) vs PyTorch eager on the same GPU, data resident on the device.

Each epoch is timed between device synchronisations after a warm-up epoch; medians over
repeats, interleaved. The floor is the step's matmul FLOPs divided by the GPU's measured
float32 matmul rate for the same shapes (so: what a perfect fusion of everything else would
leave). Run on a CUDA machine:

    python benchmarks/gpu_mlp.py [--batch-sizes 128 1024] [--repeats 5] [--device cuda]

`--device cpu` runs the same code on NumPy (to check the script without a GPU).
Prints a table and writes benchmarks/results/gpu_mlp.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import minitorch as mt  # noqa: E402
import minitorch.nn as nn  # noqa: E402
import minitorch.nn.functional as F  # noqa: E402
from minitorch import backend  # noqa: E402
from _results import write_json  # noqa: E402

SIZES = (784, 512, 512, 10)


def step_flops(bs: int) -> int:
    """Matmul FLOPs of one training step: forward (1x) + backward (2x, minus the input grad
    of the first layer, which is not needed)."""
    total = 0
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        fwd = 2 * bs * a * b
        total += fwd + fwd + (fwd if i > 0 else 0)
    return total


def minitorch_epoch(x: Any, y: Any, bs: int, device: str) -> float:
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10)).to(device)
    opt = mt.optim.Adam(model.parameters(), lr=1e-3)
    n = x.shape[0] - x.shape[0] % bs
    backend.synchronize(device)
    t0 = time.perf_counter()
    for i in range(0, n, bs):
        loss = F.cross_entropy(model(x[i:i + bs]), y[i:i + bs])
        opt.zero_grad()
        loss.backward()
        opt.step()
    backend.synchronize(device)
    return time.perf_counter() - t0


def torch_epoch(x: Any, y: Any, bs: int, device: str) -> float:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = x.shape[0] - x.shape[0] % bs
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for i in range(0, n, bs):
        loss = torch.nn.functional.cross_entropy(model(x[i:i + bs]), y[i:i + bs])
        opt.zero_grad()
        loss.backward()
        opt.step()
    sync()
    return time.perf_counter() - t0


def matmul_rate(device: str, bs: int, repeats: int = 50) -> float:
    """Measured float32 FLOP/s of the step's own matmul shapes on this device."""
    xp = backend.xp_for_device(device)
    shapes = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        shapes.append(((bs, a), (a, b)))           # forward
        shapes.append(((b, bs), (bs, a)))          # weight gradient
        if i > 0:
            shapes.append(((bs, b), (b, a)))       # input gradient
    mats = [(xp.ones(s1, dtype=np.float32), xp.ones(s2, dtype=np.float32)) for s1, s2 in shapes]
    flops = sum(2 * s1[0] * s1[1] * s2[1] for s1, s2 in shapes)
    for a, b in mats:
        a @ b
    backend.synchronize(device)
    t0 = time.perf_counter()
    for _ in range(repeats):
        for a, b in mats:
            a @ b
    backend.synchronize(device)
    return flops * repeats / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 1024])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--samples", type=int, default=60000)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", default=None, help="JSON file (default benchmarks/results/)")
    args = ap.parse_args(argv)
    device = backend.parse_device(args.device)
    rng = np.random.default_rng(0)
    xh = rng.random((args.samples, 784), dtype=np.float32)
    yh = rng.integers(0, 10, args.samples).astype(np.int64)
    x_mt, y_mt = mt.tensor(xh, device=device), mt.tensor(yh, device=device)
    impls = {"minitorch": (minitorch_epoch, x_mt, y_mt)}
    info: dict[str, Any] = {"numpy": np.__version__}
    try:
        import torch

        tdev = "cuda" if device.startswith("cuda") else "cpu"
        impls["torch"] = (torch_epoch, torch.from_numpy(xh).to(tdev),
                          torch.from_numpy(yh).to(tdev))
        info["torch"] = torch.__version__
    except ImportError:
        pass
    if device.startswith("cuda"):
        cp = backend.cupy_module()
        info["cupy"] = cp.__version__
        info["gpu"] = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    rows = []
    print(f"{'batch':>6} {'impl':>10} {'epoch_s':>9} {'samples/s':>11} {'floor_s':>8}")
    for bs in args.batch_sizes:
        times: dict[str, list] = {k: [] for k in impls}
        for fn, x, y in impls.values():
            fn(x[: 20 * bs], y[: 20 * bs], bs, device)  # warm-up: kernels compiled, pools
        for _ in range(args.repeats):
            for name, (fn, x, y) in impls.items():
                times[name].append(fn(x, y, bs, device))
        steps = args.samples // bs
        floor = steps * step_flops(bs) / matmul_rate(device, bs)
        row = {"batch_size": bs, "floor_s": floor, "median_s": {}, "samples_per_s": {}}
        for name, ts in times.items():
            med = statistics.median(ts)
            row["median_s"][name] = med
            row["samples_per_s"][name] = steps * bs / med
            print(f"{bs:>6} {name:>10} {med:>9.3f} {steps * bs / med:>11.0f} {floor:>8.3f}")
        if "torch" in times:
            row["minitorch_over_torch"] = row["median_s"]["minitorch"] / row["median_s"]["torch"]
            print(f"{'':>6} {'ratio':>10} {row['minitorch_over_torch']:>9.3f} (minitorch/torch)")
        rows.append(row)
    result = {"device": device, "versions": info, "repeats": args.repeats, "rows": rows}
    write_json(args.out, "gpu_mlp", result)
    return result


if __name__ == "__main__":
    main()
