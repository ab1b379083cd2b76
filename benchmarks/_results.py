"""Shared by the benchmarks: where results go and what is recorded about the machine."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from typing import Any

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def machine() -> dict:
    """CPU count, platform, the versions that decide the numbers, and the load average (the
    development machines are shared)."""
    import numpy as np

    info: dict[str, Any] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                            "python": platform.python_version(), "numpy": np.__version__,
                            "load_average": os.getloadavg()}
    try:
        import torch

        info["torch"], info["torch_threads"] = torch.__version__, torch.get_num_threads()
    except ImportError:
        info["torch"] = None
    return info


def write_json(path: str | None, name: str, result: dict) -> str:
    """Write `result` (plus the machine) to `path`, default benchmarks/results/<name>.json,
    atomically; returns the path."""
    path = os.path.abspath(path or os.path.join(RESULTS, f"{name}.json"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    result = {"benchmark": name, "machine": machine(), **result}
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(result, f, indent=2)
    os.replace(tmp, path)
    return path
