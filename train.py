"""Train a model from a YAML config: `python train.py` trains the default MNIST MLP on the CPU.

    python train.py [--config FILE] [--device cpu|cuda] [--epochs N] [--data-dir DIR]
                    [--out DIR] [--resume CHECKPOINT] [--set section.key=value ...]
                    [--sweep FILE] [--no-progress]

Exit codes: 0 done; 1 training diverged (non-finite loss; the last good checkpoint stays);
2 a usage error (config, --set, data, device, checkpoint), reported in one line on stderr;
130 interrupted (resume with --resume RUN_DIR/last.ckpt).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs",
                              "mnist_mlp.yaml")


class UsageError(Exception):
    """A mistake in how train.py was called."""


class Interrupted(Exception):
    """Ctrl-C during training; carries the run directory."""


def parse_args(argv: list | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train a minitorch model from a YAML config.")
    p.add_argument("--config", help="YAML config (default: configs/mnist_mlp.yaml)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (overrides train.device)")
    p.add_argument("--epochs", type=int, help="number of epochs (overrides train.epochs)")
    p.add_argument("--data-dir", help="where the dataset files are (overrides data.root)")
    p.add_argument("--out", help="run directory (default: runs/<config>-<time>)")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue from a checkpoint")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="SECTION.KEY=VALUE", help="override a config value (repeatable)")
    p.add_argument("--sweep", metavar="FILE", help="grid or random search over overrides")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def cli_overrides(args: argparse.Namespace) -> list:
    """(dotted key, value) pairs from --set and the shortcut options."""
    from training.config import parse_override

    out = [parse_override(item) for item in args.overrides]
    if args.epochs is not None:
        if args.epochs < 1:
            raise UsageError(f"--epochs must be >= 1, got {args.epochs}")
        out.append(("train.epochs", args.epochs))
    if args.device is not None:
        out.append(("train.device", args.device))
    if args.data_dir is not None:
        if not os.path.isdir(args.data_dir):
            raise UsageError(f"--data-dir {args.data_dir} is not a directory")
        out.append(("data.root", os.path.abspath(args.data_dir)))
    return out


def new_run_dir(out: str | None, config_path: str) -> str:
    from training import files

    if out is None:
        stem = os.path.splitext(os.path.basename(config_path))[0]
        out = os.path.join("runs", f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    if os.path.exists(os.path.join(out, files.METRICS)) or \
            os.path.exists(os.path.join(out, files.LAST)):
        raise UsageError(f"{out} already holds a run; resume it with --resume "
                         f"{os.path.join(out, files.LAST)} or choose another --out")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create run directory {out}: {exc.strerror}") from None
    return out


def run(args: argparse.Namespace) -> int:
    from training import config, files, sweep
    from training.loop import Trainer, load_checkpoint

    overrides = cli_overrides(args)
    if args.sweep:
        if args.resume:
            raise UsageError("--sweep and --resume cannot be combined")
        return sweep.run_sweep(args.sweep, args.config or DEFAULT_CONFIG, overrides,
                               args.out, progress=False if args.no_progress else None)
    if args.resume:
        if args.config:
            raise UsageError("--resume continues with the checkpoint's config; change it with "
                             "--set instead of --config")
        ckpt = load_checkpoint(args.resume)
        cfg = config.resolve(config.apply_overrides(ckpt["config"], overrides))
        run_dir = args.out or os.path.dirname(os.path.abspath(args.resume))
        os.makedirs(run_dir, exist_ok=True)
    else:
        path = args.config or DEFAULT_CONFIG
        cfg = config.resolve(config.apply_overrides(config.read_file(path), overrides))
        run_dir = new_run_dir(args.out, path)
    trainer = Trainer(cfg, run_dir, progress=False if args.no_progress else None)
    for note in trainer.data.notes:
        print(f"note: {note}")
    print(f"data: {cfg['data']['name']} from {trainer.data.source} "
          f"({len(trainer.data.train):,} train / {len(trainer.data.test):,} test) | "
          f"model: {sum(p.numel() for p in trainer.params):,} parameters | "
          f"optimizer: {cfg['optimizer']['name']} | device: {trainer.device} | run: {run_dir}")
    if args.resume:
        trainer.restore(ckpt, args.resume)
        print(f"resumed from {args.resume} at epoch {trainer.epoch}")
        if trainer.epoch >= cfg["train"]["epochs"]:
            print(f"nothing to do: the checkpoint is at epoch {trainer.epoch} of "
                  f"{cfg['train']['epochs']} (pass --epochs N to train longer)")
            return 0
    files.write_config(run_dir, cfg)
    try:
        outcome = trainer.fit()
    except KeyboardInterrupt:
        raise Interrupted(run_dir) from None
    best = f"{100 * outcome.best_acc:.2f}%" if outcome.best_acc is not None else "n/a"
    print(f"{outcome.stop_reason}; best {trainer.monitor} accuracy {best} at epoch "
          f"{outcome.best_epoch}; run directory {run_dir}")
    return 0


def main(argv: list | None = None) -> int:
    args = parse_args(argv)
    from minitorch.backend import DeviceError
    from minitorch.data import DatasetFormatError, DatasetNotFoundError
    from training.config import ConfigError
    from training.loop import CheckpointError, TrainingDiverged

    try:
        return run(args)
    except (UsageError, ConfigError, CheckpointError, DatasetNotFoundError,
            DatasetFormatError, DeviceError) as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        return 2
    except TrainingDiverged as exc:
        print(f"train.py: stopped: {exc}", file=sys.stderr)
        return 1
    except Interrupted as exc:
        last = os.path.join(str(exc), "last.ckpt")
        hint = f"continue with --resume {last}" if os.path.exists(last) else \
            "no epoch had finished, so there is no checkpoint"
        print(f"\ntrain.py: interrupted; {hint}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\ntrain.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
