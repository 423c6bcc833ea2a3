"""Loading the Lark grammar: one cached LALR(1) parser per process."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import lark

from comicc.resources import grammar_path

# Human names for the grammar's terminals, used in "expected ..." messages.
TERMINAL_NAMES = {
    "NUMBER": "a number (`3` or `THREE`)",
    "HEAD_NOTE": "a note in parentheses",
    "_DASH": "`-` (a spread: PAGES 4-5)",
    "CHAR_NAME": "a character name in CAPS (e.g. `HAMMY`, `MR. SMITH`)",
    "SNIPPET_NAME": "a snippet name in lower case (e.g. `moonlight`)",
    "_COLON": "`:`",
    "TEXT": "text",
    "MOD": "a modifier such as `WHISPER` or `OFF`",
    "_LPAR": "`(`",
    "_RPAR": "`)`",
    "_COMMA": "`,`",
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "CUE": "a speaker in CAPS",
    "KEY": "a setting such as `seed:`",
    "ITEM": "an indented list item (`  - ...`)",
    "CONT": "an indented continuation line",
}


@functools.lru_cache(maxsize=1)
def parser() -> lark.Lark:
    """The parser of ``grammar/comic.lark``, built once."""
    return lark.Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=False,
        maybe_placeholders=False,
        cache=False,
    )


def describe_expected(names: Iterable[str]) -> list[str]:
    """Human descriptions of the terminals a parser expected, for messages."""
    out = []
    for n in sorted(set(names)):
        if n.startswith("_") and n not in TERMINAL_NAMES:
            continue
        desc = TERMINAL_NAMES.get(n)
        if desc and desc not in out:
            out.append(desc)
    return out
