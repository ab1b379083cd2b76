"""Grader throughput: a batch of copies of the reference solution (and of the template) on the
example assignment, as an instructor would run it for a class.

    python benchmarks/grading_batch.py --students 16 --jobs 2

Prints the wall time of the batch, seconds per submission and per task process, and the time
spent once on the reference results (prepare); writes benchmarks/results/grading_batch.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _results import write_json  # noqa: E402

from minitorch.grading import grade_batch, load_assignment, prepare  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", type=int, default=16)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", default=None, help="JSON file (default benchmarks/results/)")
    args = ap.parse_args()
    assignment = load_assignment(ROOT / "configs" / "grading" / "example.yaml")
    t0 = time.perf_counter()
    prepared = prepare(assignment)
    t_prepare = time.perf_counter() - t0
    sources = [ROOT / "examples" / "grading" / "reference_solution.py",
               ROOT / "examples" / "grading" / "student_template.py"]
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        for i in range(args.students):
            shutil.copy(sources[i % 2], subs / f"student{i:03d}.py")
        t0 = time.perf_counter()
        results = grade_batch(prepared, str(subs), str(Path(tmp) / "out"), "gradescope",
                              args.jobs)
        wall = time.perf_counter() - t0
    n_tasks = len(prepared.tasks) * len(results)
    full = sum(r.score == r.max_score for r in results)
    print(f"prepare (reference results, once): {t_prepare:.2f} s")
    print(f"{len(results)} submissions x {len(prepared.tasks)} tasks, --jobs {args.jobs}: "
          f"{wall:.1f} s wall, {wall / len(results):.2f} s per submission, "
          f"{wall * args.jobs / n_tasks:.2f} s per task process; {full} full marks")
    write_json(args.out, "grading_batch", {
        "students": len(results), "tasks": len(prepared.tasks), "jobs": args.jobs,
        "prepare_s": t_prepare, "wall_s": wall, "s_per_submission": wall / len(results),
        "s_per_task_process": wall * args.jobs / n_tasks, "full_marks": full})


if __name__ == "__main__":
    main()
