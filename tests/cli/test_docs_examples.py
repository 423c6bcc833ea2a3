"""Every script the writers' documentation shows must pass `comicc check`.

Three sources of code blocks are checked:

* ``docs/language.md`` (the writers' guide). Every block fenced as
  ```` ```comic ```` is a COMPLETE script and must check with no errors and no
  warnings, as it is. Blocks fenced as ```` ```text ```` are schematic
  (command lines, prompt output, the line schema) and are not checked.
* ``examples/*.comic``: every example must check with no errors and no
  warnings (what ``comicc check --strict`` requires) and must be unchanged by
  ``comicc fmt`` (``fmt --check`` passes).
* The product specification, ``shared/spec/language.md`` next to the
  repository (``Path(__file__).parents[2] / "shared/spec/language.md"``);
  these tests are skipped where that file is absent. The spec's blocks are a
  mix of complete scripts and fragments, so each is classified:

  - **complete** (it contains a ``PAGE`` heading and a ``PANEL`` heading):
    checked as it is;
  - **schematic** (it contains ``<`` placeholders such as ``PAGE <n>`` or
    ``<header: ...>``, or is the ``[<n>[.]] CUE ...`` lettering schema):
    skipped. An arrow annotation like ``# - dutch angle  <- switched off``
    is not a placeholder (it sits in a comment), so that block is checked;
  - **header fragment** (only ``character`` / ``snippet`` definitions): it
    gets a ``title:`` in front and ``PAGE 1`` / ``PANEL 1`` / a one-line
    description appended;
  - **panel fragment** (starts with ``PANEL n``): a harness header is put in
    front (see below), then ``PAGE 1`` and panels ``1 .. n-1`` with a
    one-line description each, so the fragment's panel number is the next
    one; a fragment whose panel holds only settings also gets a one-line
    description;
  - **page fragment** (starts with ``PAGE n``): the harness header, pages
    ``1 .. n-1`` with one panel each, then the fragment, then as many
    one-line panels as its ``layout:`` holds (one if it has none);
  - **bare settings** (no heading at all, e.g. the ``cast:`` and ``mask:``
    lines): the lines are alternatives, so each one goes into a panel of its
    own on one page, with a ``layout:`` of one tier per panel (``1/1`` for
    two lines) so the layout fits the number of panels.

  The **harness header** defines what the spec's fragments refer to: the
  characters HAMMY and OFFICER BRUIN and the snippets ``@ink`` and
  ``@moonlight``, with the spec's own wording. A harnessed fragment must
  check with no errors (warnings are allowed: fragments are not stories).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from comicc.diagnostics import Sink, render_short
from comicc.model import LAYOUT_PRESETS
from comicc.pipeline import check_source
from comicc.source import SourceFile
from comicc.syntax import format_script, number_value, parse
from support import ROOT

DOCS = ROOT / "docs" / "language.md"
EXAMPLES = ROOT / "examples"
SPEC = ROOT.parent / "shared" / "spec" / "language.md"

HARNESS_HEADER = """\
title: Harness
character HAMMY: a chubby golden hamster wearing a tiny red scarf
character OFFICER BRUIN: a huge brown bear in a night-watchman uniform
snippet ink: clean comic-book inks, flat colors, halftone shading
snippet moonlight: cold blue moonlight through a kitchen window
"""

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.S | re.M
)
_PAGE = re.compile(r"^[ \t]*PAGES?[ \t]+\S", re.M | re.I)
_PANEL = re.compile(r"^[ \t]*PANEL[ \t]+(\S+)", re.M | re.I)
_PLACEHOLDER = re.compile(r"<[A-Za-z]")  # `<n>`, `<header: ...>`; not the `<-` of an annotation
_SETTING_LIKE = re.compile(r"[ \t]*(?:[a-z][\w.\-]*!?[ \t]*:|-[ \t]|#)")


def code_blocks(path: Path) -> list[tuple[int, str, str]]:
    """(line number, info string, body) of every fenced block in a markdown file."""
    text = path.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        out.append((line, m.group("info").strip(), m.group("body")))
    return out


def run_check(text: str, path: str) -> Sink:
    sink = Sink()
    check_source(SourceFile.from_text(text, path), sink)
    return sink


def _describe(sink: Sink, text: str) -> str:
    numbered = "\n".join(f"{i:3} | {line}" for i, line in enumerate(text.splitlines(), 1))
    return render_short(sink.sorted()) + "\n" + numbered


# ------------------------------------------------------------------ spec harness


def _number(raw: str) -> int:
    return number_value(raw.upper())


def _layout_panels(body: str) -> int:
    m = re.search(r"^[ \t]*layout:[ \t]*(.+)$", body, re.M)
    if not m:
        return 1
    value = m.group(1).split("@")[0].strip().lower()
    if value in LAYOUT_PRESETS:
        return sum(LAYOUT_PRESETS[value])
    return sum(int(x) for x in value.split("/"))


def harness(body: str) -> str | None:
    """The complete script a spec block is checked as; None if it is schematic."""
    stripped = body.strip()
    if _PLACEHOLDER.search(body) or stripped.startswith("[<n>"):
        return None
    if _PAGE.search(body) and _PANEL.search(body):
        return body
    lines = stripped.splitlines()
    first = lines[0].strip()
    panel = _PANEL.match(first)
    page = re.match(r"(?i)PAGE[ \t]+(\S+)", first)
    if page:
        n = _number(page.group(1))
        before = "".join(f"\nPAGE {i}\n\nPANEL 1\nFiller page {i}.\n" for i in range(1, n))
        panels = "".join(
            f"\nPANEL {i}\nFiller panel {i}.\n" for i in range(1, _layout_panels(body) + 1)
        )
        return HARNESS_HEADER + before + "\n" + stripped + "\n" + panels
    if panel:
        n = _number(panel.group(1))
        before = "".join(f"\nPANEL {i}\nFiller panel {i}.\n" for i in range(1, n))
        text = stripped + "\n"
        if all(_SETTING_LIKE.match(ln) or not ln.strip() for ln in lines[1:]):
            text += "A harness description.\n"  # settings only: give the panel something to show
        return HARNESS_HEADER + "\nPAGE 1\n" + before + "\n" + text
    if all(ln.strip().startswith(("character ", "snippet ")) for ln in lines if ln.strip()):
        # header fragment: definitions
        return "title: Harness\n" + stripped + "\n\nPAGE 1\n\nPANEL 1\nA harness description.\n"
    # bare settings: each line is an alternative, in a panel of its own
    settings = [ln.strip() for ln in lines if ln.strip()]
    layout = "/".join("1" for _ in settings)
    panels = "".join(
        f"\nPANEL {i}\n{s}\nHAMMY and OFFICER BRUIN in the kitchen.\n"
        for i, s in enumerate(settings, 1)
    )
    return HARNESS_HEADER + f"\nPAGE 1\nlayout: {layout}\n" + panels


def _spec_blocks():
    if not SPEC.is_file():
        return []
    return [
        pytest.param(line, body, id=f"spec-line-{line}") for line, _info, body in code_blocks(SPEC)
    ]


@pytest.mark.skipif(
    not SPEC.is_file(), reason="shared/spec/language.md is not next to this checkout"
)
@pytest.mark.parametrize("line,body", _spec_blocks())
def test_spec_code_block_checks(line, body):
    script = harness(body)
    if script is None:
        pytest.skip("schematic block (placeholders), not a script")
    sink = run_check(script, f"spec-block-at-line-{line}.comic")
    assert not sink.errors, f"spec block at line {line} fails check:\n" + _describe(sink, script)


@pytest.mark.skipif(
    not SPEC.is_file(), reason="shared/spec/language.md is not next to this checkout"
)
def test_spec_complete_example_is_examples_heist():
    *_, (_line, _info, last) = code_blocks(SPEC)
    assert (EXAMPLES / "heist.comic").read_text(encoding="utf-8") == last


@pytest.mark.skipif(
    not SPEC.is_file(), reason="shared/spec/language.md is not next to this checkout"
)
def test_spec_harness_classifies_every_block():
    kinds = []
    for _line, _info, body in code_blocks(SPEC):
        script = harness(body)
        kinds.append(
            "schematic" if script is None else "complete" if script == body else "fragment"
        )
    assert "complete" in kinds and "fragment" in kinds and "schematic" in kinds


# ------------------------------------------------------------------ docs/language.md


def _doc_blocks():
    return [
        pytest.param(line, body, id=f"docs-line-{line}")
        for line, info, body in code_blocks(DOCS)
        if info == "comic"
    ]


def test_docs_fences_are_labelled():
    """Every block in the guide says what it is: a complete script or schematic text."""
    unlabelled = [line for line, info, _ in code_blocks(DOCS) if info not in ("comic", "text")]
    assert not unlabelled, (
        f"docs/language.md: code blocks without `comic`/`text` at lines {unlabelled}"
    )
    assert len(_doc_blocks()) == 26


@pytest.mark.parametrize("line,body", _doc_blocks())
def test_docs_comic_block_is_a_clean_complete_script(line, body):
    sink = run_check(body, f"docs-language-md-line-{line}.comic")
    assert not sink.diagnostics, f"docs/language.md block at line {line}:\n" + _describe(sink, body)


# ------------------------------------------------------------------ examples

EXAMPLE_FILES = sorted(EXAMPLES.rglob("*.comic"))


def test_examples_exist():
    names = {p.name for p in EXAMPLE_FILES}
    assert {"heist.comic", "moonlit-manga.comic", "long-night.comic"} <= names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_checks_strict(path):
    text = path.read_text(encoding="utf-8")
    sink = run_check(text, str(path))
    assert not sink.diagnostics, f"{path.name} (check --strict):\n" + render_short(sink.sorted())


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_is_fmt_stable(path):
    text = path.read_text(encoding="utf-8")
    sink = Sink()
    tree = parse(SourceFile.from_text(text, str(path)), sink)
    assert tree is not None, render_short(sink.sorted())
    assert format_script(tree) == text, (
        f"{path.name} changes under `comicc fmt`; run `comicc fmt {path}`"
    )
