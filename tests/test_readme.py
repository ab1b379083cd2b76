"""The README's first example runs as printed and trains."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_first_example_runs_and_learns() -> None:
    text = README.read_text()
    section = text.split("## A first example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {})
    final = float(re.search(r"final loss (\S+)", out.getvalue()).group(1))
    assert final < 1.0  # it starts near log(3) = 1.10 (3 balanced random classes)
