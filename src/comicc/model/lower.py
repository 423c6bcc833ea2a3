"""Lowering: syntax tree -> IR, with every semantic check of the language.

The pass walks header, pages and panels once, resolving inherited settings,
expanding characters and snippets into each panel's prompt, interpreting
lettering lines, and reporting every problem it can find into the sink.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from comicc.diagnostics import Label, Sink, did_you_mean
from comicc.model import ir
from comicc.model.checks import check_not_empty, check_numbering, check_words, lint_prose
from comicc.model.lettering import (
    RESERVED_CUES,
    check_unclosed_trivia,
    interpret_mods,
    parse_runs,
    strip_trivia,
)
from comicc.model.prompt import SNIPPET_REF, PromptTemplates, TemplateProblem, assemble
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
    is_theme_path,
    parse_bleed,
    parse_cast,
    parse_choice,
    parse_format,
    parse_int,
    parse_layout,
    parse_mask,
    parse_width,
)
from comicc.source import SourceFile, Span
from comicc.syntax import ast


@dataclass
class Context:
    """What the lowering needs from the stages around it, as plain values (no global
    state): the theme's templates and page formats, the known themes and backends."""

    templates: PromptTemplates
    page_formats: tuple[str, ...]  # the names of the theme's `[formats.NAME]` tables
    backends: tuple[str, ...]  # every name `backend:` may take (the backends' registry)
    default_negative: str = ""
    themes: tuple[str, ...] = ("classic",)
    default_theme: str = "classic"
    default_format: str = "us-comic"  # the theme's, used when the script sets no `format:`
    default_reading: str = "ltr"  # the theme's, used when the script sets no `reading:`


@dataclass(frozen=True)
class _Book:
    """The header settings that describe the whole book."""

    meta: ir.Metadata
    theme: str
    page_format: str
    reading: str


@dataclass
class _Level:
    """Settings given at one level (header, page or panel)."""

    values: dict[str, ast.Setting] = field(default_factory=dict)
    prompt_items: list[str] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)
    replace_prompt: list[str] | None = None


def lower(tree: ast.Script, src: SourceFile, sink: Sink, ctx: Context) -> ir.Script | None:
    return _Lowerer(tree, src, sink, ctx).run()


class _Lowerer:
    def __init__(self, tree: ast.Script, src: SourceFile, sink: Sink, ctx: Context):
        self.tree, self.src, self.sink, self.ctx = tree, src, sink, ctx
        self.characters: dict[str, ast.CharacterDef] = {}
        self.snippets: dict[str, ast.SnippetDef] = {}
        self.speakers: set[str] = set()
        self._style_cache: dict[int, list[str]] = {}

    # ------------------------------------------------------------ driver
    def run(self) -> ir.Script | None:
        tree, sink = self.tree, self.sink
        check_not_empty(tree, self.src.path, sink)
        self._collect_definitions()
        self._collect_speakers()
        header = self._level(tree.header, HEADER)
        book = self._book_settings(header)
        base = self._render_settings(ir.RenderSettings(), header, HEADER)
        pages = [self._page(page, header, base) for page in tree.pages]
        check_numbering(tree, self.src, sink)
        if sink.has_errors():
            return None
        script = ir.Script(
            self.src.path,
            book.meta,
            book.theme,
            book.page_format,
            book.reading,
            tuple(ir.Character(c.name, c.text, c.span) for c in self.characters.values()),
            tuple(ir.Snippet(s.name, s.text, s.span) for s in self.snippets.values()),
            tuple(pages),
            base,
        )
        check_words(script, sink)
        return script

    # ------------------------------------------------------------ definitions
    def _collect_definitions(self) -> None:
        def visit(lines: Sequence[ast.Line], where: str) -> None:
            for node in lines:
                if isinstance(node, (ast.CharacterDef, ast.SnippetDef)):
                    if where != HEADER:
                        kind = "character" if isinstance(node, ast.CharacterDef) else "snippet"
                        self.sink.error(
                            "definition-outside-header",
                            f"{kind} definitions belong in the header",
                            node.span,
                            hints=["move it above the first PAGE"],
                        )
                    if isinstance(node, ast.CharacterDef) and node.name in RESERVED_CUES:
                        self.sink.error(
                            "reserved-name",
                            f"`{node.name}` is a reserved cue, not a character name",
                            node.name_span,
                            hints=[
                                "CAPTION, SFX, NOTE and TITLE have fixed meanings; "
                                "choose another name"
                            ],
                        )
                        continue
                    prev: ast.CharacterDef | ast.SnippetDef | None
                    if isinstance(node, ast.CharacterDef):
                        prev = self.characters.setdefault(node.name, node)
                    else:
                        prev = self.snippets.setdefault(node.name, node)
                    if prev is not node:
                        kind = "character" if isinstance(node, ast.CharacterDef) else "snippet"
                        self.sink.error(
                            "redefinition",
                            f"{kind} `{node.name}` is defined twice",
                            node.name_span,
                            label="defined again here",
                            labels=[Label(prev.name_span, "first defined here")],
                            hints=["rename one of them or delete one definition"],
                        )
                    if isinstance(node, ast.SnippetDef) and "@" in node.text:
                        for m in SNIPPET_REF.finditer(node.text):
                            self.sink.warning(
                                "nested-snippet",
                                f"`@{m.group(1)}` inside a snippet is not expanded",
                                node.span,
                                hints=["list both snippets in `prompt:` or `style:` instead"],
                            )
                            break

        visit([x for x in self.tree.header if not isinstance(x, ast.Panel)], HEADER)
        for page in self.tree.pages:
            visit(page.lines, PAGE)
            for panel in page.panels:
                visit(panel.lines, PANEL)

    def _collect_speakers(self) -> None:
        for page in self.tree.pages:
            for panel in page.panels:
                for node in panel.lines:
                    if isinstance(node, ast.LetteringLine) and node.cue not in RESERVED_CUES:
                        self.speakers.add(node.cue)

    # ------------------------------------------------------------ settings
    def _level(self, lines: Sequence[ast.Line | ast.Panel], where: str) -> _Level:
        lv = _Level()
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
                linted = lint_prose(
                    node, self.src, self.sink, set(self.characters) | self.speakers, where
                )
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

    def _setting(self, node: ast.Setting, where: str, lv: _Level) -> None:
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
            if key.upper() in self.characters or key.upper() in self.speakers:
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
            items = self._list_items(node, split_inline=key != "negative")
            if key == "prompt":
                lv.prompt_items += items
            elif key == "negative":
                lv.negative += items
            else:
                lv.replace_prompt = items

    def _list_items(self, node: ast.Setting, split_inline: bool = True) -> list[str]:
        out = []
        if node.value:
            v = self._value(node)
            if split_inline:
                for part, s, e in v.parts(","):
                    if part:
                        self._check_refs(part, v.sub(s, e))
                        out.append(part)
            else:
                self._check_refs(node.value, v.span)
                out.append(node.value)
        for item in node.items:
            if isinstance(item, ast.ListItem) and item.text:
                self._check_refs(item.text, item.span)
                out.append(strip_trivia(item.text).strip())
        return out

    def _check_refs(self, text: str, span: Span) -> None:
        for m in SNIPPET_REF.finditer(text):
            name = m.group(1)
            if name not in self.snippets:
                close = did_you_mean(name, self.snippets, n=3)
                hints = []
                if close:
                    first = self.snippets[close[0]]
                    hints.append(f"did you mean `@{close[0]}` (defined at line {first.span.line})?")
                elif self.snippets:
                    hints.append("snippets: " + ", ".join(f"@{s}" for s in self.snippets))
                else:
                    hints.append("define it in the header: `snippet " + name + ": ...`")
                sub = self.src.span(span.start + m.start(), span.start + m.end())
                self.sink.error(
                    "unknown-snippet",
                    f"unknown snippet `@{name}`",
                    sub,
                    label="not defined",
                    hints=hints,
                )

    def _style_items(self, node: ast.Setting | None) -> list[str]:
        """A `style:` setting's items, checked once however many panels use it."""
        if node is None:
            return []
        cached = self._style_cache.get(id(node))
        if cached is None:
            cached = self._style_cache[id(node)] = self._list_items(node)
        return cached

    def _value(self, node: ast.Setting) -> Value:
        return Value(node.value or "", node.value_span or node.key_span, self.src)

    def _book_settings(self, lv: _Level) -> _Book:
        vals = lv.values
        meta = ir.Metadata(
            title=vals["title"].value if "title" in vals else None,
            author=vals["author"].value if "author" in vals else None,
            series=vals["series"].value if "series" in vals else None,
            issue=vals["issue"].value if "issue" in vals else None,
            language=self._language(vals.get("language")),
        )
        theme = self.ctx.default_theme
        if "theme" in vals:
            theme = self._theme(vals["theme"]) or theme
        page_format = self.ctx.default_format
        if "format" in vals:
            page_format = (
                parse_format(self._value(vals["format"]), self.sink, self.ctx.page_formats)
                or page_format
            )
        reading = self.ctx.default_reading
        if "reading" in vals:
            reading = (
                parse_choice(
                    self._value(vals["reading"]), self.sink, "reading direction", ("ltr", "rtl")
                )
                or reading
            )
        return _Book(meta, theme, page_format, reading)

    def _language(self, node: ast.Setting | None) -> str:
        if node is None:
            return "en"
        t = (node.value or "").strip()
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", t):
            self.sink.error(
                "bad-value",
                f"`language` is a language code like `en` or `ja`, not `{t}`",
                node.value_span or node.key_span,
                hints=["use an ISO 639 code: en, fr, ja, pt-BR ..."],
            )
            return "en"
        return t

    def _theme(self, node: ast.Setting) -> str | None:
        t = (node.value or "").strip()
        if is_theme_path(t):
            p = Path(t)
            if not p.is_absolute():
                p = Path(self.src.path).resolve().parent / p
            if p.is_file():
                return str(p)
            self.sink.error(
                "unknown-theme",
                f"theme file `{t}` does not exist",
                node.value_span,
                hints=[f"looked for {p}"],
            )
            return None
        if t in self.ctx.themes:
            return t
        close = did_you_mean(t, self.ctx.themes)
        hints = [f"did you mean `{close[0]}`?"] if close else []
        hints.append("themes: " + ", ".join(self.ctx.themes) + ", or a path to a .toml theme file")
        self.sink.error(
            "unknown-theme",
            f"unknown theme `{t}`",
            node.value_span,
            label="not a theme",
            hints=hints,
        )
        return None

    def _render_settings(
        self, base: ir.RenderSettings, lv: _Level, where: str
    ) -> ir.RenderSettings:
        s = base
        v = lv.values
        if "backend" in v:
            b = parse_choice(
                self._value(v["backend"]),
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
                self._value(v["seed"]),
                self.sink,
                "seed",
                0,
                2**32 - 2,
                "a seed is a whole number from 0; each panel derives its own from it",
            )
            if n is not None:
                s = replace(s, seed=n)
        if "variants" in v:
            n = parse_int(self._value(v["variants"]), self.sink, "variants", 1, 16)
            if n is not None:
                s = replace(s, variants=n)
        if "dpi" in v:
            n = parse_int(
                self._value(v["dpi"]), self.sink, "dpi", 72, 1200, "300 dpi is print quality"
            )
            if n is not None:
                s = replace(s, dpi=n)
        if "mask" in v:
            m = parse_mask(self._value(v["mask"]), self.sink, s.mask)
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

    # ------------------------------------------------------------ pages and panels
    def _page(self, page: ast.Page, header: _Level, base: ir.RenderSettings) -> ir.Page:
        lv = self._level(page.lines, PAGE)
        settings = self._render_settings(base, lv, PAGE)
        layout = None
        if "layout" in lv.values:
            layout = parse_layout(self._value(lv.values["layout"]), self.sink)
            if layout is not None and layout.panel_count != len(page.panels):
                n = len(page.panels)
                self.sink.error(
                    "layout-mismatch",
                    f"layout `{lv.values['layout'].value}` holds {layout.panel_count} panel"
                    f"{'s' if layout.panel_count != 1 else ''} but the page has {n}",
                    lv.values["layout"].value_span,
                    label=f"{layout.panel_count} panels",
                    labels=[
                        Label(page.head.span, f"{n} panel{'s' if n != 1 else ''} on this page")
                    ],
                    hints=["change the layout or add/remove panels so the numbers match"],
                )
        page_bleed = None
        if "bleed" in lv.values:
            page_bleed = parse_bleed(self._value(lv.values["bleed"]), self.sink)
        style_src = lv.values.get("style") or header.values.get("style")
        style_items = self._style_items(style_src)
        counter = [0]  # lettering items so far on this page, across its panels
        panels = [
            self._panel(page, panel, header, lv, settings, style_items, page_bleed, counter)
            for panel in page.panels
        ]
        numbers = tuple(n.value for n in page.head.numbers)
        return ir.Page(numbers[0], numbers, page.head.note, layout, tuple(panels), page.span)

    def _panel(
        self,
        page: ast.Page,
        panel: ast.Panel,
        header: _Level,
        plv: _Level,
        page_settings: ir.RenderSettings,
        page_style: list[str],
        page_bleed: frozenset[str] | None,
        counter: list[int],
    ) -> ir.Panel:
        lv = self._level(panel.lines, PANEL)
        settings = self._render_settings(page_settings, lv, PANEL)
        pnum = page.head.numbers[0].value
        if "pick" in lv.values:
            n = parse_int(self._value(lv.values["pick"]), self.sink, "pick", 1, 16)
            if n is not None:
                if n > settings.variants:
                    self.sink.error(
                        "pick-out-of-range",
                        f"`pick: {n}` but this panel has only {settings.variants} variant"
                        f"{'s' if settings.variants != 1 else ''}",
                        lv.values["pick"].value_span,
                        hints=[
                            f"pick a number from 1 to {settings.variants}, or raise `variants:`"
                        ],
                    )
                else:
                    settings = replace(settings, pick=n)
        width = 1.0
        if "width" in lv.values:
            width = parse_width(self._value(lv.values["width"]), self.sink) or 1.0
        bleed = page_bleed or frozenset()
        if "bleed" in lv.values:
            bleed = parse_bleed(self._value(lv.values["bleed"]), self.sink) or frozenset()
        cast: list[ir.CastPosition] = []
        if "cast" in lv.values:
            known = set(self.characters) | self.speakers
            cast = parse_cast(self._value(lv.values["cast"]), self.sink, known) or []
        # description
        desc_lines = []
        for node in panel.lines:
            if isinstance(node, ast.Description):
                check_unclosed_trivia(node, self.src, self.sink)
                self._check_refs(node.text, node.span)
                t = strip_trivia(node.text).strip()
                if t:
                    desc_lines.append(t)
        description = " ".join(desc_lines)
        # balloons
        balloons = []
        for node in panel.lines:
            if isinstance(node, ast.LetteringLine):
                counter[0] += 1
                balloons.append(self._balloon(node, pnum, panel.head.number.value, counter[0]))
        # prompt
        style = self._style_items(lv.values["style"]) if "style" in lv.values else list(page_style)
        if lv.replace_prompt is not None:
            desc_for_prompt, items, style = "", list(lv.replace_prompt), []
        else:
            desc_for_prompt = description
            items = header.prompt_items + plv.prompt_items + lv.prompt_items
        negative = (
            (header.negative or ([self.ctx.default_negative] if self.ctx.default_negative else []))
            + plv.negative
            + lv.negative
        )
        try:
            text, neg, parts = assemble(
                description=desc_for_prompt,
                items=items,
                style=style,
                negative=negative,
                cast=[c.name for c in cast],
                snippets={k: s.text for k, s in self.snippets.items()},
                characters={k: c.text for k, c in self.characters.items()},
                templates=self.ctx.templates,
                page=pnum,
                panel=panel.head.number.value,
            )
        except TemplateProblem as e:
            self.sink.error(
                "prompt-template",
                str(e),
                panel.head.span,
                hints=["fix the theme's [prompt] template"],
            )
            text, neg, parts = description, "", ()
        num = panel.head.number.value
        return ir.Panel(
            f"p{pnum}.{num}",
            pnum,
            num,
            panel.head.note,
            description,
            ir.Prompt(text, neg, parts),
            tuple(cast),
            tuple(balloons),
            width,
            bleed,
            settings,
            panel.span,
        )

    def _balloon(self, node: ast.LetteringLine, page: int, panel: int, index: int) -> ir.Balloon:
        meaning = interpret_mods(node, self.sink)
        runs = parse_runs(node.lines, self.src, self.sink, note=meaning.kind is ir.BalloonKind.NOTE)
        text = "".join(r.text for r in runs).rstrip()
        if not text and meaning.kind is not ir.BalloonKind.SFX:
            self.sink.warning(
                "empty-balloon",
                f"`{node.cue}` has no text to letter",
                node.cue_span,
                hints=["write the line after the colon, or delete it"],
            )
        elif not text:
            self.sink.warning("empty-balloon", "SFX with no sound to letter", node.cue_span)
        linked = text.endswith("--")
        return ir.Balloon(
            f"p{page}.{panel}.b{index}",
            index,
            node.number,
            node.cue,
            meaning.speaker,
            meaning.kind,
            meaning.mods,
            meaning.off_panel,
            meaning.small,
            meaning.contd,
            linked,
            runs,
            node.span,
        )
