"""Reports: a text table per task, JSON, Gradescope's results.json, and a CSV for a batch.
Every file is written atomically (temporary file in the same folder, then renamed)."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile

from .results import SubmissionResult

FORMATS = ("text", "json", "gradescope")
GS_OUTPUT_LIMIT = 8000  # characters of feedback per Gradescope test


def atomic_write(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _pts(x: float) -> str:
    return f"{x:.2f}"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def to_text(r: SubmissionResult) -> str:
    """A table per task (check, device, score, status, visibility), problems under each row."""
    lines = [f"Assignment: {r.assignment}", f"Submission: {r.submission}  (seed {r.seed})", ""]
    if r.error:
        lines += [f"Could not grade: {r.error}", ""]
    for i, t in enumerate(r.tasks, 1):
        head = f"Task {i}: {t.name}  ({t.kind} `{t.symbol}`)"
        lines.append(f"{head:<64} {_pts(t.score):>7} / {_pts(t.max_score)}")
        lines.append(f"  {'check':<18}{'device':<8}{'score':>16}  {'status':<15}visibility")
        for c in t.checks:
            score = f"{_pts(c.score)} / {_pts(c.max_score)}" if c.status != "skipped" else "-"
            cases = f" ({c.passed}/{c.total})" if c.status == "partial" else ""
            lines.append(f"  {c.name:<18}{c.device:<8}{score:>16}  "
                         f"{(c.status + cases):<15}{c.visibility}")
            for m in c.messages:
                lines.append("      - " + m.replace("\n", "\n        "))
        if t.error:
            lines.append("  Task problem: " + t.error.replace("\n", "\n    "))
        if t.output.strip():
            lines.append("  Your code printed (start):")
            lines.append(_indent(t.output.rstrip()[:1500], "    | "))
        lines.append("")
    pct = 100.0 * r.score / r.max_score if r.max_score else 0.0
    lines.append(f"Total: {_pts(r.score)} / {_pts(r.max_score)} ({pct:.1f}%)")
    return "\n".join(lines) + "\n"


def to_json(r: SubmissionResult) -> str:
    return json.dumps({"format": "minitorch-grading", "version": 1, **r.to_dict()}, indent=2)


def to_gradescope(r: SubmissionResult) -> str:
    """Gradescope's autograder results.json: score, tests[] (name, score, max_score, output,
    visibility, status), top-level output."""
    tests = []
    multi = len({c.device for t in r.tasks for c in t.checks}) > 1
    for i, t in enumerate(r.tasks, 1):
        for j, c in enumerate(t.checks, 1):
            name = f"{t.name}: {c.name}" + (f" [{c.device}]" if multi else "")
            out = [c.what] if c.what else []
            if c.status == "partial":
                out.append(f"{c.passed} of {c.total} cases passed")
            out += c.messages
            if j == 1 and t.error:
                out.append("Task problem: " + t.error)
            if j == 1 and t.output.strip():
                out.append("Your code printed (start):\n" + t.output.rstrip()[:1500])
            text = "\n".join(out)
            if len(text) > GS_OUTPUT_LIMIT:
                text = text[:GS_OUTPUT_LIMIT] + "\n[... feedback cut ...]"
            test = {"name": name, "number": f"{i}.{j}", "score": round(c.score, 4),
                    "max_score": round(c.max_score, 4), "output": text,
                    "visibility": c.visibility}
            if c.status != "skipped":
                test["status"] = "passed" if c.status == "passed" else "failed"
            tests.append(test)
    summary = f"{r.assignment}: {r.score:.2f} / {r.max_score:.2f}"
    if r.error:
        summary += f"\nCould not grade: {r.error}"
    return json.dumps({"score": round(r.score, 4), "execution_time": int(round(r.elapsed)),
                       "output": summary, "stdout_visibility": "hidden", "tests": tests},
                      indent=2)


def render(r: SubmissionResult, fmt: str) -> str:
    return {"text": to_text, "json": to_json, "gradescope": to_gradescope}[fmt](r)


def to_csv(results: list, task_names: list) -> str:
    """One row per student: total, max, percent, each task's score, any grading problem."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", "score", "max_score", "percent", *task_names, "error", "submission"])
    for r in results:
        by_name = {t.name: t.score for t in r.tasks}
        pct = 100.0 * r.score / r.max_score if r.max_score else 0.0
        w.writerow([r.student, f"{r.score:.4f}", f"{r.max_score:.4f}", f"{pct:.2f}",
                    *(f"{by_name[n]:.4f}" if n in by_name else "" for n in task_names),
                    r.error, r.submission])
    return buf.getvalue()
