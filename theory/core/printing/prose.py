r"""The prose syntax of derivations: plain text, inline maths ``$…$``, citations ``[@key, locator]``.

Titles, statements, conclusions, step reasons and assumptions are written in it; both engines typeset it
(`theory.core.printing.prose_render`), and anything else is an error (`ProseError`), never raw markup on a page:

- **Plain text**: letters, digits, spaces, ``! # % & ' ( ) , - . / : ; ? @ [ ]``, accented Latin letters and
  typographic punctuation (– — ‘ ’ “ ” … §).  Mathematics, including a lone symbol such as σ, ≤ or ×, goes
  inside ``$…$``; ``\$`` is a literal dollar sign.
- **Maths** ``$…$``: a LaTeX subset — letters (each one a variable), numbers, ``+ - = < > ( ) [ ] , ; : ! ' / |``,
  ``^`` and ``_`` with one token or a ``{group}``, ``\frac{a}{b}``, ``\sqrt{x}``, ``\sqrt[n]{x}``, ``\binom{n}{k}``,
  ``\left( … \right)``, fonts (``\mathrm \mathbb \mathcal \mathbf \text \operatorname``), accents (``\hat \bar
  \tilde \dot \ddot \vec \overline``), Greek letters, relations, operators and symbols
  (`prose_tables.SYMBOLS`), operator names (``\ln \log \exp \max \min \lim \det`` …, and the house ``\tr
  \rank \diag \sgn \erf \relu``), big operators ``\sum \prod \int``, spacing ``\, \; \quad``.  Unicode is
  a shorthand for the command it stands for: ``$W₂σ(W₁x) ∈ ℝⁿ$`` is ``$W_2\sigma(W_1x) \in \mathbb{R}^n$``.
- **Citations** ``[@key]``, ``[@key, Eq. (1)]``, ``[@a; @b, §3.1]``: keys of ``references.bib``, each with an
  optional locator (plain text and maths).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from theory.core.printing import prose_tables as T
from theory.core.printing.prose_math import (
    Atom,
    Call,
    Delimited,
    Group,
    MathParser,
    Node,
    ProseError,
    Scripts,
    TextArg,
)

__all__ = [
    "Atom",
    "Call",
    "Citation",
    "CiteItem",
    "Delimited",
    "Group",
    "Math",
    "Node",
    "ProseError",
    "Scripts",
    "Segment",
    "Text",
    "TextArg",
    "citation_keys",
    "parse",
    "parse_citation",
    "parse_math", "walk_math",
]


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Math:
    items: tuple[Node, ...]
    source: str


@dataclass(frozen=True)
class CiteItem:
    key: str
    locator: tuple[Text | Math, ...]


@dataclass(frozen=True)
class Citation:
    items: tuple[CiteItem, ...]


Segment = Text | Math | Citation
_KEY = re.compile(r"@([A-Za-z][A-Za-z0-9_:.\-]*[A-Za-z0-9])")


def parse(text: str, citations: bool = True) -> tuple[Segment, ...]:
    """The segments of a prose string; `ProseError` names the first thing outside the syntax."""
    out: list[Segment] = []
    plain: list[str] = []
    i = 0

    def flush() -> None:
        if plain:
            out.append(Text("".join(plain)))
            plain.clear()

    while i < len(text):
        c = text[i]
        if text.startswith("\\$", i):
            plain.append("$")
            i += 2
        elif c == "$":
            end = _closing_dollar(text, i + 1)
            if end < 0:
                raise ProseError(f"unclosed $ in {text!r}")
            flush()
            out.append(Math(parse_math(text[i + 1 : end]), text[i + 1 : end]))
            i = end + 1
        elif citations and text.startswith("[@", i):
            end = _closing_bracket(text, i)
            flush()
            out.append(parse_citation(text[i + 1 : end]))
            i = end + 1
        else:
            _check_text_char(c, text)
            plain.append(c)
            i += 1
    flush()
    return tuple(out)


def parse_citation(text: str) -> Citation:
    """``@key, locator; @key2`` (without the brackets) as a `Citation`."""
    items = []
    for part in _split_outside_math(text, ";"):
        match = _KEY.match(part.strip())
        if not match:
            raise ProseError(f"a citation is @key or @key, locator (got {part.strip()!r})")
        rest = part.strip()[match.end() :].strip()
        if rest and not rest.startswith(","):
            raise ProseError(f"after @{match.group(1)} comes ', locator' (got {rest!r})")
        locator = parse(rest[1:].strip(), citations=False) if rest else ()
        items.append(CiteItem(match.group(1), tuple(s for s in locator if not isinstance(s, Citation))))
    return Citation(tuple(items))


def citation_keys(segments: tuple[Segment, ...]) -> list[str]:
    return [item.key for s in segments if isinstance(s, Citation) for item in s.items]


def _closing_dollar(text: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "$":
            return i
        i += 1
    return -1


def _closing_bracket(text: str, start: int) -> int:
    depth, i = 0, start
    while i < len(text):
        if text[i] == "$":
            i = _closing_dollar(text, i + 1)
            if i < 0:
                break
        elif text[i] == "[":
            depth += 1
        elif text[i] == "]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ProseError(f"unclosed citation [@… in {text!r}")


def _split_outside_math(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    in_math = False
    for c in text:
        if c == "$":
            in_math = not in_math
        if c == sep and not in_math:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
    parts.append("".join(current))
    return parts


def _check_text_char(c: str, text: str) -> None:
    if c in T.TEXT_ASCII_FORBIDDEN:
        raise ProseError(f"{c!r} outside maths in {text!r}: write mathematics inside $…$ (a literal $ is \\$)")
    if ord(c) < 128:
        if c.isprintable() or c == " ":
            return
        raise ProseError(f"control character {c!r} in {text!r}")
    if c in T.TEXT_UNICODE_OK or (unicodedata.name(c, "").startswith("LATIN") and c not in T.SUBSCRIPTS):
        return
    raise ProseError(f"{c!r} (U+{ord(c):04X}) outside maths in {text!r}: write it inside $…$")


def parse_math(source: str) -> tuple[Node, ...]:
    """The nodes of a maths source (the text between the dollars)."""
    return MathParser(source).parse()


def walk_math(items: tuple[Node, ...]) -> Iterator[Node]:
    """Every node of a maths tree, depth first."""
    for n in items:
        yield n
        if isinstance(n, Scripts):
            yield from walk_math(tuple(x for x in (n.base,) if x is not None))
            yield from walk_math(n.sub or ())
            yield from walk_math(n.sup or ())
        elif isinstance(n, Group | Delimited):
            yield from walk_math(n.items)
        elif isinstance(n, Call):
            for a in n.args:
                yield from walk_math(a)
            yield from walk_math(n.option or ())
