"""Model definitions used by train.py (outside the framework package), by config name."""

from .mlp import MLP

MODELS = {"mlp": MLP}

__all__ = ["MLP", "MODELS"]
