"""Fuzzing the real command line: `python -m comicc check|layout|fmt|build` in
subprocesses, on mutated scripts (from `examples/` and `tests/data/diagnostics/`),
mutated themes (from `themes/`) and mutated lock files.

Every run must keep comicc's promises (`support.fuzz.check_promises`): exit 0 or
1 (never 3, never a signal), no Python traceback, no key printed, nothing
created, changed or deleted outside the output path, the cache and the lock
file, no temporary file left behind; and it runs under a 2 GiB address-space
limit and a 60 s hang guard (a hang detector, not a speed requirement). Only
the offline `draft` backend paints.

Budgets (each subprocess costs about half a second, a build about one):

- ``ci`` (the default): the per-test numbers below, some 60 runs plus the pinned
  examples, under a minute on two cores;
- ``deep``: twenty times those (about a quarter of an hour), on demand::

      HYPOTHESIS_PROFILE=deep .venv/bin/python -m pytest -p no:cacheprovider \\
          tests/cli/test_fuzz_cli.py

Any other profile (``fuzz``: 150 examples a test) uses its own ``max_examples``.
Minimal reproducers of failures found are pinned with ``@example``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from support.fuzz import HEIST, lock_files, scripts
from support.fuzz_themes import themes, with_theme
from support.sandbox import Sandbox, check_promises, in_sandbox, json_or_fail, run_cli

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")


def budget(ci_examples: int) -> settings:
    """``ci_examples`` under the ``ci`` profile, twenty times as many under
    ``deep``; any other profile keeps its own ``max_examples``. Under ``ci``
    nothing is shrunk (each step is a subprocess; a shrink can run for many
    minutes): a failure shows the input as generated; the pinned examples are
    minimal already, and ``deep`` shrinks."""
    if PROFILE == "ci":
        no_shrink = tuple(p for p in Phase if p not in (Phase.shrink, Phase.explain))
        return settings(max_examples=ci_examples, phases=no_shrink)
    if PROFILE == "deep":
        return settings(max_examples=20 * ci_examples)
    return settings()


SAMPLE_SCRIPTS = [s.encode() for s in (HEIST, "title: x\n\nPAGE 1\n\nPANEL 1\nA room.\n1. A: hi\n")]


TINY = b"title: x\n\nPAGE 1\n\nPANEL 1\nA room.\n"


@budget(20)
@given(script=scripts(), diagnostics=st.sampled_from(["human", "short", "json"]))
# found: the theme-syntax error quotes the "theme" line by line: every key in the environment
@example(
    script=TINY.replace(b"title: x", b"title: x\ntheme: /proc/self/environ"), diagnostics="human"
)
# found: a number past 4300 digits is a ValueError from int() (exit 3)
@example(script=TINY.replace(b"PAGE 1", b"PAGE 1" + b"0" * 5000), diagnostics="short")
@example(script=TINY.replace(b"title: x", b"title: x\nseed: " + b"9" * 5000), diagnostics="short")
@example(script=TINY.replace(b"PAGE 1", b"PAGE 1\nlayout: 1" + b"0" * 5000), diagnostics="json")
def test_check_keeps_its_promises_on_mutated_scripts(script: bytes, diagnostics: str) -> None:
    def case(box: Sandbox) -> None:
        run = run_cli(box, ["check", "--format", diagnostics, "--color", "always", "story.comic"])
        check_promises(run)
        if diagnostics == "json":
            json_or_fail(run.stdout, run)

    in_sandbox({"story.comic": script}, case)


@budget(8)
@given(script=scripts(), png=st.booleans())
def test_layout_keeps_its_promises_on_mutated_scripts(script: bytes, png: bool) -> None:
    def case(box: Sandbox) -> None:
        if png:
            run = run_cli(
                box, ["layout", "--png", str(box.out / "wire"), "--dpi", "10"] + ["story.comic"]
            )
            check_promises(run, allowed=["out", "cache"])  # and the layout memo
        else:
            run = run_cli(box, ["layout", "--json", "story.comic"])
            check_promises(run, allowed=["cache"])  # the layout memo (docs/cli.md)
            if run.returncode == 0:
                json_or_fail(run.stdout, run)

    in_sandbox({"story.comic": script}, case)


@budget(6)
@given(script=scripts())
def test_fmt_keeps_its_promises_on_mutated_scripts(script: bytes) -> None:
    """`fmt` writes only the script, only when it parses, and a second `fmt
    --check` finds nothing left to change."""

    def case(box: Sandbox) -> None:
        run = run_cli(box, ["fmt", "story.comic"])
        check_promises(run, allowed=["work/story.comic"])
        if run.returncode != 0:
            assert (box.work / "story.comic").read_bytes() == script, run.describe()
            return
        again = run_cli(box, ["fmt", "--check", "story.comic"])
        check_promises(again, codes=[0])

    in_sandbox({"story.comic": script}, case)


def _build(box: Sandbox, output_format: str) -> None:
    """Build ``work/story.comic`` with the draft backend into ``out/``: an
    existing output is either replaced whole or left as it was."""
    out = box.out / ("pages" if output_format == "png" else f"story.{output_format}")
    sentinel = b"the previous book\n"
    if output_format != "png":
        out.write_bytes(sentinel)
    lock = box.work / "story.comic.lock"
    locked = lock.read_bytes() if lock.exists() else None
    run = run_cli(
        box,
        ["build", "story.comic", "-o", str(out), "--format", output_format]
        + ["--backend", "draft", "--dpi", "72", "--no-progress", "--cache-dir", str(box.cache)],
    )
    check_promises(run, allowed=["out", "cache", "work/story.comic.lock"])
    if output_format == "png":
        return
    if run.returncode != 0:
        assert out.read_bytes() == sentinel, "a failed build touched the output\n" + run.describe()
    else:
        magic = b"%PDF" if output_format == "pdf" else b"PK"
        assert out.read_bytes().startswith(magic), run.describe()
    # `--backend` and `--dpi` make it a proof build: the lock file is left as it was
    assert (lock.read_bytes() if lock.exists() else None) == locked, run.describe()


@budget(3)
@given(script=scripts(), output_format=st.sampled_from(["pdf", "cbz", "png"]))
# found: check and layout pass, build exits 3 (ValueError: panel p1.1 has an empty box)
@example(script=TINY.replace(b"title: x", b"title: x\nformat: 1x1mm"), output_format="pdf")
# found: 60 tiers on one page: ValueError: panel p1.24 has an empty box (exit 3)
@example(
    script=b"title: x\n\nPAGE 1\nlayout: "
    + b"/".join([b"1"] * 60)
    + b"\n\n"
    + b"".join(b"PANEL %d\nA room.\n\n" % i for i in range(1, 61)),
    output_format="pdf",
)
def test_build_keeps_its_promises_on_mutated_scripts(script: bytes, output_format: str) -> None:
    in_sandbox({"story.comic": script}, lambda box: _build(box, output_format))


def _theme_files(theme: bytes, base: bytes | None) -> dict[str, bytes]:
    files = {"theme.toml": theme}
    if base is not None:
        files["base.toml"] = base
    return files


def _template(template: str) -> bytes:
    """A theme that extends classic with this prompt template."""
    return f'extends = "classic"\n[prompt]\ntemplate = {json.dumps(template)}\n'.encode()


# Found (each exits 3 at HEAD; the comment says with what):
PINNED_THEMES = [
    b'extends = "/dev/zero"\n',  # MemoryError: the theme chain reads a device whole
    b'extends = "/proc/self/environ"\n',  # theme-syntax quotes the environment: the keys
    b"x = " + b"[" * 1000 + b"]" * 1000 + b"\n",  # RecursionError in tomllib
    _template("{{ 'x' * 1000000000 }}"),  # MemoryError: no bound on what a template makes
    _template("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"),
    _template("{{ '%*s'|format(1000000000, 'x') }}"),  # MemoryError
    _template("{{ 10 ** 100000 }}"),  # ValueError: int too long to turn into a string
    _template("{{ range(1000000000)|list }}"),  # OverflowError from the jinja2 sandbox
    _template("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"),  # RecursionError
    _template("{{ " + "(" * 500 + "1" + ")" * 500 + " }}"),  # RecursionError compiling
    _template("{% include 'other.toml' %}"),  # TypeError: no loader for this environment
    _template("{% import 'x' as y %}"),  # TypeError: no loader for this environment
]


def _pin_themes(test: Callable[..., None]) -> Callable[..., None]:
    for theme in reversed(PINNED_THEMES):
        test = example(theme=theme, base=None, script=SAMPLE_SCRIPTS[1], command="check")(test)
    return test


@budget(10)
@given(
    theme=themes(),
    base=st.none() | themes(),
    script=st.sampled_from(SAMPLE_SCRIPTS),
    command=st.sampled_from(["check", "layout"]),
)
@_pin_themes
def test_check_and_layout_keep_their_promises_on_mutated_themes(
    theme: bytes, base: bytes | None, script: bytes, command: str
) -> None:
    files = {"story.comic": with_theme(script.decode()).encode(), **_theme_files(theme, base)}

    def case(box: Sandbox) -> None:
        argv = (
            ["check", "story.comic"] if command == "check" else ["layout", "--json", "story.comic"]
        )
        run = run_cli(box, argv)
        check_promises(run, allowed=["cache"] if command == "layout" else [])  # the layout memo
        if command == "layout" and run.returncode == 0:
            json_or_fail(run.stdout, run)

    in_sandbox(files, case)


@budget(2)
@given(theme=themes(), output_format=st.sampled_from(["pdf", "cbz", "png"]))
def test_build_keeps_its_promises_on_mutated_themes(theme: bytes, output_format: str) -> None:
    files = {"story.comic": with_theme(HEIST).encode(), "theme.toml": theme}
    in_sandbox(files, lambda box: _build(box, output_format))


@budget(3)
@given(lock=lock_files(), output_format=st.sampled_from(["pdf", "cbz"]))
# found: a deeply nested lock file is a RecursionError in json.loads (exit 3)
@example(lock=b"[" * 100_000 + b"]" * 100_000, output_format="pdf")
# found: a panel entry that is a list: AttributeError: 'list' object has no attribute 'get'
@example(lock=b'{"version": 1, "panels": {"p1.1": []}}', output_format="cbz")
@example(
    lock=b'{"version": 1, "panels": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001,
    output_format="pdf",
)
def test_build_keeps_its_promises_on_mutated_lock_files(lock: bytes, output_format: str) -> None:
    files = {"story.comic": HEIST.encode(), "story.comic.lock": lock}
    in_sandbox(files, lambda box: _build(box, output_format))
