"""The student's process: one per task, started by sandbox.py, never imported by the grader.

It limits itself (memory, CPU time, file size) before anything else, bounds what the student
can print, imports minitorch and takes a snapshot of it, installs the task's forbidden-call
guards, imports the submission, and runs each planned probe under an alarm, saving each result
as soon as it is known (a later crash or kill keeps the earlier results). It receives inputs
only: reference values never exist in this process.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import json
import os
import resource
import signal
import sys
import time
from typing import Any

MiB = 1 << 20


class BoundedOutput:
    """sys.stdout / sys.stderr replacement: passes the first `limit` bytes through to the
    file descriptor, then notes the overflow once and drops the rest (cheaply)."""

    written = 0

    def __init__(self, fd: int, limit: int) -> None:
        self.fd, self.limit = fd, limit

    def write(self, text: Any) -> int:
        s = str(text)
        data = s.encode("utf-8", "replace")
        room = self.limit - BoundedOutput.written
        if room > 0:
            chunk = data[:room]
            os.write(self.fd, chunk)
            if len(data) > room:
                os.write(self.fd, b"\n[... output cut: more than the output limit ...]\n")
        BoundedOutput.written += len(data)
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return "utf-8"


def _limit(which: int, value: int) -> None:
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):  # a hard limit lower than ours: keep it
        pass


def _set_limits(limits: dict) -> None:
    if not limits["cuda"]:
        # CUDA maps huge address ranges and pinned host buffers, so with a GPU the grader's
        # resident-memory watchdog is the memory limit
        _limit(resource.RLIMIT_AS, int(limits["memory_mb"]) * MiB)
    _limit(resource.RLIMIT_CPU, int(limits["time_limit"]) + 5)
    _limit(resource.RLIMIT_FSIZE, int(limits["file_mb"]) * MiB)
    _limit(resource.RLIMIT_CORE, 0)


def _free_name(name: str) -> str:
    """`name`, unless importing the submission under it would shadow a real module."""
    if not name.isidentifier() or name in sys.modules or name in sys.stdlib_module_names \
            or importlib.util.find_spec(name) is not None:
        return "submission"
    return name


def _exec(name: str, path: str, package_dir: str | None = None) -> Any:
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[package_dir] if package_dir else None)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {os.path.basename(path)} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _import_submission(path: str) -> list:
    """The student's module(s): a .py file, a package folder, or a plain folder of .py files."""
    path = os.path.realpath(path)
    if os.path.isfile(path):
        name = _free_name(os.path.splitext(os.path.basename(path))[0])
        sys.path.insert(0, os.path.dirname(path))
        return [_exec(name, path)]
    init = os.path.join(path, "__init__.py")
    if os.path.isfile(init):
        name = _free_name(os.path.basename(path))
        sys.path.insert(0, os.path.dirname(path))
        return [_exec(name, init, path)]
    files = sorted(f[:-3] for f in os.listdir(path) if f.endswith(".py") and f[:-3].isidentifier())
    files.sort(key=lambda f: f != "submission")  # submission.py first, then alphabetical
    names = {f: _free_name(f) for f in files}  # before the folder is on sys.path
    sys.path.insert(0, path)
    modules = []
    for f in files:
        done = sys.modules.get(names[f])
        if done is not None and getattr(done, "__file__", None) == os.path.join(path, f + ".py"):
            modules.append(done)  # an earlier file imported it
        else:
            modules.append(_exec(names[f], os.path.join(path, f + ".py")))
    return modules


def _find(modules: list, symbol: str) -> Any:
    for m in modules:
        if hasattr(m, symbol):
            return getattr(m, symbol)
    from .runtime import SubmissionError

    names = sorted({n for m in modules for n in vars(m) if not n.startswith("_")})
    close = difflib.get_close_matches(symbol, names, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(f'`{c}`' for c in close)}?" if close else ""
    raise SubmissionError(f"your submission does not define `{symbol}`{hint}")


def _alarm(signum: int, frame: Any) -> None:
    from .runtime import CheckTimeout

    raise CheckTimeout()


def main(workdir: str) -> None:
    with open(os.path.join(workdir, "limits.json")) as f:
        limits = json.load(f)
    _set_limits(limits)
    out_limit = int(limits["output_kb"]) * 1024
    sys.stdout = BoundedOutput(1, out_limit)
    sys.stderr = BoundedOutput(2, out_limit)
    sys.stdin = open(os.devnull)

    import pkgutil

    import minitorch

    for info in pkgutil.walk_packages(minitorch.__path__, "minitorch."):
        if not info.name.endswith("__main__"):
            try:
                importlib.import_module(info.name)
            except ImportError:  # optional parts (e.g. CuPy-only modules)
                pass
    from ..serialization import load, save
    from . import kinds, tamper
    from .runtime import STUDENT, CheckTimeout, format_exception

    plan = load(os.path.join(workdir, "plan.mt"))
    kind = kinds.KINDS[plan["kind"]]
    if "cuda" in plan["devices"]:
        from .. import backend

        backend.is_cuda_available()  # load CuPy before the snapshot
    STUDENT.active = True
    STUDENT.roots = (os.path.realpath(plan["submission"]),)
    STUDENT.memory_limit_mb = int(limits["memory_mb"])
    tamper.forbid(plan["forbid"])
    watched = tamper.snapshot()

    def record(name: str, obj: dict) -> None:
        obj["tamper"] = tamper.tampered(watched)
        obj["forbidden"] = tamper.forbidden_calls()
        save(obj, os.path.join(workdir, name))

    def progress(i: int) -> None:
        with open(os.path.join(workdir, "progress.json"), "w") as f:
            json.dump({"check": i}, f)

    progress(-1)
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, float(limits["check_time_limit"]))
    try:
        modules = _import_submission(plan["submission"])
        impl = kind.student_impl(_find(modules, plan["symbol"]), plan["task"])
    except CheckTimeout:
        record("setup.mt", {"error": "importing your submission took longer than "
                                     f"{limits['check_time_limit']:g} s (does it run code at "
                                     "import time?)"})
        os._exit(0)
    except (Exception, SystemExit, tamper.ForbiddenCall) as exc:
        record("setup.mt", {"error": "could not load your submission: " + format_exception(exc)})
        os._exit(0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)

    for i, check in enumerate(plan["checks"]):
        progress(i)
        probe = kind.PROBES[check["probe"]]
        start = time.perf_counter()
        rec: dict = {}
        signal.setitimer(signal.ITIMER_REAL, float(check["time_limit"]))
        try:
            rec = {"status": "ok", "result": probe(impl, check["payload"], check["device"])}
        except CheckTimeout:
            rec = {"status": "timeout"}
        except tamper.ForbiddenCall as exc:
            rec = {"status": "error", "error": f"ForbiddenCall: {exc}"}
        except BaseException as exc:  # noqa: B036 (student code may raise anything)
            rec = {"status": "error", "error": format_exception(exc)}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        rec["elapsed"] = time.perf_counter() - start
        try:
            record(f"check_{i:03d}.mt", rec)
        except Exception as exc:  # a result that cannot be stored (e.g. the file size limit)
            record(f"check_{i:03d}.mt", {"status": "error", "elapsed": rec["elapsed"],
                                         "error": f"could not store the result: {exc}"})
        if rec["status"] == "timeout":
            break
    progress(len(plan["checks"]))
    os._exit(0)  # skip atexit handlers and non-daemon threads a submission may have left
