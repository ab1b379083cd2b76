"""What the planner hands to the grader for one check, and the per-case scoring helper."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..spec import CheckSpec


@dataclass
class Planned:
    """One check of one task: the probe the student's process runs on `payload` (plain data,
    inputs only), the reference's result for the same probe (kept in the grader), and the
    evaluator that scores the student's result against it."""

    spec: CheckSpec
    probe: str
    payload: dict
    evaluate: Callable  # (Planned, student result) -> (passed units, total units, messages)
    expected: Any = None
    what: str = ""      # one line: what the check verifies
    device: str = "cpu"
    points: float = 0.0


def case_outcome(p: Planned, got: Any, check: Callable) -> tuple:
    """Score a probe that returns one run_case record per case in p.payload['cases']:
    a case passes when it ran and `check(case, expected, result)` returns no message."""
    cases = p.payload["cases"]
    if not isinstance(got, list) or len(got) != len(cases):
        return 0, len(cases), ["the check returned no usable result"]
    expected = p.expected if p.expected is not None else [None] * len(cases)
    passed, msgs = 0, []
    for i, (case, exp, res) in enumerate(zip(cases, expected, got, strict=True)):
        prefix = f"case {i + 1} ({case['label']})" if case.get("label") else f"case {i + 1}"
        if not res.get("ok"):
            err = str(res.get("error", "failed")).replace("\n", "\n    ")
            msgs.append(f"{prefix}: {err}")
            continue
        problems = [m for m in check(case, exp, res["result"]) if m]
        if problems:
            msgs.append(f"{prefix}: " + "; ".join(problems))
        else:
            passed += 1
    return passed, len(cases), msgs
