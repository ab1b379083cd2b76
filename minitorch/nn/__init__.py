"""minitorch.nn: modules, layers, activations, losses, initialisers."""

from . import functional, init, utils
from .activations import (
    ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Step, Tanh,
)
from .layers import BatchNorm1d, Dropout, Flatten, Identity, LayerNorm, Linear
from .losses import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss,
)
from .module import Module, ModuleDict, ModuleList, Sequential, StateDictError
from .parameter import Parameter

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "ELU",
    "Flatten", "GELU", "HuberLoss", "Identity", "L1Loss", "LayerNorm", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "Module", "ModuleDict", "ModuleList", "NLLLoss", "Parameter",
    "ReLU", "Sequential", "Sigmoid", "Softmax", "Softplus", "StateDictError", "Step", "Tanh",
    "functional", "init", "utils",
]
