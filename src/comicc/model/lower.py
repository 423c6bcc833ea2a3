"""Lowering: syntax tree -> IR, the walk that builds pages, panels and balloons.

The pass walks header, pages and panels once: definitions are collected first
(:mod:`comicc.model.definitions`), each level's settings are read and inherited
(:mod:`comicc.model.resolve`), then characters and snippets are expanded into
each panel's prompt and lettering lines interpreted, every problem it can find
reported into the sink.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from comicc.diagnostics import Label, Sink
from comicc.model import ir
from comicc.model.checks import check_not_empty, check_numbering, check_words
from comicc.model.definitions import collect_definitions
from comicc.model.lettering import (
    check_unclosed_trivia,
    interpret_mods,
    parse_runs,
    strip_trivia,
)
from comicc.model.prompt import PromptSpans, TemplateProblem, assemble_prompt
from comicc.model.references import character_extras
from comicc.model.resolve import Context, Level, SettingsReader
from comicc.model.settings import HEADER, PAGE, PANEL
from comicc.model.slips import lint_continuations
from comicc.model.text_requests import SlipState, lint_panel_prompt
from comicc.model.values import parse_bleed, parse_cast, parse_int, parse_layout, parse_width
from comicc.source import SourceFile
from comicc.syntax import ast

MAX_BALLOON_CHARS = 2000  # lettering characters in one balloon


def lower(tree: ast.Script, src: SourceFile, sink: Sink, ctx: Context) -> ir.Script | None:
    lowerer = Lowerer(tree, src, sink, ctx)
    lowerer.start()
    return lowerer.finish([lowerer.page(page) for page in tree.pages])


class Lowerer:
    """The walk, in three steps a caller may take one page at a time:
    :meth:`start` (the header), :meth:`page` (each page, in order) and
    :meth:`finish` (the checks across pages, the script).

    ``speakers``: the cues that speak on the script's pages when ``tree``
    holds its header alone (the check memo lowers the pages it has no answer
    for one by one); None: ``tree`` is the whole script."""

    def __init__(
        self,
        tree: ast.Script,
        src: SourceFile,
        sink: Sink,
        ctx: Context,
        speakers: frozenset[str] | None = None,
    ):
        self.tree, self.src, self.sink, self.ctx = tree, src, sink, ctx
        self.speakers = speakers
        self.slips = SlipState()  # what the prompt checks remember across panels

    # ------------------------------------------------------------ driver
    def start(self) -> None:
        """Lower the header: definitions, characters, book and header settings."""
        tree, sink = self.tree, self.sink
        if self.speakers is None:
            check_not_empty(tree, self.src.path, sink)
        self.defs = collect_definitions(tree, sink)
        if self.speakers is not None:
            self.defs.speakers.update(self.speakers)
        self.settings = SettingsReader(self.src, sink, self.ctx, self.defs)
        self.characters = {
            name: ir.Character(
                c.name,
                c.text,
                c.span,
                *character_extras(c, self.src.path, self.ctx.allow_paths, sink),
            )
            for name, c in self.defs.characters.items()
        }
        self.header = self.settings.level(tree.header, HEADER)
        self.book = self.settings.book_settings(self.header)
        self.base = self.settings.render_settings(ir.RenderSettings(), self.header, HEADER)

    def page(self, page: ast.Page) -> ir.Page:
        """Lower one page (after :meth:`start`)."""
        return self._page(page, self.header, self.base)

    def carried(self, header_end: int) -> tuple[tuple[int, ...], bool]:
        """What lowering a page reads that lowering the pages before it left
        (``header_end``: where the header ends): the header offsets the prompt
        checks reported, whether the header's `style:` was checked."""
        style = self.header.values.get("style")
        reported = tuple(sorted(o for o in self.slips.reported if o < header_end))
        return reported, style is not None and self.settings.style_checked(style)

    def carry(self, reported: Iterable[int], style_checked: bool) -> None:
        """Take over what lowering a page left (:meth:`carried`) when the page is
        not lowered again (its diagnostics put back from the check memo)."""
        self.slips.reported.update(reported)
        style = self.header.values.get("style")
        if style_checked and style is not None:
            self.settings.check_style_quietly(style)

    def finish(self, pages: list[ir.Page]) -> ir.Script | None:
        """The checks across pages and the script (None when there are errors)."""
        check_numbering(self.tree, self.src, self.sink)
        if self.sink.has_errors():
            return None
        script = self.script(pages)
        check_words(script, self.sink)
        return script

    def script(self, pages: Sequence[ir.Page] = ()) -> ir.Script:
        """The script of ``pages``, with the header's meaning (after :meth:`start`)."""
        book = self.book
        return ir.Script(
            self.src.path,
            book.meta,
            book.theme,
            book.page_format,
            book.reading,
            tuple(self.characters.values()),
            tuple(ir.Snippet(s.name, s.text, s.span) for s in self.defs.snippets.values()),
            tuple(pages),
            self.base,
            budget=book.budget,
        )

    # ------------------------------------------------------------ pages and panels
    def _page(self, page: ast.Page, header: Level, base: ir.RenderSettings) -> ir.Page:
        lv = self.settings.level(page.lines, PAGE)
        settings = self.settings.render_settings(base, lv, PAGE)
        layout = None
        if "layout" in lv.values:
            layout = parse_layout(self.settings.value(lv.values["layout"]), self.sink)
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
            page_bleed = parse_bleed(self.settings.value(lv.values["bleed"]), self.sink)
        style_src = lv.values.get("style") or header.values.get("style")
        style_items = self.settings.style_items(style_src)
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
        header: Level,
        plv: Level,
        page_settings: ir.RenderSettings,
        page_style: list[str],
        page_bleed: frozenset[str] | None,
        counter: list[int],
    ) -> ir.Panel:
        lv = self.settings.level(panel.lines, PANEL)
        settings = self.settings.render_settings(page_settings, lv, PANEL)
        pnum = page.head.numbers[0].value
        if "pick" in lv.values:
            n = parse_int(self.settings.value(lv.values["pick"]), self.sink, "pick", 1, 16)
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
            width = parse_width(self.settings.value(lv.values["width"]), self.sink) or 1.0
        bleed = page_bleed or frozenset()
        if "bleed" in lv.values:
            bleed = parse_bleed(self.settings.value(lv.values["bleed"]), self.sink) or frozenset()
        cast: list[ir.CastPosition] = []
        if "cast" in lv.values:
            known = self.defs.known_names()
            cast = parse_cast(self.settings.value(lv.values["cast"]), self.sink, known) or []
        # description
        desc_lines = []
        for node in panel.lines:
            if isinstance(node, ast.Description):
                check_unclosed_trivia(node, self.src, self.sink)
                self.defs.check_refs(node.text, node.span, self.src, self.sink)
                t = strip_trivia(node.text).strip()
                if t:
                    desc_lines.append(t)
        description = " ".join(desc_lines)
        desc_nodes = [n for n in panel.lines if isinstance(n, ast.Description) and n.span]
        desc_span = (
            self.src.span(desc_nodes[0].span.start, desc_nodes[-1].span.end) if desc_nodes else None
        )
        # balloons
        balloons = []
        for node in panel.lines:
            if isinstance(node, ast.LetteringLine):
                counter[0] += 1
                balloons.append(self._balloon(node, pnum, panel.head.number.value, counter[0]))
        # prompt
        style = (
            self.settings.style_items(lv.values["style"])
            if "style" in lv.values
            else list(page_style)
        )
        style_node = lv.values.get("style") or plv.values.get("style") or header.values.get("style")
        spans = PromptSpans(
            desc_span,
            header.prompt_spans + plv.prompt_spans + lv.prompt_spans,
            [span for _, span in self.settings.located_style(style_node)],
            snippets={k: s.span for k, s in self.defs.snippets.items()},
            characters={k: c.span for k, c in self.defs.characters.items()},
        )
        if lv.replace_prompt is not None:
            desc_for_prompt, items, style = "", list(lv.replace_prompt), []
            spans = replace(spans, description=None, items=lv.replace_spans, replaced=True)
        else:
            desc_for_prompt = description
            items = header.prompt_items + plv.prompt_items + lv.prompt_items
        negative = (
            (header.negative or ([self.ctx.default_negative] if self.ctx.default_negative else []))
            + plv.negative
            + lv.negative
        )
        try:
            prompt = assemble_prompt(
                description=desc_for_prompt,
                items=items,
                style=style,
                negative=negative,
                cast=[c.name for c in cast],
                snippets={k: s.text for k, s in self.defs.snippets.items()},
                characters={k: c.text for k, c in self.defs.characters.items()},
                templates=self.ctx.templates,
                page=pnum,
                panel=panel.head.number.value,
                spans=spans,
            )
        except TemplateProblem as e:
            self.sink.error(
                "prompt-template",
                str(e),
                panel.head.span,
                hints=["fix the theme's [prompt] template"],
            )
            prompt = ir.Prompt(description, "", ())
        # the characters the panel shows, as the prompt expansion found them
        shown = {p.name for p in prompt.sources if p.kind == "character"}
        present = [n for n in self.characters if n in shown]
        # words on their way to the painter: a slipped continuation, a prompt asking for text
        lint_continuations(panel.lines, self.src, self.sink)
        lint_panel_prompt(
            self.tree.header,
            page,
            panel,
            style_node,
            [c.name for c in cast],
            prompt.text,
            self.defs,
            self.src,
            self.sink,
            self.slips,
        )
        num = panel.head.number.value
        return ir.Panel(
            f"p{pnum}.{num}",
            pnum,
            num,
            panel.head.note,
            description,
            prompt,
            tuple(cast),
            tuple(balloons),
            width,
            bleed,
            settings,
            panel.span,
            tuple(present),
            tuple(r for n in present for r in self.characters[n].references),
            tuple(lo for n in present for lo in self.characters[n].loras),
        )

    def _balloon(self, node: ast.LetteringLine, page: int, panel: int, index: int) -> ir.Balloon:
        meaning = interpret_mods(node, self.sink)
        runs = parse_runs(node.lines, self.src, self.sink, note=meaning.kind is ir.BalloonKind.NOTE)
        text = "".join(r.text for r in runs).rstrip()
        if len(text) > MAX_BALLOON_CHARS:
            self.sink.error(
                "balloon-too-long",
                f"`{node.cue}` has {len(text)} characters of lettering: a balloon holds at "
                f"most {MAX_BALLOON_CHARS}",
                node.cue_span,
                hints=["split it into several balloons (a balloon is read in one breath)"],
            )
            runs = (ir.TextRun(text[:MAX_BALLOON_CHARS], False),)
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
