"""One epoch of the Fashion-MNIST-shaped MLP (784-512-512-10, ReLU, softmax-cross-entropy,
Adam lr=1e-3, float32) three ways, interleaved, medians over repeats:

  minitorch        the framework as a user writes it (nn.Sequential, F.cross_entropy, optim.Adam)
  torch            PyTorch eager, same model and optimiser (skipped when torch is missing)
  numpy-fused      a hand-written NumPy step (fused forward/backward, in-place Adam with
                   preallocated state, denormals flushed in the update like minitorch's): the
                   floor for a straightforward NumPy implementation

Data: the real Fashion-MNIST training set (normalised, float32) when it is found (`--data-dir`,
torchvision's layout, or Debian's dataset-fashion-mnist), else synthetic images whose labels come
from a fixed random linear teacher, so that the network learns. (Pure random labels kill the
ReLUs within an epoch; Adam's first moment then decays into float32 denormals, and denormal
arithmetic is ~15x slower on Intel CPUs (minitorch/fpenv.py), which measures the CPU's microcode, not the framework.)
Run:  python benchmarks/cpu_mlp.py [--batch-sizes 32 128 512] [--repeats 3] [--data-dir DIR]
Prints a table and writes benchmarks/results/cpu_mlp.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import minitorch as mt  # noqa: E402
import minitorch.nn as nn  # noqa: E402
import minitorch.nn.functional as F  # noqa: E402
from minitorch.fpenv import flush_denormal  # noqa: E402
from _results import write_json  # noqa: E402

SIZES = (784, 512, 512, 10)
LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8


def make_data(n: int, seed: int = 0, data_dir: str | None = None) -> tuple:
    """(x float32 (n, 784), y int64 (n,), description)."""
    try:
        ds = mt.data.FashionMNIST(data_dir, train=True)
        x = ds.data[:n].reshape(-1, SIZES[0]).astype(np.float32) / 255.0
        x = (x - np.float32(ds.mean[0])) / np.float32(ds.std[0])
        return x, ds.targets[:n].copy(), f"Fashion-MNIST from {ds.source}"
    except mt.data.DatasetNotFoundError:
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((n, SIZES[0]), dtype=np.float32)
        teacher = rng.standard_normal((SIZES[0], SIZES[-1]), dtype=np.float32)
        y = (x @ teacher).argmax(axis=1).astype(np.int64)
        return x, y, "synthetic (Fashion-MNIST not found; labels from a linear teacher)"


def init_weights(seed: int = 0) -> list:
    """PyTorch-style U[-1/sqrt(in), 1/sqrt(in)] weights and biases, float32."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        b = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-b, b, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-b, b, (fan_out,)).astype(np.float32))
    return params


# ---- minitorch --------------------------------------------------------------------------------
def minitorch_epoch(x: np.ndarray, y: np.ndarray, bs: int) -> float:
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    for p, w in zip(model.parameters(), init_weights()):
        p.data[...] = w
    opt = mt.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=EPS)
    xt, yt = mt.from_numpy(x), mt.from_numpy(y)
    n = len(x) - len(x) % bs
    t0 = time.perf_counter()
    for i in range(0, n, bs):
        loss = F.cross_entropy(model(xt[i:i + bs]), yt[i:i + bs])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


# ---- PyTorch ----------------------------------------------------------------------------------
def torch_epoch(x: np.ndarray, y: np.ndarray, bs: int) -> float:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10))
    with torch.no_grad():
        for p, w in zip(model.parameters(), init_weights()):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=EPS)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = len(x) - len(x) % bs
    t0 = time.perf_counter()
    for i in range(0, n, bs):
        loss = torch.nn.functional.cross_entropy(model(xt[i:i + bs]), yt[i:i + bs])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


# ---- hand-fused NumPy -------------------------------------------------------------------------
def numpy_epoch(x: np.ndarray, y: np.ndarray, bs: int) -> float:
    params = init_weights()
    w1, b1, w2, b2, w3, b3 = params
    flat_m = [np.zeros_like(p) for p in params]
    flat_v = [np.zeros_like(p) for p in params]
    grads = [np.empty_like(p) for p in params]
    tmp = [np.empty_like(p) for p in params]
    b1c, b2c = BETAS
    n = len(x) - len(x) % bs
    t0 = time.perf_counter()
    step = 0
    for i in range(0, n, bs):
        xb, yb = x[i:i + bs], y[i:i + bs]
        # forward
        h1 = xb @ w1.T
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w2.T
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ w3.T
        z += b3
        # softmax-cross-entropy gradient: (softmax(z) - onehot(y)) / N
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        z[np.arange(len(yb)), yb] -= 1
        z /= len(yb)
        # backward
        np.matmul(z.T, h2, out=grads[4])
        z.sum(axis=0, out=grads[5])
        d2 = z @ w3
        d2 *= h2 > 0
        np.matmul(d2.T, h1, out=grads[2])
        d2.sum(axis=0, out=grads[3])
        d1 = d2 @ w2
        d1 *= h1 > 0
        np.matmul(d1.T, xb, out=grads[0])
        d1.sum(axis=0, out=grads[1])
        # Adam, in place (denormals flushed, as minitorch's optimizers do: see minitorch.fpenv)
        step += 1
        c1 = 1 - b1c**step
        c2 = 1 - b2c**step
        with flush_denormal():
            adam(params, grads, flat_m, flat_v, tmp, c1, c2)
    return time.perf_counter() - t0


def adam(params: list, grads: list, flat_m: list, flat_v: list, tmp: list, c1: float,
         c2: float) -> None:
    """m, v, p updated in place, one preallocated temporary per parameter."""
    b1c, b2c = BETAS
    for p, g, m, v, t in zip(params, grads, flat_m, flat_v, tmp):
        m *= b1c
        np.multiply(g, 1 - b1c, out=t)
        m += t
        v *= b2c
        np.multiply(g, g, out=t)
        t *= 1 - b2c
        v += t
        np.sqrt(v, out=t)
        t /= np.sqrt(c2)
        t += EPS
        np.divide(m, t, out=t)
        t *= LR / c1
        p -= t


IMPLS: dict[str, Callable[..., float]] = {
    "minitorch": minitorch_epoch,
    "torch": torch_epoch,
    "numpy-fused": numpy_epoch,
}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 512])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--samples", type=int, default=60000, help="samples per epoch")
    ap.add_argument("--data-dir", default=None, help="folder with Fashion-MNIST's IDX files")
    ap.add_argument("--out", default=None, help="JSON file (default benchmarks/results/)")
    args = ap.parse_args(argv)
    if importlib.util.find_spec("torch") is None:
        IMPLS.pop("torch")
    x, y, source = make_data(args.samples, data_dir=args.data_dir)
    args.samples = len(x)
    print(f"data: {source}")
    times: dict[int, dict[str, list]] = {bs: {k: [] for k in IMPLS} for bs in args.batch_sizes}
    for bs in args.batch_sizes:
        for name, fn in IMPLS.items():  # warm-up (BLAS threads, allocator, imports)
            fn(x[: 20 * bs], y[: 20 * bs], bs)
        for _ in range(args.repeats):
            for name, fn in IMPLS.items():  # interleaved, so drift hits all three alike
                times[bs][name].append(fn(x, y, bs))
    rows = []
    print(f"epoch of {args.samples} samples, median of {args.repeats} (seconds)")
    header = f"{'batch':>6} " + " ".join(f"{k:>12}" for k in IMPLS) + \
        "   mt/torch  mt/numpy"
    print(header)
    for bs in args.batch_sizes:
        med = {k: statistics.median(v) for k, v in times[bs].items()}
        r_t = med["minitorch"] / med["torch"] if "torch" in med else float("nan")
        r_n = med["minitorch"] / med["numpy-fused"]
        print(f"{bs:>6} " + " ".join(f"{med[k]:>12.3f}" for k in IMPLS) +
              f"   {r_t:>8.3f}  {r_n:>8.3f}")
        rows.append({"batch_size": bs, "median_s": med, "all_s": times[bs],
                     "minitorch_over_torch": r_t, "minitorch_over_numpy": r_n})
    result = {"samples": args.samples, "data": source, "repeats": args.repeats, "rows": rows}
    write_json(args.out, "cpu_mlp", result)
    return result


if __name__ == "__main__":
    main()
