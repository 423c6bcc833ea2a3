"""Settings resolution: each level's settings (header, page, panel) read, checked and inherited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from comicc.diagnostics import Label, Sink, did_you_mean
from comicc.model import ir
from comicc.model.checks import lint_prose
from comicc.model.definitions import Definitions
from comicc.model.header import budget_value, language_value, metadata_value, theme_value
from comicc.model.lettering import strip_trivia
from comicc.model.prompt import PromptTemplates
from comicc.model.settings import (
    ADDITIVE,
    HEADER,
    KEYS,
    LEVEL_HINT,
    LIST_KEYS,
    PAGE,
    PANEL,
    describe_levels,
)
from comicc.model.values import (
    Value,
    parse_choice,
    parse_format,
    parse_int,
    parse_mask,
)
from comicc.source import SourceFile, Span
from comicc.syntax import ast


@dataclass
class Context:
    """What the lowering needs from the stages around it, as plain values (no global
    state): the theme's templates and page formats, the known themes and backends."""

    templates: PromptTemplates
    page_formats: tuple[str, ...]  # the names of the theme's `[formats.NAME]` tables
    # every name `backend:` may take (the backends' registry); any sequence, so
    # the caller may look the names up only when a script names a backend
    backends: Sequence[str]
    default_negative: str = ""
    themes: tuple[str, ...] = ("classic",)
    default_theme: str = "classic"
    default_format: str = "us-comic"  # the theme's, used when the script sets no `format:`
    default_reading: str = "ltr"  # the theme's, used when the script sets no `reading:`
    # folders a `theme:` file may be in besides the script's own folder (and
    # below): the shipped themes, the user's themes folder, each `--allow-path`
    theme_dirs: tuple[str, ...] = ()
    # folders (`--allow-path`) a character's `ref:` image may be in besides the
    # script's own folder (and below)
    allow_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Book:
    """The header settings that describe the whole book."""

    meta: ir.Metadata
    theme: str
    page_format: str
    reading: str
    budget: ir.Budget | None = None


@dataclass
class Level:
    """Settings given at one level (header, page or panel)."""

    values: dict[str, ast.Setting] = field(default_factory=dict)
    prompt_items: list[str] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)
    replace_prompt: list[str] | None = None
    # where each item of prompt_items / replace_prompt is written (prompt provenance)
    prompt_spans: list[Span] = field(default_factory=list)
    replace_spans: list[Span] = field(default_factory=list)


class SettingsReader:
    """Reads the settings of one level at a time and resolves them against the levels
    above: each level's values and prompt lists, the book settings, render settings."""

    def __init__(self, src: SourceFile, sink: Sink, ctx: Context, defs: Definitions):
        self.src, self.sink, self.ctx, self.defs = src, sink, ctx, defs
        self._style_cache: dict[int, list[tuple[str, Span]]] = {}

    def level(self, lines: Sequence[ast.Line | ast.Panel], where: str) -> Level:
        """The settings given at one level, checking every line that is not a panel's."""
        lv = Level()
        for node in lines:
            if isinstance(node, ast.Panel):
                self.sink.error(
                    "panel-outside-page",
                    "this PANEL comes before the first PAGE",
                    node.head.span,
                    hints=["add a `PAGE 1` heading above it"],
                )
                continue
            if isinstance(node, ast.Setting):
                self._setting(node, where, lv)
            elif isinstance(node, ast.LetteringLine) and where != PANEL:
                self.sink.error(
                    "lettering-outside-panel",
                    f"lettering for `{node.cue}` is not inside a panel",
                    node.span,
                    hints=["put it under a `PANEL n` heading"],
                )
            elif isinstance(node, ast.Description):
                linted = lint_prose(node, self.src, self.sink, self.defs.known_names(), where)
                if where != PANEL and not linted:
                    self.sink.error(
                        "prose-outside-panel",
                        "description text outside a panel has nothing to describe"
                        if where == PAGE
                        else "description text in the header, before the first PAGE",
                        node.span,
                        hints=[
                            "put it under a `PANEL n` heading, or make it a note "
                            "with `[[ ... ]]` or a comment with `#`"
                        ],
                    )
            elif isinstance(node, ast.Boneyard) and not node.closed:
                self.sink.error(
                    "unclosed-boneyard",
                    "boneyard `/*` is never closed",
                    self.src.span(node.span.start, node.span.start + 2),
                    hints=["close it with `*/`; everything after it is cut until then"],
                )
        return lv

    def _setting(self, node: ast.Setting, where: str, lv: Level) -> None:
        key = node.key
        if "." in key:
            backend = key.split(".", 1)[0]
            if backend not in self.ctx.backends:
                close = did_you_mean(backend, self.ctx.backends)
                hints = [f"did you mean `{close[0]}.{key.split('.', 1)[1]}`?"] if close else []
                hints.append(
                    "backend settings are `<backend>.<name>`; backends: "
                    + ", ".join(self.ctx.backends)
                )
                self.sink.error(
                    "unknown-setting",
                    f"unknown backend `{backend}` in setting `{key}`",
                    node.key_span,
                    hints=hints,
                )
                return
            levels = frozenset({HEADER, PAGE, PANEL})
        elif key not in KEYS:
            close = did_you_mean(key, KEYS)
            hints = [f"did you mean `{close[0]}`?"] if close else []
            if key.upper() in self.defs.characters or key.upper() in self.defs.speakers:
                hints.append(
                    f"if this is dialogue, write the speaker in CAPS: `{key.upper()}: ...`"
                )
            hints.append("settings: " + ", ".join(k for k in KEYS))
            self.sink.error(
                "unknown-setting",
                f"unknown setting `{key}`",
                node.key_span,
                label="not a setting",
                hints=hints,
            )
            return
        else:
            levels = KEYS[key]
        if where not in levels:
            self.sink.error(
                "misplaced-setting",
                f"`{key}` is a {describe_levels(levels)} setting, not a {where} setting",
                node.key_span,
                hints=[LEVEL_HINT[sorted(levels, key=[HEADER, PAGE, PANEL].index)[0]]],
            )
            return
        if node.items and key not in LIST_KEYS and "." not in key:
            self.sink.error(
                "list-not-allowed",
                f"`{key}` takes a single value, not a list",
                node.items[0].span,
                hints=["only prompt, prompt!, negative and style take `- item` lists"],
            )
            return
        if node.value is None and not node.items and key not in LIST_KEYS:
            self.sink.error(
                "bad-value",
                f"`{key}` needs a value",
                node.key_span,
                hints=[f"write `{key}: <value>`"],
            )
            return
        prev = lv.values.get(key)
        if prev is not None and key not in ADDITIVE:
            self.sink.error(
                "redefinition",
                f"`{key}` is set twice here",
                node.key_span,
                label="set again here",
                labels=[Label(prev.key_span, "first set here")],
                hints=["keep one of them; the later one would silently win"],
            )
            return
        lv.values[key] = node
        if key in ("prompt", "negative", "prompt!"):
            located = self.located_items(node, split_inline=key != "negative")
            items = [text for text, _ in located]
            if key == "prompt":
                lv.prompt_items += items
                lv.prompt_spans += [span for _, span in located]
            elif key == "negative":
                lv.negative += items
            else:
                lv.replace_prompt = items
                lv.replace_spans = [span for _, span in located]

    def list_items(self, node: ast.Setting, split_inline: bool = True) -> list[str]:
        """A list setting's items, inline (comma-separated) and `- item` lines alike."""
        return [text for text, _ in self.located_items(node, split_inline)]

    def located_items(self, node: ast.Setting, split_inline: bool = True) -> list[tuple[str, Span]]:
        """:meth:`list_items` with where each item is written."""
        out = []
        if node.value:
            v = self.value(node)
            if split_inline:
                for part, s, e in v.parts(","):
                    if part:
                        self.defs.check_refs(part, v.sub(s, e), self.src, self.sink)
                        out.append((part, v.sub(s, e)))
            else:
                self.defs.check_refs(node.value, v.span, self.src, self.sink)
                out.append((node.value, v.span))
        for item in node.items:
            if isinstance(item, ast.ListItem) and item.text:
                self.defs.check_refs(item.text, item.span, self.src, self.sink)
                out.append((strip_trivia(item.text).strip(), item.span))
        return out

    def style_items(self, node: ast.Setting | None) -> list[str]:
        """A `style:` setting's items, checked once however many panels use it."""
        if node is None:
            return []
        return [text for text, _ in self.located_style(node)]

    def located_style(self, node: ast.Setting | None) -> list[tuple[str, Span]]:
        """:meth:`style_items` with where each item is written."""
        if node is None:
            return []
        cached = self._style_cache.get(id(node))
        if cached is None:
            cached = self._style_cache[id(node)] = self.located_items(node)
        return cached

    def style_checked(self, node: ast.Setting) -> bool:
        """Whether the `style:` setting ``node`` was checked already (see :meth:`located_style`)."""
        return id(node) in self._style_cache

    def check_style_quietly(self, node: ast.Setting) -> None:
        """Check ``node`` as :meth:`located_style` does, reporting nothing (what it
        reports was put back from the check memo)."""
        if id(node) not in self._style_cache:
            sink, self.sink = self.sink, Sink()
            try:
                self.located_style(node)
            finally:
                self.sink = sink

    def value(self, node: ast.Setting) -> Value:
        """A setting's value with its span, for the value parsers."""
        return Value(node.value or "", node.value_span or node.key_span, self.src)

    def book_settings(self, lv: Level) -> Book:
        """The header's book-wide settings, defaulted from the context."""
        vals = lv.values
        meta = ir.Metadata(
            title=metadata_value(vals.get("title"), self.src, self.sink),
            author=metadata_value(vals.get("author"), self.src, self.sink),
            series=metadata_value(vals.get("series"), self.src, self.sink),
            issue=metadata_value(vals.get("issue"), self.src, self.sink),
            language=language_value(vals.get("language"), self.sink),
        )
        theme = self.ctx.default_theme
        if "theme" in vals:
            theme = (
                theme_value(
                    vals["theme"], self.src, self.sink, self.ctx.themes, self.ctx.theme_dirs
                )
                or theme
            )
        page_format = self.ctx.default_format
        if "format" in vals:
            page_format = (
                parse_format(self.value(vals["format"]), self.sink, self.ctx.page_formats)
                or page_format
            )
        reading = self.ctx.default_reading
        if "reading" in vals:
            reading = (
                parse_choice(
                    self.value(vals["reading"]), self.sink, "reading direction", ("ltr", "rtl")
                )
                or reading
            )
        budget = budget_value(vals["budget"], self.sink) if "budget" in vals else None
        return Book(meta, theme, page_format, reading, budget)

    def render_settings(self, base: ir.RenderSettings, lv: Level, where: str) -> ir.RenderSettings:
        """`base` (the level above's) with this level's render settings applied."""
        s = base
        v = lv.values
        if "backend" in v:
            b = parse_choice(
                self.value(v["backend"]),
                self.sink,
                "backend",
                self.ctx.backends,
                "unknown-backend",
            )
            if b:
                s = replace(s, backend=b)
        if "model" in v:
            s = replace(s, model=(v["model"].value or "").strip())
        if "seed" in v:
            n = parse_int(
                self.value(v["seed"]),
                self.sink,
                "seed",
                0,
                2**32 - 2,
                "a seed is a whole number from 0; each panel derives its own from it",
            )
            if n is not None:
                s = replace(s, seed=n)
        if "variants" in v:
            n = parse_int(self.value(v["variants"]), self.sink, "variants", 1, 16)
            if n is not None:
                s = replace(s, variants=n)
        if "dpi" in v:
            n = parse_int(
                self.value(v["dpi"]), self.sink, "dpi", 72, 1200, "300 dpi is print quality"
            )
            if n is not None:
                s = replace(s, dpi=n)
        if "mask" in v:
            m = parse_mask(self.value(v["mask"]), self.sink, s.mask)
            if m is not None:
                s = replace(s, mask=m)
        dotted = dict(s.backend_settings)
        spans = dict(s.spans)
        for key, node in v.items():
            if "." in key or key in ("backend", "model"):
                spans[key] = node.value_span or node.key_span
            if "." in key:
                dotted[key] = (node.value or "").strip()
        if len(dotted) != len(s.backend_settings) or any(
            dict(s.backend_settings).get(k) != val for k, val in dotted.items()
        ):
            s = replace(s, backend_settings=tuple(sorted(dotted.items())))
        if spans != dict(s.spans):
            s = replace(s, spans=tuple(sorted(spans.items(), key=lambda kv: kv[0])))
        return s
