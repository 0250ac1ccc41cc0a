"""Text I/O names its encoding: in an ASCII locale (LANG=C) the default would be ASCII, and hfx reads and
writes UTF-8 (its C++ source, documents, git output).  A class test over the package's own source, so that
a new `read_text()` or `open(path)` without an encoding fails here rather than on a user's terminal."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hfx", "numerics", "theory")
TEXT_CALLS = {"read_text", "write_text", "open"}  # Path methods and the builtin


def _missing_encoding(tree: ast.AST) -> list[int]:
    """Lines of text-mode calls without `encoding=` (binary modes and os.open are fine)."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name not in TEXT_CALLS or (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                                      and func.value.id == "os"):
            continue
        if isinstance(func, ast.Attribute) and name == "write_text" and len(node.args) == 2:
            continue  # hfx.output.OutputFolder.write_text(name, text): writes UTF-8 itself
        mode = next((a for a in node.args[1:2] if isinstance(a, ast.Constant)), None) if name == "open" else None
        mode = mode or next((k.value for k in node.keywords if k.arg == "mode"), None)
        if isinstance(mode, ast.Constant) and "b" in str(mode.value):
            continue
        if name == "open" and isinstance(func, ast.Attribute) and not node.args and not node.keywords:
            continue  # a method named open() of some object, not file I/O
        if not any(k.arg == "encoding" for k in node.keywords):
            lines.append(node.lineno)
    return lines


def test_every_text_read_and_write_names_its_encoding() -> None:
    missing = {str(p.relative_to(ROOT)): lines for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
               if (lines := _missing_encoding(ast.parse(p.read_text(encoding="utf-8"))))}
    assert not missing, f"text I/O without encoding= (breaks under LANG=C): {missing}"


def test_the_scan_finds_a_call_without_encoding() -> None:
    tree = ast.parse("from pathlib import Path\nPath('a').read_text()\nopen('b')\nopen('c', 'rb')\n"
                     "Path('d').read_text(encoding='utf-8')\nimport os\nos.open('e', 0)\n")
    assert _missing_encoding(tree) == [2, 3]
