"""The header's book-wide values: metadata, language and theme."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from comicc.diagnostics import Sink, did_you_mean
from comicc.model import ir
from comicc.model.paths import is_theme_path, path_within, script_path
from comicc.source import SourceFile
from comicc.syntax import ast


def _real(p: Path) -> Path:
    """``p`` with symlinks resolved where possible (for hints)."""
    try:
        return p.resolve()
    except (OSError, RuntimeError):
        return p


# what XML 1.0 cannot hold: control characters but tab and newlines, lone
# surrogates, U+FFFE and U+FFFF
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def metadata_value(node: ast.Setting | None, src: SourceFile, sink: Sink) -> str | None:
    """A header value written into the book's metadata (PDF info, ComicInfo.xml),
    without the characters XML 1.0 cannot hold (a warning says so)."""
    if node is None or node.value is None:
        return None
    value = node.value
    bad = XML_FORBIDDEN.search(value)
    if bad is None:
        return value
    start = (node.value_span or node.key_span).start + bad.start()
    sink.warning(
        "metadata-characters",
        f"`{node.key}` has characters that cannot be stored in metadata "
        f"(U+{ord(bad.group()):04X}); they are dropped",
        src.span(start, start + 1),
        hints=["remove control characters (a stray paste, a form feed) from the value"],
    )
    return XML_FORBIDDEN.sub("", value)


BUDGET_MAX = 1_000_000  # far above any book's cost in any unit


def budget_value(node: ast.Setting, sink: Sink) -> ir.Budget | None:
    """A ``budget:`` value: a number from 0 (never pay) to :data:`BUDGET_MAX`, in
    the cost unit of the backend that paints; None after an error."""
    t = (node.value or "").strip()
    span = node.value_span or node.key_span
    amount = float(t) if re.fullmatch(r"[0-9]{1,7}(\.[0-9]{1,6})?", t) else None
    if amount is None or amount > BUDGET_MAX:
        sink.error(
            "bad-value",
            f"`budget` is the most a build may cost, a number from 0 to {BUDGET_MAX:,}, "
            f"not `{t[:40]}`",
            span,
            label="not a budget",
            hints=[
                "write it in the cost unit of the backend that paints, without the unit: "
                "`budget: 50` (credits for stability, USD for openai); "
                "`comicc plan` shows what a build costs"
            ],
        )
        return None
    return ir.Budget(amount, span)


def language_value(node: ast.Setting | None, sink: Sink) -> str:
    if node is None:
        return "en"
    t = (node.value or "").strip()
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", t):
        sink.error(
            "bad-value",
            f"`language` is a language code like `en` or `ja`, not `{t}`",
            node.value_span or node.key_span,
            hints=["use an ISO 639 code: en, fr, ja, pt-BR ..."],
        )
        return "en"
    return t


def theme_value(
    node: ast.Setting,
    src: SourceFile,
    sink: Sink,
    themes: Sequence[str],
    theme_dirs: Sequence[str],
) -> str | None:
    """A ``theme:`` value: a shipped theme's name, or the absolute path of a theme
    file inside the script's folder or ``theme_dirs``; None after an error."""
    t = (node.value or "").strip()
    if is_theme_path(t):
        base = Path(src.path).resolve().parent
        p = script_path(t, base)
        if not path_within(p, (base, *theme_dirs)):
            sink.error(
                "path-not-allowed",
                f"theme file `{t}` is outside the script's folder",
                node.value_span,
                label="not read",
                hints=[
                    "a script reads theme files from its own folder (and below), the "
                    "shipped themes and your themes folder only, so a script from a "
                    "stranger cannot read your other files",
                    f"if you trust this script, run comicc with `--allow-path {_real(p).parent}`",
                ],
            )
            return None
        if p.is_file():
            return str(p)
        sink.error(
            "unknown-theme",
            f"theme file `{t}` does not exist",
            node.value_span,
            hints=[f"looked for {p}"],
        )
        return None
    if t in themes:
        return t
    close = did_you_mean(t, themes)
    hints = [f"did you mean `{close[0]}`?"] if close else []
    hints.append("themes: " + ", ".join(themes) + ", or a path to a .toml theme file")
    sink.error(
        "unknown-theme",
        f"unknown theme `{t}`",
        node.value_span,
        label="not a theme",
        hints=hints,
    )
    return None
