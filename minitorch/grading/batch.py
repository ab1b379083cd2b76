"""Batch mode: every entry of a folder is one student's submission; grade them in parallel,
write each student's report as soon as it is done, then a CSV of scores."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from .grader import Prepared, grade
from .report import atomic_write, render, to_csv
from .results import SubmissionResult

REPORT_NAMES = {"gradescope": "results.json", "json": "report.json", "text": "report.txt"}


def is_batch_folder(path: str) -> bool:
    """A folder that is not itself a package holds one submission per entry."""
    return os.path.isdir(path) and not os.path.isfile(os.path.join(path, "__init__.py"))


def find_submissions(folder: str) -> list:
    """(student, path) for each .py file and each sub-folder holding Python files."""
    found, taken = [], set()
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if entry.startswith((".", "_")):
            continue
        if os.path.isfile(path) and entry.endswith(".py"):
            name = entry[:-3]
        elif os.path.isdir(path) and any(f.endswith(".py") for f in os.listdir(path)):
            name = entry
        else:
            continue
        name = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "student"
        base, k = name, 2
        while name in taken:
            name, k = f"{base}-{k}", k + 1
        taken.add(name)
        found.append((name, path))
    return found


def grade_batch(prepared: Prepared, folder: str, out_dir: str, fmt: str = "gradescope",
                jobs: int = 1, on_done: Callable | None = None) -> list:
    """Grade every submission in `folder`; reports go to out_dir/<student>/, the CSV to
    out_dir/scores.csv. Returns the results in the folder's order."""
    subs = find_submissions(folder)
    results: dict = {}

    def one(student: str, path: str) -> SubmissionResult:
        r = grade(prepared, path, jobs=1, student=student)
        atomic_write(os.path.join(out_dir, student, REPORT_NAMES[fmt]), render(r, fmt))
        return r

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, s, p): s for s, p in subs}
        for fut in as_completed(futures):
            student = futures[fut]
            try:
                r = fut.result()
            except Exception as exc:  # e.g. the report folder became unwritable
                path = dict(subs)[student]
                r = SubmissionResult(assignment=prepared.assignment.name, submission=path,
                                     student=student, error=f"{type(exc).__name__}: {exc}",
                                     max_score=sum(pt.task.points for pt in prepared.tasks))
            results[student] = r
            if on_done is not None:
                on_done(r)
    ordered = [results[s] for s, _ in subs]
    names = [pt.task.name for pt in prepared.tasks]
    atomic_write(os.path.join(out_dir, "scores.csv"), to_csv(ordered, names))
    return ordered
