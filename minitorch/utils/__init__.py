"""Utilities: activation checkpointing and the autograd memory meter."""

from . import checkpoint, memory

__all__ = ["checkpoint", "memory"]
