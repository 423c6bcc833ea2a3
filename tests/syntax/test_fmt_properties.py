"""Property tests: the formatter never changes meaning and is idempotent;
the checker never crashes, whatever the input."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from comicc.diagnostics import Sink
from comicc.pipeline import check_source
from comicc.source import SourceFile
from comicc.syntax import format_script, parse
from support.strategies import scripts


def _parse(text: str):
    sink = Sink()
    tree = parse(SourceFile.from_text(text, "gen.comic"), sink)
    assert tree is not None, [d.message for d in sink.diagnostics]
    return tree


def _lower(text: str):
    sink = Sink()
    res = check_source(SourceFile.from_text(text, "gen.comic"), sink)
    return res.script if res else None, sorted((d.code, d.severity.value) for d in sink.diagnostics)


@given(scripts())
def test_fmt_preserves_the_tree(text):
    tree = _parse(text)
    formatted = format_script(tree)
    assert _parse(formatted) == tree


@given(scripts())
def test_fmt_is_idempotent(text):
    once = format_script(_parse(text))
    assert format_script(_parse(once)) == once


@given(scripts())
def test_fmt_preserves_meaning(text):
    before = _lower(text)
    after = _lower(format_script(_parse(text)))
    assert after == before


@given(scripts())
def test_generated_scripts_are_valid(text):
    script, diags = _lower(text)
    errors = [d for d in diags if d[1] == "error"]
    assert script is not None and not errors, diags


def _check_never_raises(text: str) -> None:
    sink = Sink()
    check_source(SourceFile.from_text(text, "fuzz.comic"), sink)
    for d in sink.diagnostics:
        assert d.code and d.message
        if d.span is not None:
            assert d.span.line >= 1 and d.span.col >= 1


@given(st.text(max_size=400))
def test_check_survives_arbitrary_text(text):
    _check_never_raises(text)


@given(st.text(alphabet=st.sampled_from(list("PAGENL 1234()-:#*/[]\n\t.,@'ABCxyz")), max_size=300))
def test_check_survives_script_like_noise(text):
    _check_never_raises(text)


@given(scripts(), st.randoms(use_true_random=False), st.integers(1, 6))
def test_check_survives_mutations(text, rnd: random.Random, n):
    lines = text.split("\n")
    for _ in range(n):
        op = rnd.choice(["delete", "duplicate", "swap", "bytes", "truncate", "indent"])
        i = rnd.randrange(len(lines))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "bytes":
            pos = rnd.randrange(len(lines[i]) + 1)
            junk = "".join(
                chr(rnd.choice([0, 7, 27, 0x2028, 0xFEFF, 0xD7FF, 42, 40, 41, 58, 64, 35]))
                for _ in range(rnd.randint(1, 4))
            )
            lines[i] = lines[i][:pos] + junk + lines[i][pos:]
        elif op == "truncate":
            lines[i] = lines[i][: rnd.randrange(len(lines[i]) + 1)]
        else:
            lines[i] = "  " + lines[i]
    _check_never_raises("\n".join(lines))
