"""Running one task of one submission in its own process, with limits, and reading it back.

The process gets its own session (so a kill reaches anything it started), no stdin, stdout and
stderr in one file, one BLAS thread, and a working folder holding only the plan (inputs, never
reference values). The grader enforces the task's wall-clock limit and watches the resident
memory as a backstop to the limits the child sets on itself; whatever happens, what the child
saved before stopping is read back (with mt.load: nothing is unpickled).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from ..serialization import SerializationError, load, save

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOOT = ("import sys; sys.path[:1] = [sys.argv[2]]; "
        "from minitorch.grading.child import main; main(sys.argv[1])")
SHOWN_OUTPUT = 4096  # bytes of the student's output kept in the report
POLL = 0.02
COPY_LIMIT = 10 << 20  # bytes: bigger data files in a submission folder are not copied


@dataclass
class Limits:
    time_limit: float
    check_time_limit: float
    memory_mb: int
    output_kb: int
    cuda: bool = False
    file_mb: int = 256


@dataclass
class ChildRun:
    """What came back from one task's process."""

    results: dict = field(default_factory=dict)  # check index -> saved record
    setup_error: str | None = None               # import failure, missing symbol, wrong type
    running: int | None = None                   # check in progress when it stopped (-1: import)
    finished: bool = False
    stop_reason: str = ""                        # why it stopped early, for the feedback
    output: str = ""
    output_bytes: int = 0
    tamper: list = field(default_factory=list)
    forbidden: list = field(default_factory=list)
    elapsed: float = 0.0


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)
    except (OSError, ValueError, IndexError):
        return 0.0


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _env() -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"  # predictable timing and memory; tasks run side by side
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # nothing written into students' folders
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONIOENCODING"] = "utf-8"
    for var in ("PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONBREAKPOINT"):
        env.pop(var, None)
    return env


def _describe_exit(rc: int, killed: str) -> str:
    if killed == "time":
        return "the task's time limit was reached and the process was stopped"
    if killed == "memory":
        return "the process used more memory than the task's limit and was stopped"
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        hint = {"SIGSEGV": " (a crash in native code)", "SIGXCPU": " (CPU time limit)",
                "SIGKILL": " (killed, often for memory)", "SIGXFSZ": " (wrote too much)"}
        return f"the process was killed by {name}{hint.get(name, '')}"
    return (f"the process exited with code {rc} before finishing (did your code call "
            "os._exit() or kill itself?)")


def _read_records(workdir: str, run: ChildRun) -> None:
    for name in sorted(os.listdir(workdir)):
        if not name.endswith(".mt"):
            continue
        path = os.path.join(workdir, name)
        try:
            rec = load(path)
        except (SerializationError, OSError, ValueError, TypeError, KeyError) as exc:
            rec = {"status": "error", "error": f"unreadable result ({exc})"}
        if not isinstance(rec, dict):
            continue
        for key in ("tamper", "forbidden"):
            items = rec.get(key) or []
            if isinstance(items, list):
                getattr(run, key).extend(str(s) for s in items if str(s) not in getattr(run, key))
        if name == "setup.mt":
            run.setup_error = str(rec.get("error", "could not load your submission"))
        elif name.startswith("check_") and name != "plan.mt":
            try:
                run.results[int(name[6:9])] = rec
            except ValueError:
                pass


def _copy_submission(src: str, workdir: str) -> str:
    """A private copy, so a submission cannot import its neighbours in a batch folder or
    write into the original (large non-Python files and caches are left out)."""
    dest_root = os.path.join(workdir, "submission")
    os.makedirs(dest_root)
    dest = os.path.join(dest_root, os.path.basename(os.path.normpath(src)))
    if os.path.isfile(src):
        shutil.copyfile(src, dest)
        return dest

    def ignore(folder: str, names: list) -> list:
        return [n for n in names if n in ("__pycache__", ".git") or (
            not n.endswith(".py") and os.path.isfile(os.path.join(folder, n))
            and os.path.getsize(os.path.join(folder, n)) > COPY_LIMIT)]

    shutil.copytree(src, dest, ignore=ignore, symlinks=True)
    return dest


def run_task(plan: dict, limits: Limits) -> ChildRun:
    """Run one task's probes on a copy of the submission named in `plan`, in a fresh
    process."""
    run = ChildRun()
    with tempfile.TemporaryDirectory(prefix="minitorch-grade-") as workdir:
        plan = {**plan, "submission": _copy_submission(plan["submission"], workdir)}
        save(plan, os.path.join(workdir, "plan.mt"))
        with open(os.path.join(workdir, "limits.json"), "w") as f:
            json.dump({"memory_mb": limits.memory_mb, "time_limit": limits.time_limit,
                       "check_time_limit": limits.check_time_limit, "cuda": limits.cuda,
                       "output_kb": limits.output_kb, "file_mb": limits.file_mb}, f)
        out_path = os.path.join(workdir, "output.txt")
        killed = ""
        start = time.monotonic()
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-c", BOOT, workdir, ROOT], cwd=workdir,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=_env(),
                start_new_session=True)
            try:
                while proc.poll() is None:
                    if time.monotonic() - start > limits.time_limit:
                        killed = "time"
                    elif _rss_mb(proc.pid) > limits.memory_mb * 1.1 + 64:
                        killed = "memory"
                    if killed:
                        _kill(proc)
                        proc.wait()
                        break
                    time.sleep(POLL)
            finally:
                _kill(proc)  # whatever it started goes too
                proc.wait()
        run.elapsed = time.monotonic() - start
        run.output_bytes = os.path.getsize(out_path)
        with open(out_path, "rb") as f:
            run.output = f.read(SHOWN_OUTPUT).decode("utf-8", "replace")
        _read_records(workdir, run)
        try:
            with open(os.path.join(workdir, "progress.json")) as f:
                at = json.load(f).get("check")
        except (OSError, ValueError, AttributeError):
            at = None
        n = len(plan["checks"])
        run.finished = at == n and not killed
        if not run.finished and run.setup_error is None:
            run.running = at if isinstance(at, int) else -1
            run.stop_reason = _describe_exit(proc.returncode, killed)
    return run

