"""python -m minitorch.grading: grade one submission, or a folder of them.

Exit status: 0 when grading completed (whatever the scores), 2 when the grader could not run
(bad assignment file, missing submission, bad option), with a one-line message.
"""

from __future__ import annotations

import argparse
import os
import sys

from .batch import REPORT_NAMES, grade_batch, is_batch_folder
from .grader import grade, prepare
from .report import FORMATS, atomic_write, render
from .spec import AssignmentError, load_assignment


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m minitorch.grading",
        description="Grade student implementations against minitorch's reference ones.")
    p.add_argument("--assignment", required=True, help="assignment YAML (configs/grading/...)")
    p.add_argument("--submission", required=True,
                   help="a student's .py file or package folder; or a folder holding one "
                        "submission per entry (batch mode)")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="report format (default: text; gradescope in batch mode)")
    p.add_argument("--out", help="report file (one submission) or output folder (batch; "
                                 "default grading-results)")
    p.add_argument("--seed", type=int, help="input seed (default: the assignment's)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="cuda: run the checks on the GPU as well as on the CPU")
    p.add_argument("--jobs", type=int, default=None,
                   help="processes in parallel (batch default: CPU count; one submission: 1)")
    p.add_argument("--task", action="append", dest="tasks", metavar="NAME",
                   help="grade only this task (repeatable)")
    p.add_argument("--visible-only", action="store_true",
                   help="skip hidden / after_due_date / after_published checks (student mode)")
    p.add_argument("--single", action="store_true",
                   help="treat a folder without __init__.py as ONE submission (its .py files)")
    return p


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def main(argv: list | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        return _fail(f"--jobs must be at least 1, got {args.jobs}")
    if args.seed is not None and args.seed < 0:
        return _fail(f"--seed must not be negative, got {args.seed}")
    sub = args.submission
    if not os.path.exists(sub):
        return _fail(f"submission not found: {sub}")
    if os.path.isfile(sub) and not sub.endswith(".py"):
        return _fail(f"submission {sub} is not a .py file")
    batch = is_batch_folder(sub) and not args.single
    if os.path.isdir(sub) and not batch and not any(f.endswith(".py") for f in os.listdir(sub)):
        return _fail(f"no Python files in submission folder {sub}")
    try:
        assignment = load_assignment(args.assignment)
        devices = ("cpu", "cuda") if args.device == "cuda" else ("cpu",)
        prepared = prepare(assignment, args.seed, devices, args.visible_only, args.tasks)
    except AssignmentError as exc:
        return _fail(str(exc))
    if args.device == "cuda" and not any(
            c.device != "cpu" and i not in pt.skipped
            for pt in prepared.tasks for i, c in enumerate(pt.checks)):
        print("note: no GPU is available to the grader; GPU checks are reported as skipped",
              file=sys.stderr)
    fmt = args.format or ("gradescope" if batch else "text")
    if batch:
        out_dir = args.out or "grading-results"
        if os.path.isfile(out_dir):
            return _fail(f"--out {out_dir} is a file; batch mode needs a folder")

        def done(r: object) -> None:
            note = f"  ({r.error})" if r.error else ""
            print(f"{r.student}: {r.score:.2f} / {r.max_score:.2f}{note}", flush=True)

        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError as exc:
            return _fail(f"cannot create the output folder {out_dir}: {exc.strerror or exc}")
        results = grade_batch(prepared, sub, out_dir, fmt, args.jobs or os.cpu_count() or 1,
                              done)
        print(f"graded {len(results)} submission(s); reports in {out_dir}/<student>/"
              f"{REPORT_NAMES[fmt]}, scores in {os.path.join(out_dir, 'scores.csv')}")
        return 0
    result = grade(prepared, sub, jobs=args.jobs or 1)
    text = render(result, fmt)
    if args.out:
        if os.path.isdir(args.out):
            return _fail(f"--out {args.out} is a folder; give a file name")
        try:
            atomic_write(args.out, text)
        except OSError as exc:
            sys.stdout.write(text)  # the report is not lost
            return _fail(f"cannot write the report to {args.out}: {exc.strerror or exc}")
        print(f"{result.student}: {result.score:.2f} / {result.max_score:.2f} -> {args.out}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
