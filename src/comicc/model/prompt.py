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

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

SNIPPET_REF = re.compile(r"@([a-z][a-z0-9_\-]*)")


class TemplateProblem(Exception):
    """The theme's prompt template failed to render."""


@dataclass
class PromptTemplates:
    """A theme's two prompt templates, compiled once: the panel's and a character's."""

    template: str
    character: str

    def __post_init__(self) -> None:
        env = SandboxedEnvironment(
            undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
        )
        try:
            self._main = env.from_string(self.template)
            self._char = env.from_string(self.character)
        except TemplateError as e:
            raise TemplateProblem(f"prompt template does not compile: {e}") from e

    def character_text(self, name: str, description: str) -> str:
        try:
            return self._char.render(name=name, description=description).strip()
        except TemplateError as e:
            raise TemplateProblem(f"character template failed: {e}") from e

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
        try:
            out = self._main.render(**context)
        except TemplateError as e:
            raise TemplateProblem(f"prompt template failed: {e}") from e
        return tidy(out)


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
