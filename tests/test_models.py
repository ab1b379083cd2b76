"""models.MLP: layer layout, initialisation, input flattening, argument errors, and activation
checkpointing giving the same gradients."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from models import MLP


def kinds(model: MLP) -> list:
    return [type(m).__name__ for m in model.layers]


def test_layout_per_hidden_layer():
    m = MLP(20, [16, 8], 3, activation="tanh", dropout=0.1, norm="batch")
    assert kinds(m) == ["Linear", "BatchNorm1d", "Tanh", "Dropout"] * 2 + ["Linear"]
    assert kinds(MLP(20, [16], 3)) == ["Linear", "ReLU", "Linear"]
    assert kinds(MLP(20, [], 3)) == ["Linear"]  # logistic regression
    assert kinds(MLP(5, [4], 2, norm="layer"))[1] == "LayerNorm"
    shapes = [tuple(p.shape) for p in m.parameters()]
    assert shapes[0] == (16, 20) and shapes[-1] == (3,)


def test_flattens_image_batches(device):
    m = MLP(2 * 3 * 4, [5], 7).to(device)
    x = mt.randn(6, 2, 3, 4, device=device)
    out = m(x)
    assert out.shape == (6, 7)
    np.testing.assert_allclose(out.numpy(), m(x.reshape(6, -1)).numpy())


def test_initialisers_zero_the_biases_and_use_the_activation_gain():
    mt.manual_seed(0)
    m = MLP(1000, [1000], 10, init="kaiming_normal")
    w, b = m.layers[0].weight.numpy(), m.layers[0].bias.numpy()
    assert np.all(b == 0)
    assert abs(w.std() - math.sqrt(2 / 1000)) < 2e-3  # He: N(0, 2/n_in) for ReLU
    assert abs(m.layers[-1].weight.numpy().std() - math.sqrt(1 / 1000)) < 2e-3  # linear gain
    t = MLP(1000, [1000], 10, activation="tanh", init="xavier_uniform")
    bound = 5 / 3 * math.sqrt(6 / 2000)
    assert abs(np.abs(t.layers[0].weight.numpy()).max() - bound) < 1e-3
    d = MLP(400, [10], 2)  # PyTorch's default: U[-1/sqrt(n_in), 1/sqrt(n_in)], biases too
    assert np.abs(d.layers[0].bias.numpy()).max() <= 1 / 20 and np.any(d.layers[0].bias.numpy())


@pytest.mark.parametrize("kwargs, pattern", [
    ({"activation": "swish"}, r"unknown activation 'swish'; choose one of relu, leaky_relu"),
    ({"norm": "group"}, r"unknown norm 'group'; choose one of None, batch, layer"),
    ({"init": "he"}, r"unknown init 'he'; choose one of default, zeros"),
    ({"hidden_sizes": [4, 0]}, r"layer sizes must be positive ints"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ({"checkpoint_segments": -1}, r"checkpoint_segments must be an int >= 0"),
])
def test_bad_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        MLP(4, **{"hidden_sizes": [3], **kwargs})


def test_dropout_only_in_training():
    m = MLP(10, [50], 2, dropout=0.5)
    x = mt.randn(4, 10)
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), m(x).numpy())
    m.train()
    assert not np.array_equal(m(x).numpy(), m(x).numpy())


@pytest.mark.skipif(importlib.util.find_spec("minitorch.utils.checkpoint") is None,
                    reason="minitorch.utils.checkpoint (the ckpt branch) is not merged")
@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_segments_give_identical_gradients(segments):
    """Activation checkpointing recomputes the forward (dropout masks replayed): the gradients
    are bitwise those of the plain model (SPEC section 3)."""
    def grads(n_segments: int) -> tuple:
        mt.manual_seed(1)
        m = MLP(12, [16, 16, 16], 4, dropout=0.3, checkpoint_segments=n_segments).double()
        x = mt.randn(8, 12, dtype=mt.float64)
        y = mt.tensor([0, 1, 2, 3, 0, 1, 2, 3])
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        return loss.item(), [p.grad.numpy() for p in m.parameters()]

    plain_loss, plain = grads(0)
    ckpt_loss, ckpt = grads(segments)
    assert ckpt_loss == plain_loss
    for a, b in zip(plain, ckpt, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(importlib.util.find_spec("minitorch.utils.checkpoint") is None,
                    reason="minitorch.utils.checkpoint (the ckpt branch) is not merged")
def test_checkpointed_forward_matches_in_train_and_eval():
    m = MLP(6, [5, 5], 2, checkpoint_segments=2)
    x = mt.randn(3, 6)
    for mode in (m.train, m.eval):
        mode()
        m.checkpoint_segments = 2
        ckpt = m(x).numpy()
        m.checkpoint_segments = 0
        np.testing.assert_array_equal(ckpt, m(x).numpy())
