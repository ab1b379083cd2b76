"""xavier_uniform_ that ignores the receptive field (right for 2-D shapes only) and draws
from numpy's global generator (not reproducible under mt.manual_seed)."""

import math

import numpy as np


def xavier_uniform_(tensor, gain=1.0):
    fan_in, fan_out = tensor.shape[1], tensor.shape[0]
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    tensor.data[...] = np.random.uniform(-a, a, tensor.shape)
    return tensor
