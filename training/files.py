"""The files of a run directory: config.yaml, metrics.jsonl, curves.png; all written atomically."""

from __future__ import annotations

import json
import os
import tempfile

from .config import dump

CONFIG, METRICS, CURVES = "config.yaml", "metrics.jsonl", "curves.png"
LAST, BEST = "last.ckpt", "best.ckpt"


def write_text_atomic(path: str, text: str) -> None:
    """Write via a temporary file in the same folder and a rename: never half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_config(run_dir: str, cfg: dict) -> None:
    write_text_atomic(os.path.join(run_dir, CONFIG), dump(cfg))


def read_metrics(run_dir: str) -> list:
    path = os.path.join(run_dir, METRICS)
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def append_metrics(run_dir: str, record: dict) -> None:
    with open(os.path.join(run_dir, METRICS), "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def keep_metrics_until(run_dir: str, epoch: int) -> list:
    """Drop the records after `epoch` (written after the checkpoint a run resumes from)."""
    kept = [r for r in read_metrics(run_dir) if r.get("epoch", 0) <= epoch]
    write_text_atomic(os.path.join(run_dir, METRICS),
                      "".join(json.dumps(r) + "\n" for r in kept))
    return kept


def save_curves(metrics: list, path: str) -> bool:
    """Loss and accuracy per epoch as a PNG; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return False
    epochs = [m["epoch"] for m in metrics]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for split, style in (("train", "-"), ("val", "-."), ("test", "--")):
        if metrics and f"{split}_loss" in metrics[0]:
            ax_loss.plot(epochs, [m[f"{split}_loss"] for m in metrics], style, label=split)
            ax_acc.plot(epochs, [100 * m[f"{split}_acc"] for m in metrics], style, label=split)
    for ax, title in ((ax_loss, "loss (cross-entropy)"), (ax_acc, "accuracy (%)")):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return True
