"""Profile minitorch's training step on the Fashion-MNIST-shaped MLP (784-512-512-10, ReLU,
softmax-cross-entropy, Adam, float32; the data of cpu_mlp.py) with cProfile, and split the
step into its phases.

    python benchmarks/profile_step.py [--batch-sizes 32 128] [--steps 300] [--top 15]

For each batch size it prints (1) the wall time of each phase of a step (forward, backward,
optimizer step), medians over the steps, and (2) the functions with the largest own time
under cProfile. Writes benchmarks/results/profile_step.json.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

import minitorch as mt  # noqa: E402
import minitorch.nn as nn  # noqa: E402
import minitorch.nn.functional as F  # noqa: E402
from _results import write_json  # noqa: E402
from cpu_mlp import make_data  # noqa: E402  (the same data as the epoch benchmark)


def setup(bs: int, steps: int) -> tuple:
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    opt = mt.optim.Adam(model.parameters(), lr=1e-3)
    x, y, _ = make_data(bs * steps)
    return model, opt, mt.from_numpy(x), mt.from_numpy(y)


def phases(bs: int, steps: int) -> dict:
    """Median milliseconds of forward (incl. loss), zero_grad+backward, and optimizer step."""
    model, opt, x, y = setup(bs, steps)
    fwd, bwd, stp = [], [], []
    for i in range(steps):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(x[i * bs:(i + 1) * bs]), y[i * bs:(i + 1) * bs])
        t1 = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
        stp.append(t3 - t2)
    med = {k: 1e3 * statistics.median(v) for k, v in
           (("forward", fwd), ("backward", bwd), ("step", stp))}
    med["total"] = sum(med.values())
    return med


def profile(bs: int, steps: int, top: int) -> tuple[str, list]:
    model, opt, x, y = setup(bs, steps)

    def run() -> None:
        for i in range(steps):
            loss = F.cross_entropy(model(x[i * bs:(i + 1) * bs]), y[i * bs:(i + 1) * bs])
            opt.zero_grad()
            loss.backward()
            opt.step()

    prof = cProfile.Profile()
    prof.runcall(run)
    out = io.StringIO()
    st = pstats.Stats(prof, stream=out)
    st.sort_stats("tottime").print_stats(top)
    rows = []
    for (file, line, fn), (_cc, nc, tt, ct, _) in sorted(st.stats.items(),
                                                        key=lambda kv: -kv[1][2])[:top]:
        rows.append({"function": f"{os.path.basename(file)}:{line}({fn})", "calls": nc,
                     "tottime_ms_per_step": 1e3 * tt / steps,
                     "cumtime_ms_per_step": 1e3 * ct / steps})
    return out.getvalue(), rows


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--out", default=None, help="JSON file (default benchmarks/results/)")
    args = ap.parse_args(argv)
    result: dict = {"steps": args.steps, "rows": []}
    for bs in args.batch_sizes:
        phases(bs, 20)  # warm-up
        med = phases(bs, args.steps)
        text, rows = profile(bs, args.steps, args.top)
        print(f"\n=== batch {bs}: median ms per step (no profiler) ===")
        print(" | ".join(f"{k} {v:.3f}" for k, v in med.items()))
        print(f"--- cProfile, top {args.top} by own time (ms per step) ---")
        print(f"{'own':>8} {'cum':>8} {'calls/step':>10}  function")
        for r in rows:
            print(f"{r['tottime_ms_per_step']:>8.3f} {r['cumtime_ms_per_step']:>8.3f} "
                  f"{r['calls'] / args.steps:>10.1f}  {r['function']}")
        result["rows"].append({"batch_size": bs, "phases_ms": med, "profile": rows})
    write_json(args.out, "profile_step", result)
    return result


if __name__ == "__main__":
    main()
