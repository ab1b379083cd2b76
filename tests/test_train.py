"""train.py end to end on the embedded MNIST sample: run directory, metrics, checkpoints,
exact resumption, early stopping, divergence, sweeps, and every CLI error path."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minitorch as mt
import train
from minitorch import backend
from training import config, files
from training.loop import CheckpointError, Trainer, TrainingDiverged, load_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# a small, fast run on the embedded sample (4,000 digits): ~0.2 s an epoch
FAST = ["--no-progress", "--set", "model.hidden_sizes=[32]", "--set", "model.dropout=0.1",
        "--set", "train.batch_size=100"]


def run_cli(args: list, capsys) -> tuple:
    code = train.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def open_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def weights(path: str) -> dict:
    return {k: v.numpy() for k, v in load_checkpoint(path)["model"].items()}


def test_short_run_on_the_embedded_sample(tmp_path, capsys):
    out_dir = str(tmp_path / "run")
    code, out, err = run_cli(FAST + ["--epochs", "2", "--out", out_dir], capsys)
    assert code == 0, err
    assert "embedded sample" in out and "4,000 train / 1,000 test" in out
    assert "epoch 2/2 | train loss" in out and "finished 2 epochs" in out
    assert {"config.yaml", "metrics.jsonl", "last.ckpt", "best.ckpt"} <= set(os.listdir(out_dir))
    records = files.read_metrics(out_dir)
    assert [r["epoch"] for r in records] == [1, 2]
    for r in records:
        assert set(r) == {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr",
                          "epoch_time_s", "samples_per_s"}
    assert records[1]["test_acc"] > 0.8 and records[1]["train_loss"] < records[0]["train_loss"]
    saved = config.read_file(os.path.join(out_dir, "config.yaml"))
    assert saved["train"]["epochs"] == 2 and saved["model"]["hidden_sizes"] == [32]
    assert config.resolve(saved) == saved  # the resolved config is complete and valid
    ckpt = load_checkpoint(os.path.join(out_dir, "last.ckpt"))
    assert ckpt["epoch"] == 2 and ckpt["config"] == saved
    best = load_checkpoint(os.path.join(out_dir, "best.ckpt"))
    assert best["epoch"] == max(records, key=lambda r: r["test_acc"])["epoch"]


def test_progress_bar_shows_the_running_loss(tmp_path, capsys):
    raw = config.read_file(os.path.join(ROOT, "configs", "mnist_mlp.yaml"))
    cfg = config.resolve(config.apply_overrides(raw, [("model.hidden_sizes", [16]),
                                                      ("train.epochs", 1),
                                                      ("train.log_every", 1)]))
    Trainer(cfg, str(tmp_path), log=lambda s: None, progress=True).fit()
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "/32 [" in err
    shown = [float(v.split("]")[0].split(",")[0]) for v in err.split("loss=")[1:]]
    # the running loss Q̄ ← λ·loss + (1 − λ)·Q̄ (tqdm refreshes it at most 10 times a second)
    assert shown and all(0 < v < 5 for v in shown)


def test_resume_equals_uninterrupted(tmp_path, capsys, monkeypatch):
    # dropout, flips, BatchNorm statistics, shuffling, AdamW state and a cosine schedule carry
    # state across epochs: an exact resume must restore every one of them
    extra = ["--set", "scheduler={name: cosineannealinglr, T_max: auto}", "--set",
             "model.norm=batch", "--set", "data.hflip=true", "--epochs", "4"]
    full, part = str(tmp_path / "full"), str(tmp_path / "part")
    assert run_cli(FAST + extra + ["--out", full], capsys)[0] == 0

    original = Trainer._train_epoch

    def interrupted_in_epoch_3(self, epoch, want_grad):
        if epoch == 3:
            raise KeyboardInterrupt
        return original(self, epoch, want_grad)

    monkeypatch.setattr(Trainer, "_train_epoch", interrupted_in_epoch_3)
    code, _, err = run_cli(FAST + extra + ["--out", part], capsys)
    assert code == 130 and f"--resume {os.path.join(part, 'last.ckpt')}" in err
    monkeypatch.setattr(Trainer, "_train_epoch", original)

    code, out, err = run_cli(["--no-progress", "--resume", os.path.join(part, "last.ckpt")],
                             capsys)
    assert code == 0, err
    assert "resumed from" in out and "at epoch 2" in out
    a, b = weights(os.path.join(full, "last.ckpt")), weights(os.path.join(part, "last.ckpt"))
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)  # bitwise
    strip = lambda rs: [{k: v for k, v in r.items() if k not in ("epoch_time_s",  # noqa: E731
                                                                  "samples_per_s")} for r in rs]
    assert strip(files.read_metrics(full)) == strip(files.read_metrics(part))


def test_validation_split(tmp_path, capsys):
    out_dir = str(tmp_path / "r")
    code, out, err = run_cli(FAST + ["--epochs", "1", "--out", out_dir, "--set",
                                     "data.val_split=0.1"], capsys)
    assert code == 0, err
    assert "3,600 train / 1,000 test" in out and "best val accuracy" in out
    (record,) = files.read_metrics(out_dir)
    assert {"val_loss", "val_acc", "test_loss", "test_acc"} <= set(record)
    assert record["samples_per_s"] > 0 and record["epoch_time_s"] > 0


def test_drop_last(tmp_path, capsys):
    out_dir = str(tmp_path / "r")
    # 4,000 samples in batches of 300: 13 full batches, the last 100 samples dropped
    code, _, err = run_cli(FAST + ["--epochs", "1", "--out", out_dir, "--set",
                                   "train.batch_size=300", "--set", "train.drop_last=true"],
                           capsys)
    assert code == 0, err
    ckpt = load_checkpoint(os.path.join(out_dir, "last.ckpt"))
    steps = {int(s["step"]) for s in ckpt["optimizer"]["state"].values()}
    assert steps == {13}


def test_resume_drops_metrics_written_after_the_checkpoint(tmp_path, capsys):
    out_dir = str(tmp_path / "r")
    assert run_cli(FAST + ["--epochs", "2", "--out", out_dir], capsys)[0] == 0
    ckpt = load_checkpoint(os.path.join(out_dir, "last.ckpt"))
    ckpt["epoch"] = 1  # as if the run died between writing epoch 2's metrics and checkpoint
    mt.save(ckpt, os.path.join(out_dir, "epoch1.ckpt"))
    code, _, err = run_cli(["--no-progress", "--resume", os.path.join(out_dir, "epoch1.ckpt")],
                           capsys)
    assert code == 0, err
    assert [r["epoch"] for r in files.read_metrics(out_dir)] == [1, 2]


def test_resume_at_the_end_does_nothing(tmp_path, capsys):
    out_dir = str(tmp_path / "r")
    assert run_cli(FAST + ["--epochs", "1", "--out", out_dir], capsys)[0] == 0
    code, out, _ = run_cli(["--resume", os.path.join(out_dir, "last.ckpt")], capsys)
    assert code == 0 and "nothing to do" in out


# ---- early stopping ---------------------------------------------------------------------------
@pytest.mark.parametrize("setting, epochs_run, reason", [
    ("patience=2", 3, "did not improve by more than 0.0 for 2 epochs"),
    ("weight_change_tol=1.0e-9", 1, "‖Δw‖ = 0 <"),
    ("loss_change_tol=1.0e-4", 2, "|ΔQ| ="),
    ("grad_norm_tol=1.0e+6", 1, "‖∇Q‖ ="),
])
def test_early_stopping_criteria(tmp_path, capsys, setting, epochs_run, reason):
    # lr = 0: nothing changes, so each criterion fires as early as it can
    out_dir = str(tmp_path / "r")
    code, out, err = run_cli(FAST + ["--epochs", "6", "--out", out_dir, "--set",
                                     "optimizer.lr=0.0", "--set", "model.dropout=0.0",
                                     "--set", f"train.early_stopping.{setting}"], capsys)
    assert code == 0, err
    assert len(files.read_metrics(out_dir)) == epochs_run
    assert reason in out


def test_criteria_that_do_not_fire(tmp_path, capsys):
    out_dir = str(tmp_path / "r")
    code, out, _ = run_cli(FAST + ["--epochs", "2", "--out", out_dir, "--set",
                                   "train.early_stopping={patience: 5, weight_change_tol: 1.0e-9,"
                                   " loss_change_tol: 1.0e-9, grad_norm_tol: 1.0e-9}"], capsys)
    assert code == 0 and "finished 2 epochs" in out


# ---- divergence -------------------------------------------------------------------------------
def test_non_finite_loss_exits_nonzero(tmp_path, capsys):
    code, _, err = run_cli(FAST + ["--epochs", "2", "--out", str(tmp_path / "r"), "--set",
                                   "optimizer={name: sgd, lr: 1.0e+30}"], capsys)
    assert code == 1
    assert "train.py: stopped: the training loss became" in err
    assert "no checkpoint was written" in err and "Traceback" not in err


def test_divergence_keeps_the_last_good_checkpoint(tmp_path):
    raw = config.apply_overrides({}, [("model.hidden_sizes", [16]), ("train.epochs", 1),
                                      ("train.batch_size", 200)])
    cfg = config.resolve(raw)
    run_dir = str(tmp_path)
    trainer = Trainer(cfg, run_dir, log=lambda s: None, progress=False)
    trainer.fit()
    last = os.path.join(run_dir, "last.ckpt")
    before = open_bytes(last)
    trainer.cfg["train"]["epochs"] = 2
    for group in trainer.optimizer.param_groups:
        group["lr"] = 1e30
    with pytest.raises(TrainingDiverged, match=r"last good checkpoint is .*last.ckpt \(epoch 1\)"):
        trainer.fit()
    assert open_bytes(last) == before
    assert load_checkpoint(last)["epoch"] == 1


# ---- sweeps -----------------------------------------------------------------------------------
def test_grid_sweep(tmp_path, capsys):
    spec = tmp_path / "sweep.yaml"
    spec.write_text("method: grid\nparameters:\n  optimizer.lr: [1.0e-3, 0.0]\n"
                    "  model.hidden_sizes: [[16]]\n")
    out_dir = str(tmp_path / "s")
    code, out, err = run_cli(FAST + ["--epochs", "1", "--sweep", str(spec), "--out", out_dir],
                             capsys)
    assert code == 0, err
    with open(os.path.join(out_dir, "summary.json")) as f:
        rows = json.load(f)
    assert [r["optimizer.lr"] for r in rows] == [1e-3, 0.0]  # sorted by best test accuracy
    assert rows[0]["best_test_acc"] > rows[1]["best_test_acc"]
    assert sorted(os.listdir(out_dir)) == ["summary.json", "trial-000", "trial-001"]
    assert "rank" in out and "best test acc" in out


def test_random_sweep_samples_within_bounds(tmp_path):
    from training import sweep

    spec = tmp_path / "s.yaml"
    spec.write_text("method: random\nsamples: 20\nseed: 3\nparameters:\n"
                    "  optimizer.lr: {log_uniform: [1.0e-4, 1.0e-1]}\n"
                    "  model.dropout: {uniform: [0.0, 0.5]}\n"
                    "  train.batch_size: {int_uniform: [32, 64]}\n"
                    "  model.activation: [relu, tanh]\n")
    plan = sweep.trials(sweep.read_sweep(str(spec)))
    assert len(plan) == 20 and plan == sweep.trials(sweep.read_sweep(str(spec)))
    values = {k: [dict(t)[k] for t in plan] for k in dict(plan[0])}
    assert all(1e-4 <= v <= 1e-1 for v in values["optimizer.lr"])
    assert all(0.0 <= v <= 0.5 for v in values["model.dropout"])
    assert all(isinstance(v, int) and 32 <= v <= 64 for v in values["train.batch_size"])
    assert set(values["model.activation"]) == {"relu", "tanh"}


@pytest.mark.parametrize("text, pattern", [
    ("method: bayes\nparameters: {optimizer.lr: [1]}", "method 'bayes' is not one of"),
    ("parameters: {}", "parameters must be a non-empty mapping"),
    ("parameters: {optimizer.lr: {uniform: [0, 1]}}", "grid search needs a list"),
    ("method: random\nparameters: {optimizer.lr: {normal: [0, 1]}}", "a distribution is one of"),
    ("method: random\nparameters: {optimizer.lr: {log_uniform: [0, 1]}}", "positive bounds"),
    ("parameters: {optimizer.lr: [0.1]}\ntrials: 3", "unknown key 'trials'"),
    ("parameters: {optimizer.lrr: [0.1]}", r"sweep trial \(optimizer.lrr=0.1\): .*unknown key"),
])
def test_sweep_errors_exit_2(tmp_path, capsys, text, pattern):
    spec = tmp_path / "s.yaml"
    spec.write_text(text)
    code, _, err = run_cli(["--sweep", str(spec), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("train.py: error: ")
    assert __import__("re").search(pattern, err), err


# ---- CLI user errors: one line on stderr, exit code 2 -----------------------------------------
def _cli_error_cases(tmp: str) -> list:
    bad_yaml = os.path.join(tmp, "bad.yaml")
    with open(bad_yaml, "w") as f:
        f.write("train: {epochs: [1, 2}\n")
    garbage = os.path.join(tmp, "garbage.ckpt")
    with open(garbage, "wb") as f:
        f.write(b"not a checkpoint")
    not_ckpt = os.path.join(tmp, "weights.mt")
    mt.save({"w": mt.zeros(2)}, not_ckpt)
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    existing = os.path.join(tmp, "existing")
    os.makedirs(existing)
    open(os.path.join(existing, "metrics.jsonl"), "w").close()
    return [
        (["--config", os.path.join(tmp, "missing.yaml")], r"config file .*missing.yaml not found"),
        (["--config", bad_yaml], r"bad.yaml: malformed YAML \(line 1"),
        (["--set", "optimizer.lr"], r"expected section.key=value"),
        (["--set", "optimizer.lrr=0.1"], r"unknown key optimizer.lrr"),
        (["--set", "train.epochs=many"], r"train.epochs must be an int"),
        (["--set", "optimizer.name=adamm"], r"optimizer.name 'adamm' is not one of"),
        (["--data-dir", empty], r"MNIST: train-images-idx3-ubyte\[.gz\] .* not found in "),
        (["--data-dir", os.path.join(tmp, "nowhere")], r"--data-dir .* is not a directory"),
        (["--set", "data.name=cifar10"], r"CIFAR10: .* not found in"),
        (["--resume", os.path.join(tmp, "none.ckpt")], r"checkpoint .*none.ckpt not found"),
        (["--resume", garbage], r"checkpoint .*garbage.ckpt cannot be read"),
        (["--resume", not_ckpt], r"weights.mt is a minitorch file but not a train.py checkpoint"),
        (["--resume", not_ckpt, "--config", bad_yaml], r"--resume continues with the checkpoint"),
        (["--out", existing], r"already holds a run; resume it with --resume"),
        (["--epochs", "0"], r"--epochs must be >= 1"),
        (["--set", "model.activation=swish"], r"unknown activation 'swish'"),
    ]


def test_cli_user_errors(tmp_path, capsys):
    for args, pattern in _cli_error_cases(str(tmp_path)):
        code, out, err = run_cli(args + ["--no-progress", "--out", str(tmp_path / "o")]
                                 if "--out" not in args else args, capsys)
        assert code == 2, (args, err)
        assert err.startswith("train.py: error: ") and err.count("\n") == 1, (args, err)
        assert __import__("re").search(pattern, err), (args, err)
        assert "Traceback" not in err


def test_resume_with_a_mismatched_model_is_a_user_error(tmp_path, capsys):
    out_dir = str(tmp_path / "r")
    assert run_cli(FAST + ["--epochs", "1", "--out", out_dir], capsys)[0] == 0
    code, _, err = run_cli(["--resume", os.path.join(out_dir, "last.ckpt"), "--epochs", "2",
                            "--set", "model.hidden_sizes=[8]"], capsys)
    assert code == 2 and "does not fit this config" in err and err.count("\n") == 1


@pytest.mark.skipif(backend.is_cuda_available(), reason="a GPU is present")
def test_cuda_without_gpu_is_a_user_error(tmp_path):
    # a real process: exit code and stderr as a user sees them
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--device", "cuda",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True,
                          cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("train.py: error: device 'cuda' requested but")
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""


def test_load_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(str(tmp_path / "x"))
    ckpt = {"kind": "minitorch-train-checkpoint", "epoch": 1}
    mt.save(ckpt, str(tmp_path / "c"))
    with pytest.raises(CheckpointError, match="lacks config, model, optimizer"):
        load_checkpoint(str(tmp_path / "c"))


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="needs `apt-get install dataset-fashion-mnist`")
def test_full_fashion_mnist_one_epoch(tmp_path, capsys):
    """The shipped Fashion-MNIST config on the real 60,000 / 10,000 images (~10 s here)."""
    out_dir = str(tmp_path / "fm")
    code, out, err = run_cli(["--config", os.path.join(ROOT, "configs", "fashion_mnist_mlp.yaml"),
                              "--epochs", "1", "--out", out_dir, "--no-progress"], capsys)
    assert code == 0, err
    assert "60,000 train / 10,000 test" in out
    (record,) = files.read_metrics(out_dir)
    assert record["test_acc"] >= 0.85, record


def test_curves_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out_dir = str(tmp_path / "r")
    assert run_cli(FAST + ["--epochs", "2", "--out", out_dir], capsys)[0] == 0
    with open(os.path.join(out_dir, "curves.png"), "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert (width, height) == (1000, 400)
