"""The one JSON and the one CSV encoding of hfx's records, for files (`hfx.output`) and for stdout (`--json`).

JSON: UTF-8, indented by 2, keys in the order given, finite numbers only: a non-finite float (the loss of a
diverged run, an overflowed closed form) becomes `null`; the record's status says why.  NumPy and PyTorch
scalars and arrays become numbers and lists, tuples lists, enums their values, dataclasses objects.

CSV: one row per record, the union of the records' keys as columns in first-seen order; `None` and non-finite
floats are empty cells; lists, tuples and dicts are JSON-encoded (`[0.1, 0.2]`, the same rules); booleans are
`True`/`False` (docs/experiments.md).

Pure: nothing here writes anywhere.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import json
import math
from collections.abc import Iterable, Mapping


def jsonable(obj: object) -> object:
    """`obj` as plain JSON values, by the rules of the module docstring.

    TypeError for any other type: a record the writer does not know is a bug, not data.
    """
    if isinstance(obj, enum.Enum):
        return jsonable(obj.value)
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {_key(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    tolist = getattr(obj, "tolist", None)  # numpy / torch scalars and arrays, without importing either
    if callable(tolist):
        return jsonable(tolist())
    raise TypeError(f"cannot write a {type(obj).__name__} as JSON")


def _key(key: object) -> str:
    if isinstance(key, enum.Enum):
        key = key.value
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise TypeError(f"cannot write a {type(key).__name__} as a JSON key")


def json_text(obj: object, *, indent: int | None = 2, ascii_only: bool = False) -> str:
    """The JSON encoding of the module docstring; indented documents end with a newline, compact ones do not.

    `ascii_only` escapes every non-ASCII character (`\\u2265`), for a terminal that cannot show it.
    """
    separators = (",", ":") if indent is None else None
    text = json.dumps(jsonable(obj), indent=indent, ensure_ascii=ascii_only, allow_nan=False, separators=separators)
    return text if indent is None else text + "\n"


def _cell(value: object) -> object:
    kind = type(value)
    if kind is str or kind is int or kind is bool:  # the common cells, without the general walk
        return value
    if kind is float:
        return value if math.isfinite(value) else ""  # type: ignore[arg-type]
    plain = jsonable(value)
    if plain is None:
        return ""
    if isinstance(plain, (list, dict)):
        return json.dumps(plain, allow_nan=False)  # json's default form, as runs.csv has always had it
    return plain


def csv_text(rows: Iterable[Mapping[str, object]]) -> str:
    """The CSV encoding of the module docstring (a header only when there are no rows)."""
    import csv

    rows = list(rows)
    columns = list(dict.fromkeys(str(k) for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    if all(all(type(k) is str for k in row) for row in rows):  # the common case: keys are the column names
        writer.writerows([_cell(row[c]) if c in row else "" for c in columns] for row in rows)
    else:
        cells = [{str(k): v for k, v in row.items()} for row in rows]
        writer.writerows([_cell(row[c]) if c in row else "" for c in columns] for row in cells)
    return buffer.getvalue()


def parse_json(text: str | bytes) -> object:
    """`json.loads`, with a document nested too deeply for Python's recursion (a hand-edited or hostile file:
    `[[[[…`) reported as the ValueError of any other malformed document, not as a RecursionError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
