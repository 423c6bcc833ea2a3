"""The diagnostics corpus: malformed scripts with their expected diagnostics.

Every ``tests/diagnostics/*.comic`` file states, in its leading comment lines,
what ``comicc check`` must report for it::

    # what the case is about (free text)
    # expect: unknown-snippet 14:5          error: code, 1-based line:column
    # expect: empty-script                  error without a location
    # expect-warning: balloon-words 9:1     warnings (checked only when given)
    # expect-hint: did you mean `@ink`      some diagnostic has a hint containing this
    # expect-message: holds 3 panels        some diagnostic's message contains this
    # xfail: reason                         a known comicc bug: the case must fail

Errors are compared exactly, as a multiset (a duplicated diagnostic is a
failure). A case marked ``# xfail`` runs with ``xfail(strict=True)``: it
documents a bug and turns red the day the bug is fixed, so the annotation can
be dropped. Only an ``AssertionError`` counts as the expected failure: a Python
exception out of the checker always fails the test.

The corpus runs in process (fast); a handful of tests drive the real command
line through ``python -m comicc`` to pin exit codes and output formats.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from comicc import __version__
from comicc.diagnostics import Diagnostic, Sink, render_human, render_json, render_short
from comicc.pipeline import check, check_source, load_source
from support import DATA  # noqa: E402

CORPUS = DATA / "diagnostics"
CASES = sorted(CORPUS.glob("*.comic"))

_DIRECTIVE = re.compile(
    r"#\s*(expect|expect-warning|expect-hint|expect-message|xfail)\s*:\s*(.*?)\s*$"
)
_EXPECT = re.compile(r"([a-z0-9-]+)(?:\s+(\d+):(\d+))?$")


# ---------------------------------------------------------------- annotations


@dataclass
class Expectations:
    errors: list[tuple] = field(default_factory=list)
    warnings: list[tuple] | None = None
    hints: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    xfail: str | None = None


def read_expectations(path: Path) -> Expectations:
    """Directives from the leading ``#`` lines of a corpus file."""
    exp = Expectations()
    text = path.read_bytes().decode("utf-8-sig")
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = _DIRECTIVE.match(line)
        if not m:
            continue
        kind, rest = m.groups()
        if kind in ("expect", "expect-warning"):
            e = _EXPECT.match(rest)
            assert e, f"{path.name}: bad directive {line!r}"
            code, ln, col = e.group(1), e.group(2), e.group(3)
            item = (code, int(ln) if ln else None, int(col) if col else None)
            if kind == "expect":
                exp.errors.append(item)
            else:
                exp.warnings = (exp.warnings or []) + [item]
        elif kind == "expect-hint":
            exp.hints.append(rest)
        elif kind == "expect-message":
            exp.messages.append(rest)
        else:
            exp.xfail = rest
    return exp


def _key(d: Diagnostic) -> tuple:
    if d.span is None:
        return (d.code, None, None)
    return (d.code, d.span.line, d.span.col)


def _sort(items):
    return sorted(items, key=lambda t: (t[1] or 0, t[2] or 0, t[0]))


def about(path: Path, sink: Sink) -> list[Diagnostic]:
    """Diagnostics located in ``path`` (not in a theme file, say)."""
    p = str(path)
    return [
        d
        for d in sink.diagnostics
        if (d.span is not None and d.span.path == p) or (d.span is None and d.path == p)
    ]


def run_check(path: Path) -> tuple[Sink, dict]:
    """Check a file in process; return the sink and the sources for rendering."""
    sink = Sink()
    src = load_source(path, sink)
    sources = {}
    if src is not None:
        sources[src.path] = src
        check_source(src, sink)
    return sink, sources


# ---------------------------------------------------------------- the corpus


def _params():
    out = []
    for p in CASES:
        exp = read_expectations(p)
        marks = []
        if exp.xfail:
            marks.append(pytest.mark.xfail(strict=True, raises=AssertionError, reason=exp.xfail))
        out.append(pytest.param(p, id=p.stem, marks=marks))
    return out


@pytest.mark.parametrize("path", _params())
def test_corpus_case(path: Path):
    exp = read_expectations(path)
    sink = Sink()
    check(str(path), sink)  # must not raise, whatever the input
    mine = about(path, sink)
    errors = _sort(_key(d) for d in mine if d.is_error)
    assert errors == _sort(exp.errors), _explain(path, mine)
    if exp.warnings is not None:
        warnings = _sort(_key(d) for d in mine if not d.is_error)
        assert warnings == _sort(exp.warnings), _explain(path, mine)
    for h in exp.hints:
        assert any(h in hint for d in mine for hint in d.hints), (
            f"no hint contains {h!r}\n" + _explain(path, mine)
        )
    for m in exp.messages:
        assert any(m in d.message for d in mine), f"no message contains {m!r}\n" + _explain(
            path, mine
        )
    for d in mine:  # every diagnostic is actionable and well located
        assert d.message.strip()
        if d.span is not None:
            assert d.span.line >= 1 and d.span.col >= 1


def _explain(path: Path, diags) -> str:
    lines = [f"diagnostics for {path.name}:"]
    for d in diags:
        _, line, col = _key(d)
        lines.append(
            f"  {d.severity.value}[{d.code}] {line}:{col} {d.message} hints={list(d.hints)}"
        )
    return "\n".join(lines)


def test_corpus_is_well_formed():
    assert len(CASES) >= 50
    for p in CASES:
        exp = read_expectations(p)
        assert exp.errors or exp.warnings, f"{p.name} states no expectation"
        first = p.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("#"), f"{p.name}: the annotations come first"


REQUIRED_CODES = {
    "syntax",
    "unknown-setting",
    "misplaced-setting",
    "unknown-snippet",
    "unknown-character",
    "bad-value",
    "redefinition",
    "page-number",
    "panel-number",
    "balloon-number",
    "layout-mismatch",
    "pick-out-of-range",
    "unknown-mod",
    "conflicting-mods",
    "unknown-format",
    "unknown-theme",
    "unknown-backend",
    "empty-script",
    "prose-outside-panel",
    "lettering-outside-panel",
    "panel-outside-page",
    "definition-outside-header",
    "unclosed-emphasis",
    "unclosed-boneyard",
    "unclosed-note",
    "bad-heading",
    "bad-lettering",
    "empty-page",
    "list-not-allowed",
    "path-not-allowed",
    "panel-too-small",
    "page-too-large",
    "panel-too-large",
    "balloon-too-long",
}
REQUIRED_WARNINGS = {
    "balloon-words",
    "panel-words",
    "empty-balloon",
    "lowercase-cue",
    "ignored-mod",
    "nested-snippet",
    "metadata-characters",
    "missing-colon",
    "continuation-indent",
    "text-in-prompt",
}


def test_corpus_covers_every_code():
    """Each code is pinned by at least one case that passes today."""
    errors, warnings = set(), set()
    for p in CASES:
        exp = read_expectations(p)
        if exp.xfail:
            continue
        errors |= {e[0] for e in exp.errors}
        warnings |= {w[0] for w in exp.warnings or ()}
    assert REQUIRED_CODES - errors == set()
    assert REQUIRED_WARNINGS - warnings == set()


def test_every_error_of_a_stage_in_one_run():
    sink, _ = run_check(CORPUS / "syntax-several-errors.comic")
    assert len([d for d in sink.errors if d.code == "syntax"]) == 3
    sink, _ = run_check(CORPUS / "many-semantic-errors.comic")
    assert len({d.code for d in sink.errors}) >= 7


# ---------------------------------------------------------------- file-level cases


def test_file_not_found(tmp_path):
    sink = Sink()
    missing = tmp_path / "nope.comic"
    assert check(str(missing), sink) is None
    [d] = sink.diagnostics
    assert (d.code, d.span, d.path) == ("file-not-found", None, str(missing))
    assert str(missing) in render_short([d])


def test_file_not_found_suggests_the_comic_suffix(tmp_path):
    (tmp_path / "story.comic").write_text(
        "title: X\n\nPAGE 1\n\nPANEL 1\nA cat.\n", encoding="utf-8"
    )
    sink = Sink()
    check(str(tmp_path / "story"), sink)
    [d] = sink.diagnostics
    assert d.code == "file-not-found"
    assert any("story.comic" in h for h in d.hints)


def test_directory_is_not_a_script(tmp_path):
    sink = Sink()
    check(str(tmp_path), sink)
    assert [d.code for d in sink.diagnostics] == ["file-not-found"]


def test_not_utf8(tmp_path):
    p = tmp_path / "latin1.comic"
    p.write_bytes("title: Café\n\nPAGE 1\n\nPANEL 1\nA cat.\n".encode("latin-1"))
    sink = Sink()
    assert check(str(p), sink) is None
    [d] = sink.diagnostics
    assert d.code == "not-utf8" and d.span is not None
    assert (d.span.line, d.span.col) == (1, 11)
    assert "0xe9" in d.message


@pytest.mark.parametrize("text", ["", "\n\n", "   \n\t\n", "\ufeff"])
def test_empty_file(tmp_path, text):
    p = tmp_path / "empty.comic"
    p.write_text(text, encoding="utf-8")
    sink = Sink()
    res = check(str(p), sink)
    assert res is None or res.script is None
    assert [d.code for d in sink.diagnostics] == ["empty-script"]


def test_bom_and_crlf_script_is_valid(tmp_path):
    p = tmp_path / "windows.comic"
    text = (
        "title: Windows\r\ncharacter HAMMY: a hamster\r\nsnippet ink: clean inks\r\n\r\n"
        "PAGE 1\r\n\r\nPANEL 1\r\nprompt:\r\n  - @ink\r\nHAMMY sits.\r\n"
        "1. HAMMY (WHISPER): Hello, *world*.\r\n"
    )
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    sink = Sink()
    res = check(str(p), sink)
    assert sink.diagnostics == []
    assert res is not None and res.script is not None
    [panel] = res.script.pages[0].panels
    assert "".join(r.text for r in panel.balloons[0].runs) == "Hello, world."


def test_bom_and_crlf_do_not_shift_columns(tmp_path):
    p = tmp_path / "windows.comic"
    text = "title: Windows\r\n\r\nPAGE 1\r\n\r\nPANEL 1\r\nA cat under @moonlite.\r\n"
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    sink = Sink()
    check(str(p), sink)
    assert [_key(d) for d in sink.errors] == [("unknown-snippet", 6, 13)]


# ---------------------------------------------------------------- renderers


def test_human_format_points_at_the_column():
    path = CORPUS / "unknown-snippet-prompt-item.comic"
    sink, sources = run_check(path)
    [d] = sink.errors
    assert d.span is not None
    out = render_human([d], sources)
    lines = out.splitlines()
    line = d.span.line
    assert lines[0] == "error[unknown-snippet]: unknown snippet `@moonlite`"
    assert lines[1].strip() == f"--> {path}:{line}:5"
    src_i = next(i for i, s in enumerate(lines) if s.endswith("|   - @moonlite"))
    assert lines[src_i].split("|")[0].strip() == str(line)
    src_line, caret = lines[src_i], lines[src_i + 1]
    assert caret.index("^") == src_line.index("@moonlite")
    assert "^" * len("@moonlite") + " not defined" in caret
    assert any(
        s.strip() == "= hint: did you mean `@moonlight` (defined at line "
        f"{read_line(path, 'snippet moonlight')})?"
        for s in lines
    )


def read_line(path: Path, needle: str) -> int:
    for i, s in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in s:
            return i
    raise AssertionError(needle)


def test_human_format_shows_both_lines_of_a_redefinition():
    path = CORPUS / "redefinition-character.comic"
    sink, sources = run_check(path)
    [d] = sink.errors
    out = render_human([d], sources)
    first, second = (
        read_line(path, "character HAMMY: a hamster"),
        read_line(path, "character HAMMY: a golden"),
    )
    assert f"{first} | character HAMMY: a hamster" in out
    assert f"{second} | character HAMMY: a golden hamster" in out
    lines = out.splitlines()
    i1 = next(i for i, s in enumerate(lines) if s.startswith(f"{first} |"))
    i2 = next(i for i, s in enumerate(lines) if s.startswith(f"{second} |"))
    assert i1 < i2  # in file order
    assert (
        lines[i1 + 1].index("-") == lines[i1].index("HAMMY")
        and "first defined here" in lines[i1 + 1]
    )
    assert (
        lines[i2 + 1].index("^") == lines[i2].index("HAMMY")
        and "defined again here" in lines[i2 + 1]
    )
    assert "= hint:" in out


def test_human_format_without_a_span(tmp_path):
    sink = Sink()
    check(str(tmp_path / "nope.comic"), sink)
    out = render_human(sink.diagnostics, {})
    assert out.startswith("error[file-not-found]: no such file")
    assert f"--> {tmp_path / 'nope.comic'}" in out


def test_short_format():
    path = CORPUS / "unknown-mod.comic"
    sink, _ = run_check(path)
    [d] = sink.errors
    line = read_line(path, "(WISPER)")
    assert render_short([d]) == f"{path}:{line}:8: error[unknown-mod]: unknown modifier `WISPER`\n"


def test_short_format_warning():
    path = CORPUS / "warn-lowercase-cue.comic"
    sink, _ = run_check(path)
    out = render_short(sink.sorted())
    assert re.fullmatch(rf"{re.escape(str(path))}:\d+:1: warning\[lowercase-cue\]: .+\n", out)


def test_json_format():
    path = CORPUS / "many-numbering-errors.comic"
    sink, _ = run_check(path)
    data = json.loads(render_json(sink.sorted()))
    assert [(d["code"], d["span"]["line"], d["span"]["column"]) for d in data] == [
        _key(d) for d in sink.sorted()
    ]
    for d in data:
        assert d["severity"] == "error" and d["path"] == str(path) and d["message"]
        assert isinstance(d["hints"], list)


# ---------------------------------------------------------------- the command line


def comicc(*args, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    p = subprocess.run(
        [sys.executable, "-m", "comicc", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )
    assert "Traceback" not in p.stdout + p.stderr, p.stdout + p.stderr
    assert "internal error" not in p.stderr, p.stderr
    return p


CLEAN = (
    "title: Clean\ncharacter CAT: a cat\n\nPAGE 1\n\nPANEL 1\nA cat on a windowsill.\nCAT: Hello.\n"
)
UNFORMATTED = (
    "title:   Clean\n\n\n\npage 1\npanel 1\nA cat on a windowsill.   \nCAT (whisper):  Hello.\n"
)


def test_cli_check_exit_codes(tmp_path):
    clean = tmp_path / "clean.comic"
    clean.write_text(CLEAN, encoding="utf-8")
    warned = CORPUS / "warn-balloon-words.comic"
    ok = comicc("check", clean, warned)  # warnings alone never fail a check
    assert ok.returncode == 0, ok.stderr
    assert "warning[balloon-words]" in ok.stderr and "error[" not in ok.stderr
    assert "checked 2 scripts: ok (1 warning)" in ok.stderr

    bad = comicc("check", CORPUS / "unknown-mod.comic", clean, tmp_path / "nope.comic")
    assert bad.returncode == 1
    assert "error[unknown-mod]: unknown modifier `WISPER`" in bad.stderr
    assert "error[file-not-found]" in bad.stderr
    assert "checked 3 scripts: 2 errors" in bad.stderr


def test_cli_usage_errors_exit_2(tmp_path):
    unknown = comicc("check", "--no-such-option", CORPUS / "unknown-mod.comic")
    assert unknown.returncode == 2 and "usage:" in unknown.stderr
    nofiles = comicc("check")
    assert nofiles.returncode == 2 and "usage:" in nofiles.stderr
    nocommand = comicc()
    assert nocommand.returncode == 2


def test_cli_strict_turns_warnings_into_errors():
    path = CORPUS / "warn-balloon-words.comic"  # exit 0 without --strict: test_cli_check_exit_codes
    strict = comicc("check", "--strict", path)
    assert strict.returncode == 1
    assert "warning[balloon-words]" in strict.stderr


def test_cli_formats():
    path = CORPUS / "redefinition-snippet.comic"
    line = read_line(path, "snippet ink: scratchy")
    short = comicc("check", "--format", "short", path)
    assert short.returncode == 1
    assert (
        f"{path}:{line}:9: error[redefinition]: snippet `ink` is defined twice"
        in short.stderr.splitlines()
    )
    js = comicc("check", "--format", "json", path)
    assert js.returncode == 1
    data = json.loads(js.stdout)
    assert [(d["code"], d["span"]["line"], d["span"]["column"]) for d in data] == [
        ("redefinition", line, 9)
    ]


def test_cli_version():
    p = comicc("--version")
    assert p.returncode == 0
    assert f"comicc {__version__}" in p.stdout + p.stderr


def test_cli_help_on_every_command():
    top = comicc("--help")
    assert top.returncode == 0 and "usage:" in top.stdout
    # argparse lists each command indented under COMMAND, with its help
    commands = re.findall(r"^ {4}([a-z]+) {2,}\S", top.stdout, re.M)
    assert {"check", "fmt", "build", "layout"} <= set(commands)
    for name in commands:
        p = comicc(name, "--help")
        assert p.returncode == 0, name
        assert f"usage: comicc {name}" in p.stdout


def test_cli_fmt_check_then_fmt(tmp_path):
    f = tmp_path / "story.comic"
    f.write_text(UNFORMATTED, encoding="utf-8")
    before = f.read_bytes()
    chk = comicc("fmt", "--check", f)
    assert chk.returncode == 1 and "would reformat" in chk.stderr
    assert f.read_bytes() == before
    formatted = comicc("fmt", f)
    assert formatted.returncode == 0
    assert f.read_bytes() != before
    assert comicc("fmt", "--check", f).returncode == 0


def test_cli_fmt_diff_writes_nothing(tmp_path):
    f = tmp_path / "story.comic"
    f.write_text(UNFORMATTED, encoding="utf-8")
    before = f.read_bytes()
    p = comicc("fmt", "--diff", f)
    assert p.returncode == 0
    assert "-page 1" in p.stdout and "+PAGE 1" in p.stdout and p.stdout.startswith("---")
    assert f.read_bytes() == before
    assert not [x for x in tmp_path.iterdir() if x.name != "story.comic"]  # no stray temp file


def test_cli_fmt_refuses_a_syntax_error(tmp_path):
    f = tmp_path / "broken.comic"
    f.write_bytes((CORPUS / "syntax-several-errors.comic").read_bytes())
    before = f.read_bytes()
    p = comicc("fmt", f)
    assert p.returncode == 1
    assert "error[syntax]" in p.stderr
    assert f.read_bytes() == before
