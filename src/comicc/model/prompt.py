"""Prompt assembly: description + prompt items + style, through a theme's
jinja2 template rendered in jinja2's sandbox.

Expansion rules (see docs/language.md, "From description to prompt"):
- ``@name`` anywhere expands to the snippet's text (snippets do not nest);
- the FIRST mention of a defined character's CAPS name in a panel expands
  through the theme's character template, ``NAME (description)`` by default;
- characters placed with ``cast:`` but not mentioned are added after the
  description, so the art shows everyone the lettering points at.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from comicc.model import ir
from comicc.model.simple_template import (
    MAX_PROMPT_CHARS,
    SimpleTemplate,
    TemplateLimit,
    parse_simple,
)
from comicc.source import Span

if TYPE_CHECKING:  # jinja2 is loaded only for a template parse_simple cannot read
    from jinja2 import Template

    from comicc.model.sandbox import PromptEnvironment

SNIPPET_REF = re.compile(r"@([a-z][a-z0-9_\-]*)")


class TemplateProblem(Exception):
    """The theme's prompt template failed to compile or to render.

    ``lineno``: the line of the template where it failed, when known."""

    def __init__(self, message: str, lineno: int | None = None):
        super().__init__(message)
        self.lineno = lineno


def render_errors() -> tuple[type[BaseException], ...]:
    """What a template may raise while it runs: jinja2's errors, the limits, and
    what its arithmetic and filters raise (1/0, "a" + 1, int("x"), deep nesting)."""
    from jinja2 import TemplateError

    return (
        TemplateError,
        TemplateLimit,
        ArithmeticError,
        TypeError,
        ValueError,
        LookupError,
        AttributeError,
        RecursionError,
        MemoryError,
    )


def _template_lineno(exc: BaseException) -> int | None:
    """The template line in ``exc``'s traceback (jinja2 rewrites it to point there)."""
    lineno = getattr(exc, "lineno", None)
    if isinstance(lineno, int):
        return lineno
    tb = exc.__traceback__
    found = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            found = tb.tb_lineno
        tb = tb.tb_next
    return found


def _problem(what: str, exc: BaseException) -> TemplateProblem:
    if isinstance(exc, RecursionError):
        detail = "it nests too deeply"
    elif isinstance(exc, MemoryError):
        detail = "it needs too much memory"
    else:
        detail = str(exc) or type(exc).__name__
    return TemplateProblem(f"{what}: {detail}", _template_lineno(exc))


def compile_template(env: PromptEnvironment, text: str, what: str) -> Template:
    """``text`` compiled in ``env``; :class:`TemplateProblem` if it cannot be."""
    from comicc.model.sandbox import forbidden

    errors = render_errors()
    try:
        tree = env.parse(text)
        bad = forbidden(tree)
        if bad:
            name, line = bad[0]
            raise TemplateProblem(f"{what} uses {name}, which prompt templates cannot", line)
        return env.from_string(text)
    except TemplateProblem:
        raise
    except errors as e:
        raise _problem(f"{what} does not compile", e) from None


def render_capped(env: PromptEnvironment, template: Template, what: str, **context: Any) -> str:
    """``template`` rendered with ``context``, streamed: at most
    :data:`MAX_PROMPT_CHARS` characters, within the loop budget; any failure is a
    :class:`TemplateProblem` (never an exception out of the template itself)."""
    errors = render_errors()
    env.reset()
    out: list[str] = []
    size = 0
    try:
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_PROMPT_CHARS:
                raise TemplateLimit(f"the prompt is longer than {MAX_PROMPT_CHARS // 1024} KiB")
            out.append(chunk)
    except errors as e:
        raise _problem(f"{what} failed", e) from None
    return "".join(out)


@dataclass
class PromptTemplates:
    """A theme's two prompt templates, compiled once: the panel's and a character's.

    A template of the simplest shape (text, ``{{ name }}``, ``for`` loops: every
    shipped theme's) is rendered by :mod:`comicc.model.simple_template`, to the
    same string, without loading jinja2; any other is compiled here, in the
    sandbox, and so is a simple one whose values that module cannot render."""

    template: str
    character: str

    def __post_init__(self) -> None:
        self._env: PromptEnvironment | None = None
        self._simple: dict[str, SimpleTemplate | None] = {
            "prompt template": parse_simple(self.template),
            "character template": parse_simple(self.character),
        }
        self._compiled: dict[str, Template] = {}
        for what in self._simple:  # errors in the order jinja2 always reported them
            if self._simple[what] is None:
                self._jinja(what)
        # (name, description) -> the character's text: a template renders the
        # same text from the same values, and a book names its cast in every panel
        self._char_texts: dict[tuple[str, str], str] = {}

    def _jinja(self, what: str) -> Template:
        """The template ``what`` compiled by jinja2 in the sandbox (once)."""
        if what not in self._compiled:
            if self._env is None:
                from comicc.model.sandbox import PromptEnvironment

                self._env = PromptEnvironment()
            text = self.template if what == "prompt template" else self.character
            self._compiled[what] = compile_template(self._env, text, what)
        return self._compiled[what]

    def _render(self, what: str, context: dict[str, Any]) -> str:
        simple = self._simple[what]
        text = None if simple is None else simple.render(context)
        if text is None:
            template = self._jinja(what)
            assert self._env is not None
            text = render_capped(self._env, template, what, **context)
        return text

    def character_text(self, name: str, description: str) -> str:
        key = (name, description)
        if key not in self._char_texts:
            text = self._render("character template", {"name": name, "description": description})
            self._char_texts[key] = text.strip()
        return self._char_texts[key]

    def render(
        self,
        *,
        description: str,
        items: list[str],
        style: list[str],
        characters: list[str],
        page: int,
        panel: int,
    ) -> str:
        """The panel's prompt; the arguments are the template's variables."""
        context = {
            "description": description,
            "items": items,
            "style": style,
            "characters": characters,
            "page": page,
            "panel": panel,
        }
        return tidy(self._render("prompt template", context))


_SPACE_COMMA = re.compile(r"\s+,")
_DOT_COMMA = re.compile(r"\.,")
_COMMAS = re.compile(r",(\s*,)+")


def tidy(text: str) -> str:
    """Collapse whitespace and stray separators left by empty pieces."""
    text = " ".join(text.split())
    text = _SPACE_COMMA.sub(",", text)
    text = _DOT_COMMA.sub(",", text)
    text = _COMMAS.sub(",", text)
    return text.strip(" ,")


def expand_snippets(text: str, snippets: dict[str, str], used: list[str] | None = None) -> str:
    """``text`` with each ``@name`` of a defined snippet replaced by its text;
    ``used`` (when given) gets the name of each snippet expanded, in order."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in snippets:
            return m.group(0)
        if used is not None:
            used.append(name)
        return snippets[name]

    return SNIPPET_REF.sub(repl, text)


@functools.lru_cache(maxsize=64)
def character_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """What finds a mention of any of ``names`` (the longest first, whole words);
    None for no names. Kept per set of names: a book has one cast."""
    ordered = sorted(names, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile(
        r"(?<![A-Za-z0-9])(" + "|".join(re.escape(n) for n in ordered) + r")(?![A-Za-z0-9])"
    )


def expand_characters(
    text: str,
    characters: dict[str, str],
    templates: PromptTemplates,
    already: set[str],
    used: list[str] | None = None,
) -> str:
    """Expand the first mention of each character name not in ``already``;
    ``used`` (when given) gets each name expanded here, in order."""
    if not characters:
        return text
    pattern = character_pattern(tuple(characters))
    assert pattern is not None

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in already:
            return name
        already.add(name)
        if used is not None:
            used.append(name)
        return templates.character_text(name, characters[name])

    return pattern.sub(repl, text)


@dataclass(frozen=True)
class PromptSpans:
    """Where the pieces handed to :func:`assemble_prompt` are written, for the
    prompt's labelled breakdown (:class:`comicc.model.ir.PromptPart`)."""

    description: Span | None = None
    items: Sequence[Span | None] = ()  # one per item (missing: unknown)
    style: Sequence[Span | None] = ()
    replaced: bool = False  # the items are a `prompt!` list
    snippets: Mapping[str, Span | None] = field(default_factory=dict)  # definitions
    characters: Mapping[str, Span | None] = field(default_factory=dict)


def assemble_prompt(
    *,
    description: str,
    items: list[str],
    style: list[str],
    negative: list[str],
    cast: list[str],
    snippets: dict[str, str],
    characters: dict[str, str],
    templates: PromptTemplates,
    page: int,
    panel: int,
    spans: PromptSpans | None = None,
) -> ir.Prompt:
    """The panel's :class:`~comicc.model.ir.Prompt`: its text, negative prompt,
    parts and their labelled breakdown (``sources``), located with ``spans``."""
    where = spans or PromptSpans()
    mentioned: set[str] = set()
    sources: list[ir.PromptPart] = []

    def piece(kind: str, text: str, span: Span | None, *, people: bool = True) -> str:
        snips: list[str] = []
        names: list[str] = []
        out = expand_snippets(text, snippets, snips)
        if people:
            out = expand_characters(out, characters, templates, mentioned, names)
        if not text:
            return out
        at = len(sources)
        sources.append(ir.PromptPart(kind, text, out, span=span))
        for name in dict.fromkeys(snips):
            sources.append(
                ir.PromptPart(
                    "snippet", f"@{name}", snippets[name], name, at, where.snippets.get(name)
                )
            )
        for name in names:
            sources.append(
                ir.PromptPart(
                    "character",
                    name,
                    templates.character_text(name, characters[name]),
                    name,
                    at,
                    where.characters.get(name),
                )
            )
        return out

    def span_at(seq: Sequence[Span | None], i: int) -> Span | None:
        return seq[i] if i < len(seq) else None

    desc = piece("description", description, where.description)
    item_kind = "prompt!" if where.replaced else "item"
    items_x = [piece(item_kind, t, span_at(where.items, i)) for i, t in enumerate(items)]
    extra = []
    for n in cast:
        if n in characters and n not in mentioned:
            text = templates.character_text(n, characters[n])
            extra.append(text)
            sources.append(ir.PromptPart("character", n, text, n, None, where.characters.get(n)))
    style_x = [
        piece("style", t, span_at(where.style, i), people=False) for i, t in enumerate(style)
    ]
    text = templates.render(
        description=desc, items=items_x, style=style_x, characters=extra, page=page, panel=panel
    )
    neg = tidy(", ".join(expand_snippets(n, snippets) for n in negative if n.strip()))
    parts = tuple(p for p in [desc, *items_x, *extra, *style_x] if p)
    return ir.Prompt(text, neg, parts, tuple(sources))
