"""training.config: YAML reading, --set overrides and validation of every section."""

from __future__ import annotations

import glob
import os

import pytest

from training import config
from training.config import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def resolve(**sections):
    return config.resolve(sections)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(ROOT, "configs", "*.yaml"))))
def test_shipped_configs_resolve_and_round_trip(path):
    cfg = config.resolve(config.read_file(path))
    assert cfg["data"]["name"] in config.DATASETS
    assert config.resolve(config.parse_yaml(config.dump(cfg), "dump")) == cfg


def test_three_configs_are_shipped():
    names = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "configs", "*.yaml"))}
    assert {"mnist_mlp.yaml", "fashion_mnist_mlp.yaml", "cifar10_mlp.yaml"} <= names


def test_defaults_are_filled_in():
    cfg = resolve()
    assert cfg["train"]["epochs"] == config.DEFAULTS["train"]["epochs"]
    assert cfg["optimizer"]["momentum"] == 0.0  # from SGD's signature
    assert cfg["model"]["hidden_sizes"] == [512, 256]  # from MLP's signature
    assert cfg["scheduler"] == {"name": None}


def test_exponent_floats_are_numbers():
    raw = config.parse_yaml("optimizer: {name: adam, lr: 3e-4, eps: 1E-8}", "t")
    cfg = config.resolve(raw)
    assert cfg["optimizer"]["lr"] == 3e-4 and cfg["optimizer"]["eps"] == 1e-8


@pytest.mark.parametrize("raw, pattern", [
    ({"dataa": {}}, r"unknown section 'dataa'; valid sections: data, model"),
    ({"data": {"nme": "mnist"}}, r"unknown key data.nme \(did you mean name\?\); valid keys:"),
    ({"train": {"epoch": 3}}, r"unknown key train.epoch \(did you mean epochs\?\)"),
    ({"train": {"early_stopping": {"patience_": 2}}},
     r"unknown key train.early_stopping.patience_"),
    ({"model": {"name": "mlp", "hiden_sizes": [3]}},
     r"unknown key model.hiden_sizes \(did you mean hidden_sizes\?\)"),
    ({"optimizer": {"name": "sgd", "betas": [0.9, 0.99]}},
     r"unknown key optimizer.betas; valid keys: .*momentum"),
    ({"scheduler": {"name": "steplr", "step_size": 2, "gama": 0.5}},
     r"unknown key scheduler.gama \(did you mean gamma\?\)"),
])
def test_unknown_keys_are_named(raw, pattern):
    with pytest.raises(ConfigError, match=pattern):
        config.resolve(raw)


@pytest.mark.parametrize("raw, pattern", [
    ({"train": {"epochs": "ten"}}, r"train.epochs must be an int, got 'ten' \(str\)"),
    ({"train": {"epochs": True}}, r"train.epochs must be an int, got True \(bool\)"),
    ({"train": {"epochs": 2.5}}, r"train.epochs must be an int"),
    ({"train": {"grad_clip": "1"}}, r"train.grad_clip must be a number or null"),
    ({"data": {"download": "yes"}}, r"data.download must be true or false"),
    ({"data": []}, r"data must be a mapping, got list"),
    ({"model": {"name": "mlp", "hidden_sizes": [64, "x"]}},
     r"model.hidden_sizes\[1\] must be an int"),
    ({"model": {"name": "mlp", "dropout": "0.1"}}, r"model.dropout must be a number"),
    ({"optimizer": {"name": "adam", "lr": "fast"}}, r"optimizer.lr must be a number"),
    ({"optimizer": {"name": "sgd", "nesterov": 1}}, r"optimizer.nesterov must be true or false"),
])
def test_wrong_types_are_named(raw, pattern):
    with pytest.raises(ConfigError, match=pattern):
        config.resolve(raw)


def test_unknown_names_list_the_choices():
    with pytest.raises(ConfigError, match=r"optimizer.name 'adm' is not one of: .*adam.*sgd"):
        resolve(optimizer={"name": "adm"})
    with pytest.raises(ConfigError, match=r"data.name 'mnsit' is not one of: mnist, "
                                          r"fashion_mnist, cifar10 \(did you mean mnist\?\)"):
        resolve(data={"name": "mnsit"})
    with pytest.raises(ConfigError, match=r"model.name 'cnn' is not one of: mlp"):
        resolve(model={"name": "cnn"})
    with pytest.raises(ConfigError, match=r"scheduler.name 'cosine' is not one of: .*steplr"):
        resolve(scheduler={"name": "cosine"})
    with pytest.raises(ConfigError, match=r"optimizer.name is required; choose one of"):
        resolve(optimizer={"lr": 0.1})


def test_optimizer_names_ignore_case_and_underscores():
    assert resolve(optimizer={"name": "AdamW"})["optimizer"]["weight_decay"] == 0.01
    assert resolve(scheduler={"name": "cosine_annealing_lr", "T_max": 3})["scheduler"][
        "T_max"] == 3


def test_scheduler_rules():
    with pytest.raises(ConfigError, match=r"scheduler.interval 'batch' is not one of: epoch, "
                                          "step"):
        resolve(scheduler={"name": "steplr", "step_size": 1, "interval": "batch"})
    with pytest.raises(ConfigError, match=r"scheduler.step_size is required"):
        resolve(scheduler={"name": "steplr"})
    with pytest.raises(ConfigError, match=r"scheduler has settings but no name"):
        resolve(scheduler={"gamma": 0.5})
    cfg = resolve(scheduler={"name": "cosineannealinglr", "T_max": "auto"})
    assert cfg["scheduler"]["interval"] == "epoch" and cfg["scheduler"]["T_max"] == "auto"
    assert resolve(scheduler=None)["scheduler"] == {"name": None}


@pytest.mark.parametrize("raw, pattern", [
    ({"train": {"epochs": 0}}, r"train.epochs must be >= 1"),
    ({"train": {"batch_size": -4}}, r"train.batch_size must be >= 1"),
    ({"train": {"loss_ema": 0.0}}, r"train.loss_ema .* must be in \(0, 1\]"),
    ({"data": {"val_split": 1.0}}, r"data.val_split must be in \[0, 1\)"),
])
def test_value_ranges(raw, pattern):
    with pytest.raises(ConfigError, match=pattern):
        config.resolve(raw)


def test_read_file_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"config file .*nope.yaml not found"):
        config.read_file(str(tmp_path / "nope.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("data:\n  name: mnist\n   root: x\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: malformed YAML \(line 3, column 8\)"):
        config.read_file(str(bad))
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match=r"a config is a mapping of sections"):
        config.read_file(str(bad))
    bad.write_text("")
    assert config.read_file(str(bad)) == {}


def test_overrides():
    pairs = [config.parse_override(s) for s in (
        "optimizer.lr=3e-4", "model.hidden_sizes=[64, 32]", "train.early_stopping.patience=2",
        "data.root=null", "scheduler={name: steplr, step_size: 2}")]
    raw = config.apply_overrides({"optimizer": {"name": "adam"}}, pairs)
    assert raw["optimizer"] == {"name": "adam", "lr": 3e-4}
    assert raw["model"]["hidden_sizes"] == [64, 32]
    assert raw["train"]["early_stopping"]["patience"] == 2
    assert raw["data"]["root"] is None and raw["scheduler"]["step_size"] == 2
    config.resolve(raw)


@pytest.mark.parametrize("item, pattern", [
    ("optimizer.lr", r"expected section.key=value"),
    ("=3", r"expected section.key=value"),
    ("optimizer..lr=3", r"expected section.key=value"),
    ("model.hidden_sizes=[64", r"malformed YAML"),
])
def test_bad_override_syntax(item, pattern):
    with pytest.raises(ConfigError, match=pattern):
        config.parse_override(item)


def test_override_into_unknown_section_or_leaf():
    with pytest.raises(ConfigError, match=r"unknown section 'optimiser'"):
        config.apply_overrides({}, [("optimiser.lr", 0.1)])
    with pytest.raises(ConfigError, match=r"lr is not a section"):
        config.apply_overrides({"optimizer": {"lr": 0.1}}, [("optimizer.lr.x", 1)])
