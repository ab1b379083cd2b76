"""The application side of `python train.py`: configs, builders, the loop, sweeps.

Kept outside the framework package (minitorch/ never prints; this does)."""
