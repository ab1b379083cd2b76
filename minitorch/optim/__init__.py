"""minitorch.optim: the optimiser zoo (PyTorch's signatures and numerics, plus the lectures'
and the literature's extras), learning-rate schedules and a name registry for configs.

    opt = mt.optim.Adam(model.parameters(), lr=1e-3)
    opt = mt.optim.get("adamw", model.parameters(), lr=1e-3, weight_decay=0.05)
    sched = mt.optim.lr_scheduler.get("cosineannealinglr", opt, T_max=100)
"""

from . import lr_scheduler
from .adam import Adam, Adamax, AdamW, NAdam, RAdam
from .adaptive import Adadelta, Adafactor, Adagrad, RMSprop, Rprop
from .layerwise import LAMB, LARS, Muon
from .lbfgs import LBFGS
from .linesearch import SteepestDescent
from .optimizer import Optimizer, required
from .registry import available, get, register
from .sgd import ASGD, SGD, AcceleratedGD
from .sign import Lion, SignSGD, Signum
from .wrappers import Lookahead
from .zeroth import ZerothOrderSGD

__all__ = [
    "ASGD", "AcceleratedGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax",
    "LAMB", "LARS", "LBFGS", "Lion", "Lookahead", "Muon", "NAdam", "Optimizer", "RAdam",
    "RMSprop", "Rprop", "SGD", "SignSGD", "Signum", "SteepestDescent", "ZerothOrderSGD",
    "available", "get", "lr_scheduler", "register", "required",
]
