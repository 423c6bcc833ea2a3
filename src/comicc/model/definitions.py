"""Definitions: the script's characters, snippets and speakers, and `@snippet` checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from comicc.diagnostics import Label, Sink, did_you_mean
from comicc.model.lettering import RESERVED_CUES
from comicc.model.prompt import SNIPPET_REF
from comicc.model.settings import HEADER, PAGE, PANEL
from comicc.source import SourceFile, Span
from comicc.syntax import ast


@dataclass
class Definitions:
    """The names a script defines (characters, snippets) and the cues that speak in it."""

    characters: dict[str, ast.CharacterDef] = field(default_factory=dict)
    snippets: dict[str, ast.SnippetDef] = field(default_factory=dict)
    speakers: set[str] = field(default_factory=set)
    _known: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)

    def known_names(self) -> frozenset[str]:
        """Every name a panel may mention: the defined characters and the speakers.

        Computed once: the definitions are complete before any panel is
        resolved, and a script may have thousands of description lines."""
        if self._known is None:
            self._known = frozenset(self.characters) | frozenset(self.speakers)
        return self._known

    def check_refs(self, text: str, span: Span, src: SourceFile, sink: Sink) -> None:
        """Report each `@name` in `text` (found at `span`) that names no snippet."""
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
                sub = src.span(span.start + m.start(), span.start + m.end())
                sink.error(
                    "unknown-snippet",
                    f"unknown snippet `@{name}`",
                    sub,
                    label="not defined",
                    hints=hints,
                )


def collect_definitions(tree: ast.Script, sink: Sink) -> Definitions:
    """The script's definitions and speakers, reporting misplaced, reserved, repeated
    and nested definitions."""
    defs = Definitions()

    def visit(lines: Sequence[ast.Line], where: str) -> None:
        for node in lines:
            if isinstance(node, (ast.CharacterDef, ast.SnippetDef)):
                if where != HEADER:
                    kind = "character" if isinstance(node, ast.CharacterDef) else "snippet"
                    sink.error(
                        "definition-outside-header",
                        f"{kind} definitions belong in the header",
                        node.span,
                        hints=["move it above the first PAGE"],
                    )
                if isinstance(node, ast.CharacterDef) and node.name in RESERVED_CUES:
                    sink.error(
                        "reserved-name",
                        f"`{node.name}` is a reserved cue, not a character name",
                        node.name_span,
                        hints=[
                            "CAPTION, SFX, NOTE and TITLE have fixed meanings; choose another name"
                        ],
                    )
                    continue
                prev: ast.CharacterDef | ast.SnippetDef | None
                if isinstance(node, ast.CharacterDef):
                    prev = defs.characters.setdefault(node.name, node)
                else:
                    prev = defs.snippets.setdefault(node.name, node)
                if prev is not node:
                    kind = "character" if isinstance(node, ast.CharacterDef) else "snippet"
                    sink.error(
                        "redefinition",
                        f"{kind} `{node.name}` is defined twice",
                        node.name_span,
                        label="defined again here",
                        labels=[Label(prev.name_span, "first defined here")],
                        hints=["rename one of them or delete one definition"],
                    )
                if isinstance(node, ast.SnippetDef) and "@" in node.text:
                    for m in SNIPPET_REF.finditer(node.text):
                        sink.warning(
                            "nested-snippet",
                            f"`@{m.group(1)}` inside a snippet is not expanded",
                            node.span,
                            hints=["list both snippets in `prompt:` or `style:` instead"],
                        )
                        break

    visit([x for x in tree.header if not isinstance(x, ast.Panel)], HEADER)
    for page in tree.pages:
        visit(page.lines, PAGE)
        for panel in page.panels:
            visit(panel.lines, PANEL)
    for page in tree.pages:
        for panel in page.panels:
            for node in panel.lines:
                if isinstance(node, ast.LetteringLine) and node.cue not in RESERVED_CUES:
                    defs.speakers.add(node.cue)
    return defs
