"""Shared by the benchmarks: where results go and what is recorded about the machine."""

from __future__ import annotations

import json
import os
import platform
from typing import Any

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def machine() -> dict:
    """CPU count, platform and the versions that decide the numbers."""
    import numpy as np

    info: dict[str, Any] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                            "python": platform.python_version(), "numpy": np.__version__}
    try:
        import torch

        info["torch"], info["torch_threads"] = torch.__version__, torch.get_num_threads()
    except ImportError:
        info["torch"] = None
    return info


def write_json(path: str | None, name: str, result: dict) -> str:
    """Write `result` (plus the machine) to `path`, default benchmarks/results/<name>.json,
    atomically; returns the path."""
    path = path or os.path.join(RESULTS, f"{name}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    result = {"benchmark": name, "machine": machine(), **result}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
    os.replace(tmp, path)
    return path
