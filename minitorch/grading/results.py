"""The outcome of grading one submission: checks inside tasks inside a submission."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class CheckResult:
    name: str
    device: str
    visibility: str
    max_score: float
    score: float
    status: str            # passed | partial | failed | skipped
    what: str = ""         # what the check verifies
    messages: list = field(default_factory=list)
    passed: int = 0        # cases passed / run
    total: int = 0
    elapsed: float = 0.0


@dataclass
class TaskResult:
    name: str
    kind: str
    symbol: str
    max_score: float
    score: float
    checks: list = field(default_factory=list)
    error: str = ""        # why the whole task lost points (import failure, tampering, ...)
    output: str = ""       # the start of what the student's code printed
    elapsed: float = 0.0


@dataclass
class SubmissionResult:
    assignment: str
    submission: str
    student: str
    score: float = 0.0
    max_score: float = 0.0
    tasks: list = field(default_factory=list)
    error: str = ""        # the grader could not grade this submission at all
    elapsed: float = 0.0
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def status_of(score: float, passed: int, total: int) -> str:
    if total and passed == total:
        return "passed"
    if passed and score > 0:
        return "partial"
    return "failed"
