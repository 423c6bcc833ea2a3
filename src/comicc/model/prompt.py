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

import re
from dataclasses import dataclass
from typing import Any

from jinja2 import Template, TemplateError

from comicc.model.sandbox import MAX_PROMPT_CHARS, PromptEnvironment, TemplateLimit, forbidden

SNIPPET_REF = re.compile(r"@([a-z][a-z0-9_\-]*)")


class TemplateProblem(Exception):
    """The theme's prompt template failed to compile or to render.

    ``lineno``: the line of the template where it failed, when known."""

    def __init__(self, message: str, lineno: int | None = None):
        super().__init__(message)
        self.lineno = lineno


# what a template may raise while it runs: jinja2's errors, the limits, and
# what its arithmetic and filters raise (1/0, "a" + 1, int("x"), deep nesting)
RENDER_ERRORS = (
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
    try:
        tree = env.parse(text)
        bad = forbidden(tree)
        if bad:
            name, line = bad[0]
            raise TemplateProblem(f"{what} uses {name}, which prompt templates cannot", line)
        return env.from_string(text)
    except TemplateProblem:
        raise
    except RENDER_ERRORS as e:
        raise _problem(f"{what} does not compile", e) from None


def render_capped(env: PromptEnvironment, template: Template, what: str, **context: Any) -> str:
    """``template`` rendered with ``context``, streamed: at most
    :data:`MAX_PROMPT_CHARS` characters, within the loop budget; any failure is a
    :class:`TemplateProblem` (never an exception out of the template itself)."""
    env.reset()
    out: list[str] = []
    size = 0
    try:
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_PROMPT_CHARS:
                raise TemplateLimit(f"the prompt is longer than {MAX_PROMPT_CHARS // 1024} KiB")
            out.append(chunk)
    except RENDER_ERRORS as e:
        raise _problem(f"{what} failed", e) from None
    return "".join(out)


@dataclass
class PromptTemplates:
    """A theme's two prompt templates, compiled once: the panel's and a character's."""

    template: str
    character: str

    def __post_init__(self) -> None:
        self._env = PromptEnvironment()
        self._main = compile_template(self._env, self.template, "prompt template")
        self._char = compile_template(self._env, self.character, "character template")

    def character_text(self, name: str, description: str) -> str:
        text = render_capped(
            self._env, self._char, "character template", name=name, description=description
        )
        return text.strip()

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
        return tidy(render_capped(self._env, self._main, "prompt template", **context))


def tidy(text: str) -> str:
    """Collapse whitespace and stray separators left by empty pieces."""
    text = " ".join(text.split())
    text = re.sub(r"\s+,", ",", text)
    text = re.sub(r"\.,", ",", text)
    text = re.sub(r",(\s*,)+", ",", text)
    return text.strip(" ,")


def expand_snippets(text: str, snippets: dict[str, str]) -> str:
    return SNIPPET_REF.sub(lambda m: snippets.get(m.group(1), m.group(0)), text)


def expand_characters(
    text: str, characters: dict[str, str], templates: PromptTemplates, already: set[str]
) -> str:
    """Expand the first mention of each character name not in ``already``."""
    if not characters:
        return text
    names = sorted(characters, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![A-Za-z0-9])(" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z0-9])"
    )

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in already:
            return name
        already.add(name)
        return templates.character_text(name, characters[name])

    return pattern.sub(repl, text)


def assemble(
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
) -> tuple[str, str, tuple[str, ...]]:
    """Return (prompt, negative prompt, parts)."""
    mentioned: set[str] = set()
    desc = expand_characters(
        expand_snippets(description, snippets), characters, templates, mentioned
    )
    items_x = [
        expand_characters(expand_snippets(i, snippets), characters, templates, mentioned)
        for i in items
    ]
    style_x = [expand_snippets(s, snippets) for s in style]
    extra = [
        templates.character_text(n, characters[n])
        for n in cast
        if n in characters and n not in mentioned
    ]
    text = templates.render(
        description=desc, items=items_x, style=style_x, characters=extra, page=page, panel=panel
    )
    neg = tidy(", ".join(expand_snippets(n, snippets) for n in negative if n.strip()))
    parts = tuple(p for p in [desc, *items_x, *extra, *style_x] if p)
    return text, neg, parts
