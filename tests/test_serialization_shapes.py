"""mt.save / mt.load keep every array's shape and layout, including 0-d arrays."""

from __future__ import annotations

import numpy as np

import minitorch as mt
import minitorch.nn as nn


def test_zero_dim_and_non_contiguous_arrays_round_trip(tmp_path):
    obj = {"scalar": np.zeros((), np.int64) + 7, "t": np.arange(6.0).reshape(2, 3).T,
           "tensor0d": mt.tensor(3.5)}
    mt.save(obj, tmp_path / "x")
    back = mt.load(tmp_path / "x")
    assert back["scalar"].shape == () and int(back["scalar"]) == 7
    np.testing.assert_array_equal(back["t"], obj["t"])
    assert back["tensor0d"].shape == ()


def test_batchnorm_state_dict_reloads(tmp_path):
    bn = nn.BatchNorm1d(3)
    bn(mt.randn(4, 3))
    mt.save(bn.state_dict(), tmp_path / "bn")
    other = nn.BatchNorm1d(3)
    other.load_state_dict(mt.load(tmp_path / "bn"))
    assert int(other.num_batches_tracked.item()) == 1
    np.testing.assert_array_equal(other.running_mean.numpy(), bn.running_mean.numpy())
