"""Reading datasets and iterating a DataLoader: minitorch.data vs PyTorch's DataLoader.

    python benchmarks/data_loading.py [--repeats 5]

Times (median of repeats): reading Fashion-MNIST's four gzipped IDX files (Debian's
dataset-fashion-mnist, skipped when absent) and the embedded MNIST sample; one shuffled epoch
of 60,000 28x28 uint8 images in batches of 128 with ToFloat/Normalize/Flatten, against
torch.utils.data.DataLoader over a TensorDataset of the same uint8 images with the same
transform applied to each batch (skipped when torch is not installed). Writes
benchmarks/results/data_loading.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import minitorch as mt  # noqa: E402
from minitorch.data import DataLoader, FashionMNIST, MNISTSample  # noqa: E402
from minitorch.data import transforms as T  # noqa: E402
from minitorch.data.datasets import DEBIAN_FASHION_MNIST  # noqa: E402
from _results import write_json  # noqa: E402


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", default=None, help="JSON file (default benchmarks/results/)")
    args = p.parse_args()
    rows = []
    if os.path.isdir(DEBIAN_FASHION_MNIST):
        rows.append(("read Fashion-MNIST train+test (4 .gz IDX files)",
                     median_time(lambda: (FashionMNIST(), FashionMNIST(train=False)),
                                 args.repeats), None))
        images, labels = FashionMNIST().data, FashionMNIST().targets
    else:
        images = np.random.default_rng(0).integers(0, 256, (60000, 28, 28), dtype=np.uint8)
        labels = np.random.default_rng(1).integers(0, 10, 60000).astype(np.int64)
    rows.append(("read the embedded MNIST sample (.npz)",
                 median_time(lambda: (MNISTSample(), MNISTSample(train=False)), args.repeats),
                 None))

    transform = T.Compose([T.ToFloat(), T.Normalize(0.2860, 0.3530), T.Flatten()])
    ds = mt.data.ArrayDataset(images, labels, transform=transform)
    loader = DataLoader(ds, batch_size=128, shuffle=True, seed=0)
    ours = median_time(lambda: sum(1 for _ in loader), args.repeats)
    theirs = None
    try:
        import torch
        from torch.utils.data import DataLoader as TorchLoader
        from torch.utils.data import TensorDataset

        torch.manual_seed(0)
        tds = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
        tl = TorchLoader(tds, batch_size=128, shuffle=True)

        def torch_epoch() -> None:
            for x, _ in tl:
                ((x.float() / 255 - 0.2860) / 0.3530).reshape(x.shape[0], -1)

        theirs = median_time(torch_epoch, args.repeats)
    except ImportError:
        pass
    rows.append(("one shuffled epoch, 60,000 images, batch 128, with transforms", ours, theirs))

    print(f"{'what':<66} {'minitorch':>10} {'PyTorch':>10} {'ratio':>7}")
    for what, t_ours, t_theirs in rows:
        ratio = f"{t_theirs / t_ours:6.1f}x" if t_theirs else "      -"
        other = f"{t_theirs * 1e3:8.1f}ms" if t_theirs else "         -"
        print(f"{what:<66} {t_ours * 1e3:8.1f}ms {other} {ratio}")
    write_json(args.out, "data_loading", {"repeats": args.repeats, "rows": [
        {"what": what, "minitorch_s": a, "torch_s": b} for what, a, b in rows]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
