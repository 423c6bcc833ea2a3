"""Untrusted scripts and themes: no key is ever printed, no file outside the
allowed folders is read, and every hostile input is a plain diagnostic within
bounded memory and time (the security review's items 2, 4, 5, 11 and 12).

Subprocesses run the cases that could hang or eat memory: ``timeout=`` there
is a hang guard (generous, never a speed requirement), and ``RLIMIT_AS`` turns
a memory blow-up into a failed test instead of a swapping machine. The corpus
(``tests/data/diagnostics``) holds the cases that fit an ``# expect:`` line;
the hostile theme files are in ``tests/data/hostile``.
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from comicc.diagnostics import (
    Sink,
    redact,
    register_secret,
    render_human,
    render_json,
    render_short,
)
from comicc.model.lettering import check_unclosed_trivia, strip_trivia
from comicc.pipeline import check, load_source
from comicc.source import MAX_SOURCE_BYTES
from support import DATA, ROOT

HOSTILE = DATA / "hostile"
KEY = "sk-test-secret-123456"
MEMORY = 2 << 30  # bytes of address space a bounded subprocess may use
HANG_GUARD = 60  # seconds: a hang detector, not a speed requirement


def bounded(code: str, *args: str, env: dict[str, str] | None = None, memory: int = MEMORY):
    """Run Python ``code`` in a subprocess under RLIMIT_AS, with a hang guard."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        preexec_fn=limit,
        env=env,
        cwd=ROOT,
    )


def comicc(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m comicc ARGS`` under RLIMIT_AS, with a hang guard."""
    full = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8", **(env or {})}
    p = bounded(
        "import sys; from comicc.cli import run; sys.argv[0] = 'comicc'; run()",
        *map(str, args),
        env=full,
    )
    assert "Traceback" not in p.stdout + p.stderr, p.stdout + p.stderr
    assert p.returncode != 3, p.stderr
    return p


SCRIPT = "title: X\n{header}\nPAGE 1\n\nPANEL 1\nA cat.\n"


def script(folder: Path, header: str, name: str = "story.comic") -> Path:
    path = folder / name
    path.write_text(SCRIPT.format(header=header), encoding="utf-8")
    return path


# ------------------------------------------------------- item 2: API keys


@pytest.mark.parametrize("fmt", ["human", "short", "json"])
def test_proc_environ_as_theme_is_refused_and_the_key_never_printed(tmp_path, fmt):
    story = script(tmp_path, "theme: /proc/self/environ")
    p = comicc("check", "--format", fmt, story, env={"STABILITY_API_KEY": KEY})
    assert p.returncode == 1
    assert KEY not in p.stdout + p.stderr
    assert "path-not-allowed" in p.stdout + p.stderr
    if fmt != "short":  # the short format has no hints
        assert "--allow-path" in p.stdout + p.stderr
    # allowed explicitly, it is still no theme file: named, never quoted
    allowed = comicc(
        "check", "--format", fmt, "--allow-path", "/proc", story, env={"STABILITY_API_KEY": KEY}
    )
    assert allowed.returncode == 1
    assert KEY not in allowed.stdout + allowed.stderr
    assert "SHELL=" not in allowed.stdout + allowed.stderr and "PATH=" not in allowed.stderr


@pytest.mark.parametrize("fmt", ["human", "short", "json"])
def test_a_keys_file_as_theme_never_prints_the_key(tmp_path, fmt):
    (tmp_path / "keys.toml").write_text(f'STABILITY_API_KEY = "{KEY}"\n', encoding="utf-8")
    story = script(tmp_path, "theme: ./keys.toml")
    env = {k: v for k, v in os.environ.items() if "KEY" not in k}
    p = comicc("check", "--format", fmt, story, env=env)
    assert p.returncode == 1
    assert KEY not in p.stdout + p.stderr
    assert "theme-unknown-key" in p.stdout + p.stderr  # still reported, by name


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    inside = tmp_path / "book"
    outside.mkdir(), inside.mkdir()
    (outside / "t.toml").write_text('extends = "classic"\n', encoding="utf-8")
    (inside / "t.toml").symlink_to(outside / "t.toml")
    story = script(inside, "theme: ./t.toml")
    sink = Sink()
    res = check(story, sink)
    assert res is not None and res.script is None
    [d] = sink.errors
    assert d.code == "path-not-allowed" and d.span is not None and d.span.line == 2
    assert any(f"--allow-path {outside}" in h for h in d.hints)
    # the user's explicit option lets it in
    sink = Sink()
    res = check(story, sink, allow_paths=[str(outside)])
    assert res is not None and res.script is not None, render_short(sink.diagnostics)


def test_extends_cannot_leave_the_allowed_folders(tmp_path):
    (tmp_path / "secret.toml").write_text('name = "secret"\n', encoding="utf-8")
    book = tmp_path / "book"
    book.mkdir()
    (book / "t.toml").write_text('extends = "../secret.toml"\n', encoding="utf-8")
    story = script(book, "theme: ./t.toml")
    sink = Sink()
    res = check(story, sink)
    assert res is not None and res.script is None
    assert [d.code for d in sink.errors] == ["path-not-allowed"]
    assert sink.errors[0].span is not None and sink.errors[0].span.path == str(book / "t.toml")


def test_cli_allow_path_is_repeatable(tmp_path):
    themes = tmp_path / "themes"
    themes.mkdir()
    (themes / "mine.toml").write_text('extends = "classic"\n', encoding="utf-8")
    book = tmp_path / "book"
    book.mkdir()
    story = script(book, f"theme: {themes / 'mine.toml'}")
    assert comicc("check", story).returncode == 1
    ok = comicc("check", "--allow-path", tmp_path / "x", "--allow-path", themes, story)
    assert ok.returncode == 0, ok.stderr


def test_a_theme_that_is_not_toml_is_named_not_quoted(tmp_path):
    (tmp_path / "notes.txt.toml").write_bytes(b"password hunter2hunter2\n\xff\xfe\n")
    (tmp_path / "broken.toml").write_text('[page\nsecret_line = "do not show"\n')
    for name in ("notes.txt.toml", "broken.toml"):
        story = script(tmp_path, f"theme: ./{name}")
        sink = Sink()
        res = check(story, sink)
        assert res is not None
        out = render_human(sink.diagnostics, res.sources) + render_json(sink.diagnostics)
        assert name in out and "theme-syntax" in out
        assert "hunter2" not in out and "do not show" not in out
        assert str(tmp_path / name) not in res.sources


def test_redaction_registered_env_and_assignments(monkeypatch):
    register_secret("registered-secret-value")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-abcdef-123")
    monkeypatch.setenv("SHORT_KEY", "abc")  # too short to hide
    monkeypatch.setenv("HOME_DIR_NAME", "not-a-secret-name")
    text = "registered-secret-value tok-abcdef-123 abc not-a-secret-name"
    assert redact(text) == "[redacted] [redacted] abc not-a-secret-name"
    assert redact('API_KEY = "r8_abcdefghijk"') == 'API_KEY = "[redacted]"'
    assert redact("openai_api_key: sk-proj-abcdefgh") == "openai_api_key: [redacted]"
    sink = Sink()
    sink.error("x", "message registered-secret-value", hints=["hint tok-abcdef-123"])
    for out in (
        render_human(sink.diagnostics, {}),
        render_short(sink.diagnostics),
        render_json(sink.diagnostics),
    ):
        assert "registered-secret-value" not in out and "tok-abcdef-123" not in out


# ------------------------------------------------- item 5: what a script is


def test_a_fifo_as_the_script_does_not_block(tmp_path):
    fifo = tmp_path / "story.comic"
    os.mkfifo(fifo)
    p = comicc("check", fifo)
    assert p.returncode == 1
    assert "not-a-file" in p.stderr and "pipe" in p.stderr


def test_dev_zero_as_the_script_is_refused_in_bounded_memory():
    p = comicc("check", "/dev/zero")
    assert p.returncode == 1 and "not-a-file" in p.stderr


def test_a_huge_script_is_refused(tmp_path):
    big = tmp_path / "big.comic"
    with open(big, "wb") as fh:  # sparse: no disk used
        fh.truncate(MAX_SOURCE_BYTES + 1)
    sink = Sink()
    assert load_source(big, sink) is None
    [d] = sink.diagnostics
    assert d.code == "file-too-large" and "8 MiB" in d.message


def test_a_fifo_named_by_extends_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "t.toml").write_text('extends = "./pipe.toml"\n', encoding="utf-8")
    story = script(tmp_path, "theme: ./t.toml")
    p = comicc("check", story)
    assert p.returncode == 1 and "pipe" in p.stderr


# ------------------------------------------------ item 5: linear scanning

OLD_TRIVIA = re.compile(r"\[\[.*?\]\]|/\*.*?\*/")
OLD_TAIL = re.compile(r"/\*.*$|\[\[.*$")


def test_trivia_stripping_keeps_its_meaning():
    """The linear scanner gives what the old regular expressions gave."""
    rng = random.Random(7)
    for _ in range(20000):
        text = "".join(rng.choice("[]/* a") for _ in range(rng.randint(0, 16)))
        assert strip_trivia(text) == OLD_TAIL.sub("", OLD_TRIVIA.sub("", text)), text


@pytest.mark.parametrize("opener", ["[[", "/*"])
def test_many_openers_on_one_line_are_scanned_linearly(tmp_path, opener):
    story = tmp_path / "story.comic"
    line = "A cat. " + opener * 100_000
    story.write_text(f"title: X\n\nPAGE 1\n\nPANEL 1\n{line}\nCAT: {line}\n", encoding="utf-8")
    p = comicc("check", "--format", "short", story)  # quadratic: minutes; linear: a second
    assert p.returncode == 1
    assert "unclosed-" in p.stderr


def test_a_million_character_dialogue_line(tmp_path):
    story = tmp_path / "story.comic"
    story.write_text(
        "title: X\n\nPAGE 1\n\nPANEL 1\nA cat.\nCAT: " + "meow " * 200_000 + "\n", encoding="utf-8"
    )
    p = comicc("check", "--format", "short", story)
    assert p.returncode == 1 and "balloon-too-long" in p.stderr


def test_unclosed_trivia_is_reported_once_per_kind(tmp_path):
    from comicc.source import SourceFile
    from comicc.syntax import ast

    src = SourceFile.from_text("[[ [[ /* x")
    sink = Sink()
    check_unclosed_trivia(ast.Description("[[ [[ /* x", src.span(0, 10)), src, sink)
    assert sorted(d.code for d in sink.errors) == ["unclosed-boneyard", "unclosed-note"]


# ------------------------------------------------------- item 4: templates

TEMPLATE_CASES = sorted(p.stem.removeprefix("template-") for p in HOSTILE.glob("template-*.toml"))


def test_hostile_templates_are_diagnostics_at_their_line():
    """Every hostile template: one theme-bad-template error at its line, in a
    subprocess bounded in memory (the nested range once filled 24 GB)."""
    code = (
        "import json, sys\n"
        "from comicc.diagnostics import Sink\n"
        "from comicc.theme import load_theme\n"
        "out = {}\n"
        "for path in sys.argv[1:]:\n"
        "    sink = Sink()\n"
        "    theme = load_theme(path, sink)\n"
        "    out[path] = [theme is None] + [[d.code, d.span.line if d.span else None, "
        "d.message] for d in sink.errors]\n"
        "print(json.dumps(out))\n"
    )
    paths = [str(HOSTILE / f"template-{c}.toml") for c in TEMPLATE_CASES]
    p = bounded(code, *paths)
    assert p.returncode == 0, p.stderr
    results = json.loads(p.stdout)
    assert len(TEMPLATE_CASES) >= 12
    for case, path in zip(TEMPLATE_CASES, paths, strict=True):
        failed, *errors = results[path]
        assert failed, case
        assert [e[0] for e in errors] == ["theme-bad-template"], (case, errors)
        line = 5 if case == "long-output" else 6  # the whole prompt: the template's start
        assert errors[0][1] == line, (case, errors)


def test_a_script_with_a_hostile_theme_checks_without_crashing(tmp_path):
    for case in ("nested-range", "zero-division", "include", "recursion"):
        (tmp_path / f"{case}.toml").write_bytes((HOSTILE / f"template-{case}.toml").read_bytes())
    stories = [
        script(tmp_path, f"theme: ./{c}.toml", f"{c}.comic")
        for c in ("nested-range", "zero-division", "include", "recursion")
    ]
    p = comicc("check", "--format", "short", *stories)
    assert p.returncode == 1
    assert p.stderr.count("theme-bad-template") == 4


def test_a_template_failing_on_real_data_is_reported_at_the_panel(tmp_path):
    (tmp_path / "t.toml").write_text(
        'extends = "classic"\n[prompt]\ntemplate = "{{ description }}{{ items[0] }}"\n',
        encoding="utf-8",
    )
    story = tmp_path / "story.comic"
    story.write_text(
        "title: X\ntheme: ./t.toml\n\nPAGE 1\n\nPANEL 1\nprompt: ink\nA cat.\n\n"
        "PANEL 2\nA dog " + "and a dog " * 7000 + "\n",
        encoding="utf-8",
    )
    sink = Sink()
    res = check(story, sink)
    assert res is not None and res.script is None
    [d] = sink.errors
    assert d.code == "prompt-template" and d.span is not None and d.span.line == 10
    assert "64 KiB" in d.message


# --------------------------------------------------- items 4, 12: sizes


def test_a_huge_keep_margin_is_bounded_in_the_painter_too():
    """Even past the model's check, the mask never draws a stroke wider than its image."""
    code = (
        "from comicc.layout import VectorPath, PathCmd\n"
        "from comicc.paint.mask import keep_zone\n"
        "p = VectorPath((PathCmd('M', (10.0, 10.0)), PathCmd('L', (50.0, 10.0)), "
        "PathCmd('L', (50.0, 50.0)), PathCmd('Z', ())))\n"
        "z = keep_zone([p], (64, 64), 1.0, 1.0, 99999999.0, 99999999.0)\n"
        "print(z.getextrema())\n"
    )
    p = bounded(code)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "(255, 255)"


def test_build_dpi_override_is_checked_against_the_pixel_budget(tmp_path):
    from comicc.pipeline.compile import check_geometry

    story = script(tmp_path, "format: 1500x1500mm\ndpi: 72")
    sink = Sink()
    res = check(story, sink)
    assert res is not None and res.script is not None, render_short(sink.diagnostics)
    assert check_geometry(res.script, res.theme, sink)
    assert not check_geometry(res.script, res.theme, sink, dpi=1200)
    assert [d.code for d in sink.errors] == ["page-too-large"]


def test_metadata_drops_what_xml_cannot_hold(tmp_path):
    story = tmp_path / "story.comic"
    story.write_text("title: A\x01B\ufffeC\n\nPAGE 1\n\nPANEL 1\nA cat.\n", encoding="utf-8")
    sink = Sink()
    res = check(story, sink)
    assert res is not None and res.script is not None
    assert res.script.meta.title == "ABC"
    assert [d.code for d in sink.warnings] == ["metadata-characters"]


def test_a_theme_nested_thousands_deep_is_a_syntax_error(tmp_path):
    """Found by the command-line fuzzer: tomllib recursed out of the stack (exit 3)."""
    (tmp_path / "deep.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    story = script(tmp_path, "theme: ./deep.toml")
    sink = Sink()
    res = check(story, sink)
    assert res is not None and res.script is None
    assert [d.code for d in sink.errors] == ["theme-syntax"]
    assert "nests too deeply" in sink.errors[0].message
