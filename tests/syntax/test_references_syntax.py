"""A character's indented ``ref:`` / ``lora:`` lines: what the parser makes of
them (values, spans, comments) and that ``comicc fmt`` keeps them (property
tests over generated character blocks)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from comicc.diagnostics import Sink
from comicc.source import SourceFile
from comicc.syntax import ast, format_script, parse

SCRIPT = """title: Refs
character HAMMY: a chubby golden hamster
    ref:   refs/hammy.png
  # lora: hammy-old:1
  lora: hammy-v2:0.8
character OFFICER BRUIN: a bear
snippet ink: inks

PAGE 1

PANEL 1
HAMMY looks.
"""


def _parse(text: str) -> ast.Script:
    sink = Sink()
    tree = parse(SourceFile.from_text(text, "refs.comic"), sink)
    assert tree is not None and not sink.diagnostics, [d.message for d in sink.diagnostics]
    return tree


def _characters(tree: ast.Script) -> list[ast.CharacterDef]:
    return [n for n in tree.header if isinstance(n, ast.CharacterDef)]


def test_indented_lines_belong_to_the_character_with_their_spans():
    src = SourceFile.from_text(SCRIPT, "refs.comic")
    tree = _parse(SCRIPT)
    hammy, bruin = _characters(tree)
    assert bruin.attrs == ()
    ref, comment, lora = hammy.attrs
    assert isinstance(ref, ast.CharacterAttr) and isinstance(lora, ast.CharacterAttr)
    assert (ref.key, ref.value) == ("ref", "refs/hammy.png")
    assert (lora.key, lora.value) == ("lora", "hammy-v2:0.8")
    assert isinstance(comment, ast.Comment) and comment.text == "# lora: hammy-old:1"
    # spans: the value of `ref:` at line 3, column 12; the definition covers its lines
    assert (ref.value_span.line, ref.value_span.col) == (3, 12)
    assert src.text[ref.value_span.start : ref.value_span.end] == "refs/hammy.png"
    assert src.text[lora.key_span.start : lora.key_span.end] == "lora"
    assert (hammy.span.line, hammy.span.end_line) == (2, 5)
    assert hammy.name_span.line == 2


def test_fmt_writes_them_indented_two_spaces():
    out = format_script(_parse(SCRIPT))
    assert "character HAMMY: a chubby golden hamster\n  ref: refs/hammy.png\n" in out
    assert "  # lora: hammy-old:1\n  lora: hammy-v2:0.8\ncharacter OFFICER BRUIN" in out


def test_a_blank_line_ends_the_character_block():
    text = SCRIPT.replace("  lora: hammy-v2:0.8\n", "\n  lora: hammy-v2:0.8\n")
    sink = Sink()
    tree = parse(SourceFile.from_text(text, "refs.comic"), sink)
    # after a blank line `lora:` is a setting of the header, not HAMMY's
    assert tree is not None
    hammy = _characters(tree)[0]
    assert [a.key for a in hammy.attrs if isinstance(a, ast.CharacterAttr)] == ["ref"]
    assert any(isinstance(n, ast.Setting) and n.key == "lora" for n in tree.header)


# ------------------------------------------------------------------ properties
_indent = st.text(alphabet=" \t", min_size=1, max_size=4)
_key = st.sampled_from(["ref", "lora", "refs", "image", "x-y"])
_value = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\n\r"
    ),
    max_size=30,
)
_space = st.text(alphabet=" \t", max_size=3)


@st.composite
def _attr_line(draw: st.DrawFn) -> str:
    indent = draw(_indent)
    if draw(st.booleans()):
        return f"{indent}# {draw(_value)}"
    return f"{indent}{draw(_key)}{draw(_space)}:{draw(_space)}{draw(_value)}"


@st.composite
def _character_block(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(["HAMMY", "OFFICER BRUIN", "R2-D2", "MR. SMITH"]))
    lines = [f"character {name}: {draw(st.sampled_from(['a hamster', 'a bear', '']))}"]
    lines += draw(st.lists(_attr_line(), max_size=5))
    return "\n".join(lines)


@st.composite
def _scripts(draw: st.DrawFn) -> str:
    blocks = draw(st.lists(_character_block(), min_size=1, max_size=3))
    return "title: T\n" + "\n".join(blocks) + "\n\nPAGE 1\n\nPANEL 1\nHAMMY looks.\n"


@given(_scripts())
def test_fmt_keeps_character_lines(text):
    tree = _parse(text)
    formatted = format_script(tree)
    assert _parse(formatted) == tree
    assert format_script(_parse(formatted)) == formatted


@given(_scripts())
def test_every_indented_line_is_kept_in_order(text):
    tree = _parse(text)
    written = [ln for ln in text.splitlines() if ln[:1] in (" ", "\t")]
    attrs = [a for c in _characters(tree) for a in c.attrs]
    assert len(attrs) == len(written)
    for attr, line in zip(attrs, written, strict=True):
        if isinstance(attr, ast.CharacterAttr):
            key, _, value = line.strip().partition(":")
            assert (attr.key, attr.value) == (key.strip(), value.strip())
        else:
            assert attr.text == line.strip()
