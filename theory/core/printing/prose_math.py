"""The maths inside ``$…$`` of the prose syntax (`theory.core.printing.prose`): tokens, then a tree.

The tree is what both renderers read (`prose_render`): an `Atom` is one symbol in both notations, `Scripts`
attaches sub- and superscripts, `Group` is a ``{…}`` group, `Call` a command with arguments (``\\frac``,
``\\sqrt``, fonts, accents), `TextArg` the text of ``\\text{…}`` or ``\\operatorname{…}``, `Delimited` a
``\\left … \\right`` pair.  Anything outside the vocabulary of `prose_tables` raises `ProseError`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from theory.core.printing import prose_tables as T

# Typst's own operator names (the rest go through op("…"))
_TYPST_OPS = set("ln log exp sin cos tan sinh cosh tanh arcsin arccos arctan max min sup inf lim liminf limsup det "
                 "dim ker arg deg gcd Pr tr".split())
_TYPST_ESCAPES = {",": "\\,", ";": "\\;", "/": "\\/", "*": "ast.op"}
_DELIMITER_COMMANDS = {"{", "}", "|", "langle", "rangle", "lfloor", "rfloor", "lceil", "rceil", "lvert", "rvert",
                       "lVert", "rVert", "vert", "Vert"}


class ProseError(ValueError):
    """Prose that is not in the syntax of `theory.core.printing.prose`."""


@dataclass(frozen=True)
class Atom:
    latex: str
    typst: str


@dataclass(frozen=True)
class Scripts:
    base: Node | None
    sub: tuple[Node, ...] | None
    sup: tuple[Node, ...] | None


@dataclass(frozen=True)
class Group:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Call:
    name: str  # frac, tfrac, dfrac, binom, sqrt, a font or an accent
    args: tuple[tuple[Node, ...], ...]
    option: tuple[Node, ...] | None = None  # the n of \sqrt[n]{…}


@dataclass(frozen=True)
class TextArg:
    name: str  # text, textrm or operatorname
    text: str


@dataclass(frozen=True)
class Delimited:
    left: Atom | None  # None for \left.
    items: tuple[Node, ...]
    right: Atom | None  # None for \right.


Node = Atom | Scripts | Group | Call | TextArg | Delimited


@dataclass(frozen=True)
class _Tok:
    kind: str  # cmd, letter, num, char, open, close, sub, sup, text
    value: str


def tokenize(source: str) -> list[_Tok]:
    """Tokens of a maths source; Unicode shorthands become the tokens of the LaTeX they stand for."""
    s = unicodedata.normalize("NFC", source)
    toks: list[_Tok] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            word = re.match(r"\\([A-Za-z]+)", s[i:])
            if word:
                toks.append(_Tok("cmd", word.group(1)))
                i += len(word.group(0))
                if word.group(1) in T.TEXT_ARGUMENT:
                    i = _text_argument(s, i, word.group(1), toks)
                continue
            if i + 1 < len(s) and s[i + 1] in ",;:!|{} ":
                toks.append(_Tok("cmd", s[i + 1]))
                i += 2
                continue
            raise ProseError(f"unknown command {s[i:i + 2]!r} in ${source}$")
        if c.isspace() and c not in T.UNICODE:
            i += 1
        elif c in "{}":
            toks.append(_Tok("open" if c == "{" else "close", c))
            i += 1
        elif c.isascii() and c.isalpha():
            toks.append(_Tok("letter", c))
            i += 1
        elif c.isascii() and c.isdigit():
            number = re.match(r"\d+(\.\d+)?", s[i:])
            assert number is not None
            toks.append(_Tok("num", number.group(0)))
            i += len(number.group(0))
        elif c in T.MATH_ASCII or c in "^_":
            toks.append(_Tok("char", c))
            i += 1
        elif c == "~":
            toks.append(_Tok("cmd", " "))
            i += 1
        elif c in T.SUPERSCRIPTS or c in T.SUBSCRIPTS:
            table, kind = (T.SUPERSCRIPTS, "sup") if c in T.SUPERSCRIPTS else (T.SUBSCRIPTS, "sub")
            j = i
            while j < len(s) and s[j] in table:
                j += 1
            toks.append(_Tok(kind, "".join(table[ch] for ch in s[i:j])))
            i = j
        elif c in T.UNICODE:
            toks.extend(tokenize(T.UNICODE[c]))
            i += 1
        else:
            toks[len(toks):] = _accented(c, toks, source)
            i += 1
    return toks


def _text_argument(s: str, i: int, name: str, toks: list[_Tok]) -> int:
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s) or s[i] != "{":
        raise ProseError(f"\\{name} needs a {{…}} argument in ${s}$")
    end = s.find("}", i)
    if end < 0 or "{" in s[i + 1 : end] or "\\" in s[i + 1 : end]:
        raise ProseError(f"\\{name}{{…}} takes plain text (no braces or commands) in ${s}$")
    toks.append(_Tok("text", s[i + 1 : end]))
    return end + 1


def _accented(c: str, toks: list[_Tok], source: str) -> list[_Tok]:
    parts = unicodedata.normalize("NFD", c)
    if len(parts) == 2 and parts[1] in T.COMBINING_ACCENTS:
        return [_Tok("cmd", T.COMBINING_ACCENTS[parts[1]]), *tokenize(parts[0])]
    if c in T.COMBINING_ACCENTS and toks:  # a letter followed by a combining accent: the accent goes first
        last = toks.pop()
        return [_Tok("cmd", T.COMBINING_ACCENTS[c]), last]
    raise ProseError(f"{c!r} (U+{ord(c):04X}) is not in the maths vocabulary, in ${source}$")


class MathParser:
    """Recursive descent over the tokens of one ``$…$``."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.toks = tokenize(source)
        self.i = 0

    def error(self, message: str) -> ProseError:
        return ProseError(f"{message} in ${self.source}$")

    def parse(self) -> tuple[Node, ...]:
        return tuple(self.sequence(None))

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise self.error("unexpected end")
        self.i += 1
        return tok

    def sequence(self, end: str | None) -> list[Node]:
        items: list[Node] = []
        while (tok := self.peek()) is not None:
            if tok.kind == "close":
                if end != "}":
                    raise self.error("unbalanced }")
                self.i += 1
                return items
            if tok.kind == "cmd" and tok.value == "right":
                if end != "right":
                    raise self.error("\\right without \\left")
                return items
            items.append(self.scripts(self.atom()))
        if end is not None:
            raise self.error("missing }" if end == "}" else "\\left without \\right")
        return items

    def atom(self) -> Node | None:
        tok = self.peek()
        assert tok is not None
        if tok.kind in ("sub", "sup") or (tok.kind == "char" and tok.value in "^_"):
            return None  # a script with no base
        self.i += 1
        if tok.kind == "open":
            return Group(tuple(self.sequence("}")))
        if tok.kind in ("letter", "num"):
            return Atom(tok.value, tok.value)
        if tok.kind == "char":
            return Atom(tok.value, _TYPST_ESCAPES.get(tok.value, tok.value))
        if tok.kind == "cmd":
            return self.command(tok.value)
        raise self.error(f"unexpected {tok.value!r}")

    def command(self, name: str) -> Node:
        if name in T.SYMBOLS:
            return Atom(*T.SYMBOLS[name])
        if name in T.OPERATORS or name in T.HOUSE_OPERATORS:
            latex = f"\\{name}" if name in T.OPERATORS else f"\\operatorname{{{name}}}"
            return Atom(latex, name if name in _TYPST_OPS else f'op("{name}")')
        if name in T.TWO_ARGUMENTS:
            return Call(name, (self.argument(name), self.argument(name)))
        if name == "sqrt":
            option = self.option()
            return Call(name, (self.argument(name),), option)
        if name in T.ONE_ARGUMENT:
            return Call(name, (self.argument(name),))
        if name in T.TEXT_ARGUMENT:
            return TextArg(name, self.next().value)
        if name == "left":
            left = self.delimiter()
            items = tuple(self.sequence("right"))
            self.next()  # \right
            return Delimited(left, items, self.delimiter())
        raise self.error(f"unknown command \\{name}")

    def argument(self, name: str) -> tuple[Node, ...]:
        tok = self.peek()
        if tok is None or tok.kind in ("close", "sub", "sup") or (tok.kind == "char" and tok.value in "^_"):
            raise self.error(f"\\{name} is missing an argument")
        if tok.kind == "open":
            self.i += 1
            return tuple(self.sequence("}"))
        node = self.atom()
        assert node is not None
        return (node,)

    def option(self) -> tuple[Node, ...] | None:
        tok = self.peek()
        if tok is None or tok != _Tok("char", "["):
            return None
        self.i += 1
        items: list[Node] = []
        while (tok := self.peek()) != _Tok("char", "]"):
            if tok is None:
                raise self.error("unclosed [ of \\sqrt")
            items.append(self.scripts(self.atom()))
        self.i += 1
        return tuple(items)

    def delimiter(self) -> Atom | None:
        tok = self.next()
        if tok == _Tok("char", "."):
            return None
        if tok.kind == "char" and tok.value in "()[]|":
            return Atom(tok.value, tok.value)
        if tok.kind == "cmd" and tok.value in _DELIMITER_COMMANDS:
            return Atom(*T.SYMBOLS[tok.value])
        raise self.error(f"{tok.value!r} is not a delimiter for \\left/\\right")

    def scripts(self, base: Node | None) -> Node:
        sub: tuple[Node, ...] | None = None
        sup: tuple[Node, ...] | None = None
        while (tok := self.peek()) is not None:
            if tok.kind == "char" and tok.value in "^_":
                self.i += 1
                which, content = ("sup" if tok.value == "^" else "sub"), self.argument(tok.value)
            elif tok.kind in ("sub", "sup"):
                self.i += 1
                which, content = tok.kind, MathParser(tok.value).parse()
            else:
                break
            if (sup if which == "sup" else sub) is not None:
                raise self.error(f"double {'superscript' if which == 'sup' else 'subscript'}")
            if which == "sup":
                sup = content
            else:
                sub = content
        if sub is None and sup is None:
            assert base is not None
            return base
        return Scripts(base, sub, sup)
