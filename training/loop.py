"""The training loop: epochs of shuffled mini-batches (seed 001), evaluation, metrics.jsonl,
atomic checkpoints, early stopping (seed 003's criteria) and exact resumption.

A checkpoint holds everything the rest of a run depends on: weights, optimiser and scheduler
state, every RNG state (dropout masks), the loader's (seed, epoch) and the early-stopping
bookkeeping. Resuming from epoch k therefore replays epochs k+1, … exactly: on the CPU with the
same seed, an interrupted-and-resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

import minitorch as mt
import minitorch.nn.functional as F
from minitorch import backend
from minitorch.data import DataLoader
from minitorch.nn.utils import clip_grad_norm_
from minitorch.optim import lr_scheduler

from . import files
from .build import Data, build_model, build_optimizer, build_scheduler, load_data

CHECKPOINT_KIND = "minitorch-train-checkpoint"


class TrainingDiverged(RuntimeError):
    """The loss (or the weights) became NaN or infinite."""


class CheckpointError(ValueError):
    """A file given to --resume is not a usable training checkpoint."""


@dataclass
class Outcome:
    run_dir: str
    epochs: int  # epochs completed
    best_acc: float | None
    best_epoch: int
    stop_reason: str  # why training ended
    metrics: list


def load_checkpoint(path: str) -> dict:
    """Read a checkpoint written by Trainer.save; errors say what is wrong with the file."""
    try:
        ckpt = mt.load(path, map_location="cpu")
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} not found") from None
    except (ValueError, OSError) as exc:  # SerializationError is a ValueError
        raise CheckpointError(f"checkpoint {path} cannot be read: {exc}") from None
    if not isinstance(ckpt, dict) or ckpt.get("kind") != CHECKPOINT_KIND:
        raise CheckpointError(f"{path} is a minitorch file but not a train.py checkpoint")
    missing = [k for k in ("epoch", "config", "model", "optimizer", "rng", "loader", "trainer")
               if k not in ckpt]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {', '.join(missing)}")
    return ckpt


class Trainer:
    """Builds a run from a resolved config and trains it into `run_dir`."""

    def __init__(self, cfg: dict, run_dir: str, data: Data | None = None,
                 log: Callable[[str], None] = print, progress: bool | None = None) -> None:
        t = cfg["train"]
        self.cfg, self.run_dir, self.log, self.progress = cfg, run_dir, log, progress
        self.device = backend.parse_device(t["device"])
        self.data = data if data is not None else load_data(cfg)
        mt.manual_seed(t["seed"])
        self.model = build_model(cfg, self.data.in_features, self.data.num_classes)
        self.model.to(self.device)
        self.params = list(self.model.parameters())
        self.optimizer = build_optimizer(cfg, self.params)
        self.train_loader = DataLoader(self.data.train, t["batch_size"], shuffle=True,
                                       drop_last=t["drop_last"], device=self.device,
                                       seed=t["seed"])
        self.scheduler = build_scheduler(cfg, self.optimizer, len(self.train_loader))
        self.eval_loaders = {"test": DataLoader(self.data.test, t["eval_batch_size"],
                                                device=self.device)}
        if self.data.val is not None:
            self.eval_loaders["val"] = DataLoader(self.data.val, t["eval_batch_size"],
                                                  device=self.device)
        self.monitor = "val" if self.data.val is not None else "test"
        self.epoch = 0
        self.state = {"best_acc": None, "best_epoch": 0, "best_loss": math.inf,
                      "bad_epochs": 0, "prev_train_loss": None}
        self.metrics: list = []

    # ---- checkpoints ----------------------------------------------------------------------
    def checkpoint(self) -> dict:
        return {
            "kind": CHECKPOINT_KIND, "version": 1, "epoch": self.epoch, "config": self.cfg,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "rng": mt.get_rng_state(), "loader": self.train_loader.state_dict(),
            "trainer": dict(self.state),
        }

    def restore(self, ckpt: dict, path: str = "checkpoint") -> None:
        """Continue from a checkpoint (of a run with the same model and optimiser)."""
        try:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            if (ckpt["scheduler"] is None) != (self.scheduler is None):
                raise ValueError("the checkpoint and the config disagree on using a scheduler")
            if self.scheduler is not None:
                self.scheduler.load_state_dict(ckpt["scheduler"])
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            msg = exc.args[0] if exc.args else exc
            raise CheckpointError(f"{path} does not fit this config: {msg}") from None
        mt.set_rng_state(ckpt["rng"])
        self.train_loader.load_state_dict(ckpt["loader"])
        self.epoch = int(ckpt["epoch"])
        self.state.update(ckpt["trainer"])
        self.metrics = files.keep_metrics_until(self.run_dir, self.epoch)

    # ---- one epoch ------------------------------------------------------------------------
    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _train_epoch(self, epoch: int, want_grad: bool) -> tuple:
        t = self.cfg["train"]
        lam, clip, every = t["loss_ema"], t["grad_clip"], t["log_every"]
        step_sched = self.scheduler is not None and self.cfg["scheduler"]["interval"] == "step"
        self.model.train()
        loss_sum = correct = 0.0
        ema = None  # running loss Q̄ ← λ·loss + (1 − λ)·Q̄ (seed 001), kept on the device
        grad_sum = [None] * len(self.params) if want_grad else None
        n = 0
        # progress None: bars only on a terminal (tqdm's disable=None)
        bar = tqdm(total=len(self.train_loader), desc=f"epoch {epoch}/{t['epochs']}",
                   unit="batch", leave=False, dynamic_ncols=True,
                   disable=None if self.progress is None else not self.progress)
        for i, (x, y) in enumerate(self.train_loader, 1):
            logits = self.model(x)
            loss = F.cross_entropy(logits, y)
            self.optimizer.zero_grad()
            loss.backward()
            if clip is not None:
                clip_grad_norm_(self.params, clip)
            if grad_sum is not None:
                grad_sum = [g0 if p.grad is None else (p.grad.data if g0 is None
                                                        else g0 + p.grad.data)
                            for g0, p in zip(grad_sum, self.params, strict=True)]
            self.optimizer.step()
            if step_sched:
                self.scheduler.step()
            bs = y.shape[0]
            n += bs
            loss_sum = loss_sum + loss.data * bs
            correct = correct + (logits.data.argmax(axis=1) == y.data).sum()
            ema = loss.data if ema is None else lam * loss.data + (1 - lam) * ema
            if i % every == 0 or i == len(self.train_loader):
                # reading a value syncs a GPU, so only every log_every batches
                if not math.isfinite(float(loss_sum)):
                    bar.close()
                    raise TrainingDiverged(f"the training loss became {float(loss_sum)} in "
                                           f"epoch {epoch} (by batch {i})")
                bar.set_postfix(loss=f"{float(ema):.4f}", refresh=False)
            bar.update(1)
            if i == len(self.train_loader):
                bar.refresh()  # the final running loss is shown even when an epoch is short
        bar.close()
        grad_norm = None
        if grad_sum is not None:  # ‖mean of the epoch's mini-batch gradients‖ ≈ ‖∇Q‖
            grad_norm = math.sqrt(sum(float(((g / len(self.train_loader)) ** 2).sum())
                                      for g in grad_sum if g is not None))
        return float(loss_sum) / n, float(correct) / n, grad_norm, n

    def evaluate(self, loader: DataLoader) -> tuple:
        """(mean cross-entropy, accuracy) over a loader, in eval mode and without a graph."""
        self.model.eval()
        total = correct = 0.0
        n = 0
        with mt.no_grad():
            for x, y in loader:
                logits = self.model(x)
                total = total + F.cross_entropy(logits, y, reduction="sum").data
                correct = correct + (logits.data.argmax(axis=1) == y.data).sum()
                n += y.shape[0]
        return float(total) / n, float(correct) / n

    # ---- the run --------------------------------------------------------------------------
    def _weights(self) -> list:
        return [p.data.copy() for p in self.params]

    def _stop_reason(self, rec: dict, prev: float | None, dw: float | None,
                     grad_norm: float | None) -> str:
        es = self.cfg["train"]["early_stopping"]
        st = self.state
        if es["patience"] is not None and st["bad_epochs"] >= es["patience"]:
            return (f"early stop: {self.monitor} loss did not improve by more than "
                    f"{es['min_delta']} for {es['patience']} epochs")
        if es["weight_change_tol"] is not None and dw is not None \
                and dw < es["weight_change_tol"]:
            return f"converged: ‖Δw‖ = {dw:.3g} < {es['weight_change_tol']}"
        if es["loss_change_tol"] is not None and prev is not None \
                and abs(rec["train_loss"] - prev) < es["loss_change_tol"]:
            return (f"converged: |ΔQ| = {abs(rec['train_loss'] - prev):.3g} < "
                    f"{es['loss_change_tol']}")
        if es["grad_norm_tol"] is not None and grad_norm is not None \
                and grad_norm < es["grad_norm_tol"]:
            return f"converged: ‖∇Q‖ = {grad_norm:.3g} < {es['grad_norm_tol']}"
        return ""

    def save(self, name: str) -> str:
        path = os.path.join(self.run_dir, name)
        mt.save(self.checkpoint(), path)
        return path

    def fit(self) -> Outcome:
        t, es = self.cfg["train"], self.cfg["train"]["early_stopping"]
        reason = ""
        # overflow is detected and reported as TrainingDiverged, so NumPy need not warn
        errstate = np.errstate(over="ignore", invalid="ignore", divide="ignore")
        try:
            errstate.__enter__()
            while self.epoch < t["epochs"] and not reason:
                epoch = self.epoch + 1
                start, lr = time.perf_counter(), self._lr()
                w0 = self._weights() if es["weight_change_tol"] is not None else None
                train_loss, train_acc, grad_norm, n_seen = self._train_epoch(
                    epoch, want_grad=es["grad_norm_tol"] is not None)
                train_time = time.perf_counter() - start
                rec = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc}
                for split, loader in self.eval_loaders.items():
                    rec[f"{split}_loss"], rec[f"{split}_acc"] = self.evaluate(loader)
                if not all(math.isfinite(rec[f"{s}_loss"]) for s in self.eval_loaders):
                    raise TrainingDiverged(f"the weights became non-finite in epoch {epoch} "
                                           f"({self.monitor} loss {rec[self.monitor + '_loss']})")
                rec.update(lr=lr, epoch_time_s=time.perf_counter() - start,
                           samples_per_s=n_seen / train_time)
                dw = None
                if w0 is not None:
                    dw = math.sqrt(sum(float(((p.data - w) ** 2).sum())
                                       for p, w in zip(self.params, w0, strict=True)))
                reason = self._end_epoch(rec, dw, grad_norm)
        except TrainingDiverged as exc:
            last = os.path.join(self.run_dir, files.LAST)
            kept = (f"the last good checkpoint is {last} (epoch {self.epoch})"
                    if self.epoch > 0 and os.path.exists(last) else "no checkpoint was written")
            raise TrainingDiverged(f"{exc}; training stopped, {kept}") from None
        finally:
            errstate.__exit__(None, None, None)
            if self.metrics and not files.save_curves(self.metrics, os.path.join(
                    self.run_dir, files.CURVES)):
                self.log("(curves.png not written: `pip install matplotlib` to get it)")
        if not reason:
            reason = f"finished {self.epoch} epochs"
        return Outcome(self.run_dir, self.epoch, self.state["best_acc"],
                       self.state["best_epoch"], reason, self.metrics)

    def _end_epoch(self, rec: dict, dw: float | None, grad_norm: float | None) -> str:
        """Scheduler step, bookkeeping, metrics line, checkpoints, summary; the stop reason."""
        st, es = self.state, self.cfg["train"]["early_stopping"]
        self.epoch = rec["epoch"]
        loss, acc = rec[f"{self.monitor}_loss"], rec[f"{self.monitor}_acc"]
        if self.scheduler is not None and self.cfg["scheduler"]["interval"] == "epoch":
            plateau = getattr(lr_scheduler, "ReduceLROnPlateau", None)
            if plateau is not None and isinstance(self.scheduler, plateau):
                self.scheduler.step(loss)
            else:
                self.scheduler.step()
        if loss < st["best_loss"] - es["min_delta"]:
            st["best_loss"], st["bad_epochs"] = loss, 0
        else:
            st["bad_epochs"] += 1
        improved = st["best_acc"] is None or acc > st["best_acc"]
        if improved:
            st["best_acc"], st["best_epoch"] = acc, rec["epoch"]
        reason = self._stop_reason(rec, st["prev_train_loss"], dw, grad_norm)
        st["prev_train_loss"] = rec["train_loss"]
        self.metrics.append(rec)
        files.append_metrics(self.run_dir, rec)
        self.save(files.LAST)
        if improved:
            self.save(files.BEST)
        parts = [f"epoch {rec['epoch']}/{self.cfg['train']['epochs']}",
                 f"train loss {rec['train_loss']:.4f} acc {100 * rec['train_acc']:.2f}%"]
        parts += [f"{s} loss {rec[f'{s}_loss']:.4f} acc {100 * rec[f'{s}_acc']:.2f}%"
                  for s in self.eval_loaders]
        parts += [f"lr {rec['lr']:.3g}",
                  f"{rec['epoch_time_s']:.1f}s ({rec['samples_per_s']:,.0f} samples/s)"]
        self.log(" | ".join(parts) + (" *" if improved else ""))
        return reason
