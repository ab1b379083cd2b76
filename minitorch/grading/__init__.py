"""Grading student implementations against minitorch's own (python -m minitorch.grading)."""
