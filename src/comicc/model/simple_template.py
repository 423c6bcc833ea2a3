"""Prompt templates of the simplest shape, rendered without jinja2.

Every shipped theme writes its prompt templates with nothing but text,
``{{ name }}`` and ``{% for x in list %}…{% endfor %}`` (with jinja2's
whitespace control, ``-``). Loading jinja2, compiling the templates and
running them in the sandbox (:mod:`comicc.model.sandbox`) costs more than the
rest of checking a short script, so a template of exactly that shape is read
here and rendered by :meth:`SimpleTemplate.render`, which gives the very
string jinja2 gives, under the same settings as
:class:`~comicc.model.sandbox.PromptEnvironment` (``trim_blocks``,
``lstrip_blocks``, no trailing newline kept, undefined names an error).

Anything else (another tag, an expression, a filter, ``\\r``, a value that is
not a string or a whole number, a loop over something that is not a list, a
prompt near a limit) is not handled here: :func:`parse_simple` answers None,
or :meth:`SimpleTemplate.render` does, and the caller runs jinja2 as before,
so its messages and limits stay exactly jinja2's.
"""

from __future__ import annotations

import re
from typing import Any

MAX_PROMPT_CHARS = 64 * 1024  # a prompt, and any string or list built on the way
MAX_LOOP_STEPS = 10_000  # loop steps per render, all loops together


class TemplateLimit(Exception):
    """A prompt template went past one of the limits of the sandbox."""


_NAME = r"[A-Za-z][A-Za-z0-9_]*"
# the first place jinja2 sees a tag (a variable, a block or a comment)
_TAG_START = re.compile(r"\{[{%#]")
_VARIABLE = re.compile(rf"\{{\{{(-?)\s*({_NAME})\s*(?:(-)\}}\}}\s*|\}}\}})", re.S)
_FOR = re.compile(rf"\{{%(-?)\s*for\s+({_NAME})\s+in\s+({_NAME})\s*(?:(-)%\}}\s*|%\}}\n?)", re.S)
_ENDFOR = re.compile(r"\{%(-?)\s*endfor\s*(?:(-)%\}\s*|%\}\n?)", re.S)
_WHITESPACE = re.compile(r"\s+")
# names that are no plain variable in jinja2 (constants, operators, tags,
# the loop object, the sandbox's globals)
_RESERVED = frozenset(
    "true false none True False None and or not in is if else elif for endfor "
    "loop range recursive self caller varargs kwargs super block endblock set".split()
)


class _Var:
    """``{{ name }}``."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class _For:
    """``{% for target in iterable %}body{% endfor %}``."""

    __slots__ = ("body", "iterable", "target")

    def __init__(self, target: str, iterable: str, body: tuple[_Piece, ...]):
        self.target = target
        self.iterable = iterable
        self.body = body


_Piece = str | _Var | _For


class SimpleTemplate:
    """A template of text, ``{{ name }}`` and ``for`` loops, parsed."""

    __slots__ = ("body", "variables")

    def __init__(self, body: tuple[_Piece, ...], variables: frozenset[str]):
        self.body = body
        self.variables = variables  # the names it reads from its context

    def render(self, context: dict[str, Any]) -> str | None:
        """What jinja2 renders from ``context``; None when this cannot be sure
        (then jinja2 renders it, with its own errors and limits)."""
        out: list[str] = []
        steps = [MAX_LOOP_STEPS]
        if not _render(self.body, context, out, steps):
            return None
        text = "".join(out)
        return text if len(text) <= MAX_PROMPT_CHARS else None


def _render(
    body: tuple[_Piece, ...], scope: dict[str, Any], out: list[str], steps: list[int]
) -> bool:
    for piece in body:
        if type(piece) is str:
            out.append(piece)
        elif type(piece) is _Var:
            if piece.name not in scope:
                return False
            value = scope[piece.name]
            if type(value) is not str and type(value) is not int:
                return False
            out.append(str(value))
        else:
            assert type(piece) is _For
            if piece.iterable not in scope:
                return False
            seq = scope[piece.iterable]
            if type(seq) is not list and type(seq) is not tuple:
                return False
            steps[0] -= len(seq)
            if steps[0] < 0:
                return False
            inner = dict(scope)
            for item in seq:
                inner[piece.target] = item
                if not _render(piece.body, inner, out, steps):
                    return False
    return True


def parse_simple(text: str) -> SimpleTemplate | None:
    """``text`` as a :class:`SimpleTemplate`, or None when it is not of that shape."""
    if "\r" in text:
        return None
    if text.endswith("\n"):  # jinja2 drops one trailing newline
        text = text[:-1]
    # (pieces of the body being read, loop target, loop iterable) per open loop
    stack: list[tuple[list[_Piece], str, str]] = [([], "", "")]
    names: set[str] = set()
    pos = 0
    line_starting = True
    while True:
        m = _TAG_START.search(text, pos)
        if m is None:
            if pos < len(text):
                stack[-1][0].append(text[pos:])
            break
        at = m.start()
        data = text[pos:at]
        var = _VARIABLE.match(text, at)
        block = None if var else (_FOR.match(text, at) or _ENDFOR.match(text, at))
        tag = var or block
        if tag is None:
            return None
        if tag.group(1) == "-":
            data = data.rstrip()
        elif block is not None:  # lstrip_blocks: a block tag alone on its line
            l_pos = data.rfind("\n") + 1
            if (l_pos > 0 or line_starting) and _WHITESPACE.fullmatch(data, l_pos):
                data = data[:l_pos]
        if data:
            stack[-1][0].append(data)
        bound = {target for _, target, _ in stack[1:]}
        if var is not None:
            name = var.group(2)
            if name in _RESERVED:
                return None
            if name not in bound:
                names.add(name)
            stack[-1][0].append(_Var(name))
        elif tag.re is _FOR:
            target, iterable = tag.group(2), tag.group(3)
            if target in _RESERVED or iterable in _RESERVED:
                return None
            if iterable not in bound:
                names.add(iterable)
            stack.append(([], target, iterable))
        else:
            if len(stack) == 1:
                return None
            body, target, iterable = stack.pop()
            stack[-1][0].append(_For(target, iterable, tuple(body)))
        pos = tag.end()
        line_starting = text[pos - 1 : pos] == "\n"
    if len(stack) != 1:
        return None
    return SimpleTemplate(tuple(stack[0][0]), frozenset(names))
