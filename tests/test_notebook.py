"""examples/quickstart.ipynb runs, and the outputs it is stored with are the outputs its code gives.

No Jupyter kernel: the notebook's JSON is read and its code cells are executed in order in one fresh
namespace, in a temporary folder (with copies of any files it reads beside it), as IPython would run
them: a cell's printed text is its stream output, and a final expression's value is its result, displayed
through `_repr_html_` / `_repr_latex_` / `repr`.  Stored and produced outputs must agree, durations
(``0.12s``) and runs of spaces aside.

To store fresh outputs after editing the notebook: ``python tests/test_notebook.py --write``.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOK = EXAMPLES / "quickstart.ipynb"
BESIDE: tuple[str, ...] = ()  # files the notebook reads from its own folder (none at present)
DURATION = re.compile(r"\d+(\.\d+)?s\b")


def _source(cell: dict[str, Any]) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _lines(text: str) -> list[str]:
    """nbformat's multi-line strings: a list of lines, each keeping its newline."""
    return text.splitlines(keepends=True)


def _bundle(value: object) -> dict[str, Any]:
    data: dict[str, Any] = {"text/plain": _lines(repr(value))}
    for method, mime in (("_repr_html_", "text/html"), ("_repr_latex_", "text/latex")):
        render = getattr(value, method, None)
        if callable(render):
            data[mime] = _lines(render())
    return data


def run_cell(source: str, namespace: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """Execute one code cell as IPython does; its outputs in nbformat form."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    out, err = io.StringIO(), io.StringIO()
    value = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        exec(compile(tree, f"<cell {count}>", "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), f"<cell {count}>", "eval"), namespace)
    outputs: list[dict[str, Any]] = []
    for name, stream in (("stderr", err), ("stdout", out)):
        if stream.getvalue():
            outputs.append({"name": name, "output_type": "stream", "text": _lines(stream.getvalue())})
    if value is not None:
        outputs.append({"data": _bundle(value), "execution_count": count, "metadata": {},
                        "output_type": "execute_result"})
    return outputs


@contextlib.contextmanager
def _in_a_temporary_folder() -> Iterator[Path]:
    before = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="hfx-notebook-") as tmp:
        for name in BESIDE:
            shutil.copy(EXAMPLES / name, Path(tmp) / name)
        os.chdir(tmp)
        try:
            yield Path(tmp)
        finally:
            os.chdir(before)


def execute(notebook: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The outputs of every code cell, executed in order in one fresh namespace."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    produced = []
    with _in_a_temporary_folder():
        code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        for count, cell in enumerate(code_cells, start=1):
            produced.append(run_cell(_source(cell), namespace, count))
    return produced


def _normal(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outputs with durations masked and runs of spaces collapsed (table widths follow the durations)."""

    def text(lines: list[str] | str) -> str:
        joined = lines if isinstance(lines, str) else "".join(lines)
        return "\n".join(" ".join(DURATION.sub("<t>", line).split()) for line in joined.splitlines())

    normal = []
    for o in outputs:
        if o["output_type"] == "stream":
            normal.append({"stream": o["name"], "text": text(o["text"])})
        else:
            normal.append({"result": {mime: text(v) for mime, v in o["data"].items()}})
    return normal


def test_the_quickstart_notebook_runs_and_its_stored_outputs_are_what_it_prints() -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    produced = execute(notebook)
    for i, (cell, outputs) in enumerate(zip(code_cells, produced, strict=True), start=1):
        assert cell["execution_count"] == i, "stored counts must run 1, 2, … in order"
        assert _normal(cell["outputs"]) == _normal(outputs), f"code cell {i} gives other outputs than stored"
    # what the walk-through says happens, happens
    everything = json.dumps(produced)
    assert "PROVED" in everything and "FAILED" in everything  # the two derivations' badges
    assert "theory cross-checks passed: True" in everything
    assert "C7   proved" in everything and "C11  qualified" in everything  # the audit


def write() -> None:
    """Store the outputs the code cells give now (after editing the notebook)."""
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    for count, (cell, outputs) in enumerate(zip(code_cells, execute(notebook), strict=True), start=1):
        cell["outputs"], cell["execution_count"] = outputs, count
    NOTEBOOK.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        sys.exit("usage: python tests/test_notebook.py --write")
