"""Fuzzing the command line, the themes: structural mutations of a parsed
theme (wrong types, missing and unknown keys, deep nesting, `extends` out of
the folder, jinja constructs in the prompt templates) written back with a small
TOML writer, and text mutations that often leave TOML behind."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from support.fuzz import SPECIAL_CHARS, THEME_SEEDS, mutate_bytes, mutate_lines

# ------------------------------------------------------------------- themes

JINJA_SNIPPETS = (
    """\
{{ ''.__class__.__mro__[1].__subclasses__() }}
{{ description.__class__.__init__.__globals__ }}
{{ cycler.__init__.__globals__.os.popen('id').read() }}
{{ self._TemplateReference__context }}
{{ config }}{{ request }}
{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}
{{ 'x' * 1000000000 }}
{{ 9 ** 9 ** 9 }}
{{ (10 ** 100000) }}
{{ description * 100000000 }}
{{ description|center(1000000000) }}
{{ '%*s'|format(1000000000, 'x') }}
{{ lipsum(100000) }}
{{ range(1000000000)|list }}
{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}
{% include 'other.toml' %}
{% extends '/etc/passwd' %}
{% import 'x' as y %}
{{ undefined_variable }}
{{ items[99999] }}
{% if %}
{{
{% for %}
{% raw %}
{#
{{ description|attr('__class__') }}
{{ namespace(a=1).__dict__ }}
{% set x = [] %}{% for i in range(100000) %}{{ x.append(x) }}{% endfor %}
{{ ((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))) }}""".splitlines()
    + [
        "{{ " + "(" * 500 + "1" + ")" * 500 + " }}",
        "{{ " + "[" * 500 + "]" * 500 + " }}",
    ]
)
LENGTHS = (
    [""]
    + """\
0
-1pt
1e308pt
1e999in
nanpt
infmm
99999999999in
0.0000001pt
1x1in
0x0mm
99999999x99999999in
1e308x1e308pt
12
pt
#zzzzzz
#fff
none
../outside/victim.txt
/dev/zero
classic
theme.toml
base.toml
Kalam
Does Not Exist""".splitlines()
)
Toml = dict[str, Any]


@dataclass(frozen=True)
class Deep:
    """A list nested ``depth`` deep, written out without recursion."""

    depth: int


def _toml_values(draw: st.DrawFn) -> object:
    """A replacement value of any TOML type, often a wrong one."""
    kind = draw(
        st.sampled_from(["len", "int", "float", "bool", "text", "list", "table", "deep", "jinja"])
    )
    if kind == "len":
        return draw(st.sampled_from(LENGTHS))
    if kind == "int":
        return draw(st.sampled_from([0, -1, 1, 2**63 - 1, -(2**63), 10**30, 10**400]))
    if kind == "float":
        return draw(st.sampled_from([0.0, -0.0, 1e308, -1e308, float("nan"), float("inf"), 1e-320]))
    if kind == "bool":
        return draw(st.booleans())
    if kind == "text":
        return draw(st.text(st.sampled_from(SPECIAL_CHARS) | st.characters(), max_size=30))
    if kind == "list":
        return draw(st.lists(st.sampled_from(LENGTHS + [1, 2.5, True]), max_size=6))
    if kind == "table":
        return {draw(st.sampled_from(["family", "size", "x", "trim", "0"])): 1}
    if kind == "deep":
        return Deep(draw(st.integers(10, 3_000)))
    return draw(st.sampled_from(JINJA_SNIPPETS))


def _leaves(doc: Toml, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for key, value in doc.items():
        out.append(prefix + (key,))
        if isinstance(value, dict):
            out.extend(_leaves(value, prefix + (key,)))
    return out


def _mutate_theme(draw: st.DrawFn, doc: Toml) -> None:
    """One structural mutation of a parsed theme, in place."""
    paths = _leaves(doc)
    path = paths[draw(st.integers(0, len(paths) - 1))] if paths else ("name",)
    parent: Toml = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    op = draw(st.sampled_from(["replace", "delete", "add", "jinja", "extends", "table"]))
    if op == "replace":
        parent[last] = _toml_values(draw)
    elif op == "delete":
        parent.pop(last, None)
    elif op == "add":
        parent[draw(st.sampled_from(["colour", "x", "", "fonts", "extends", "0"]))] = _toml_values(
            draw
        )
    elif op == "jinja":
        prompt = doc.setdefault("prompt", {})
        if not isinstance(prompt, dict):
            prompt = doc["prompt"] = {}
        key = draw(st.sampled_from(["template", "character", "negative"]))
        old = prompt.get(key, "")
        old = old if isinstance(old, str) else ""
        at = draw(st.integers(0, len(old)))
        prompt[key] = old[:at] + draw(st.sampled_from(JINJA_SNIPPETS)) + old[at:]
    elif op == "extends":
        doc["extends"] = draw(
            st.sampled_from(
                [
                    "theme.toml",
                    "base.toml",
                    "../outside/victim.txt",
                    "/dev/zero",
                    "/proc/self/environ",
                    "",
                    "x",
                ]
                + ["classic", "manga", "noir", "./theme.toml", "base"]
            )
        )
    else:  # a table where a value was, or a value where a table was
        parent[last] = 1 if isinstance(parent.get(last), dict) else {"x": parent.get(last, 1)}


def _toml_key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else _toml_str(key)


def _toml_str(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    return out.replace("\x7f", "\\u007f")


def _toml_value(v: object) -> str:
    if isinstance(v, Deep):
        return "[" * v.depth + "1" + "]" * v.depth
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def dump_toml(doc: Toml, prefix: tuple[str, ...] = ()) -> str:
    """A small TOML writer (enough for themes, including wrong ones)."""
    flat = [(k, v) for k, v in doc.items() if not isinstance(v, dict)]
    tables = [(k, v) for k, v in doc.items() if isinstance(v, dict)]
    out = [f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in flat]
    for key, table in tables:
        name = prefix + (key,)
        out.append("\n[" + ".".join(_toml_key(k) for k in name) + "]\n")
        out.append(dump_toml(table, name))
    return "".join(out)


@st.composite
def themes(draw: st.DrawFn) -> bytes:
    """A shipped theme, mutated: mostly structurally (still TOML), sometimes
    as text (often not TOML any more)."""
    text = THEME_SEEDS[draw(st.sampled_from(sorted(THEME_SEEDS)))]
    if draw(st.integers(0, 3)) == 0:
        lines = text.split("\n")
        for _ in range(draw(st.integers(1, 3))):
            lines = mutate_lines(draw, lines)
        return mutate_bytes(draw, "\n".join(lines).encode("utf-8", "surrogatepass"))
    doc = tomllib.loads(text)
    for _ in range(draw(st.integers(1, 4))):
        _mutate_theme(draw, doc)
    return dump_toml(doc).encode("utf-8", "surrogatepass")


def with_theme(script: str, theme: str = "theme.toml") -> str:
    """``script`` with its header's ``theme:`` set to ``theme``."""
    lines = [ln for ln in script.split("\n") if not ln.startswith("theme:")]
    return "\n".join([lines[0], f"theme: {theme}", *lines[1:]])
