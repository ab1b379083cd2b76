"""Grading student implementations against minitorch's own (python -m minitorch.grading).

    from minitorch import grading
    assignment = grading.load_assignment("configs/grading/example.yaml")
    prepared = grading.prepare(assignment)           # reference results, once
    result = grading.grade(prepared, "student.py")   # each task in its own limited process
    print(grading.render(result, "text"))
"""

from .batch import grade_batch
from .grader import grade, prepare
from .report import render, to_csv
from .results import CheckResult, SubmissionResult, TaskResult
from .spec import Assignment, AssignmentError, load_assignment, parse_assignment

__all__ = [
    "Assignment", "AssignmentError", "CheckResult", "SubmissionResult", "TaskResult", "grade",
    "grade_batch", "load_assignment", "parse_assignment", "prepare", "render", "to_csv",
]
