"""Validating a merged theme: schema, fonts, templates, each error in the file that set the key."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from comicc.diagnostics import Sink, did_you_mean
from comicc.fonts import FontBook
from comicc.model import TemplateProblem, compile_template, parse_simple, render_capped
from comicc.source import Span
from comicc.theme.chain import MergedTheme, ThemeDoc
from comicc.theme.positions import KeyPath, locate
from comicc.theme.schema import FONT, FONT_OR_ROLE, FONT_ROLES, SCHEMA, BadValue, Schema

# what a trial render of each template gets (plus "" for variables comicc never sets)
TEMPLATE_SAMPLES: dict[str, dict[str, object]] = {
    "template": {
        "description": "a hamster on a windowsill",
        "items": ["moonlight", "clean inks"],
        "style": ["comic book style"],
        "characters": ["HAMMY (a golden hamster)"],
        "page": 1,
        "panel": 1,
    },
    "character": {"name": "HAMMY", "description": "a golden hamster"},
}


class ThemeValidator:
    """The checks of one theme load; ``failed`` once any of them reported an error."""

    def __init__(self, sink: Sink, merged: MergedTheme):
        self.sink = sink
        self.origin: dict[KeyPath, ThemeDoc] = merged.origin
        self.top: ThemeDoc = merged.top
        self.failed = False
        self.bad: set[KeyPath] = set()  # keys already reported as invalid
        self.missing_fonts: set[str] = set()

    # ------------------------------------------------------------ diagnostics
    def span(self, path: KeyPath, value: bool = True, doc: ThemeDoc | None = None) -> Span | None:
        doc = doc or self._doc_for(path)
        return locate(doc.src, doc.index, path, value)

    def _doc_for(self, path: KeyPath) -> ThemeDoc:
        if path in self.origin:
            return self.origin[path]
        for p, d in self.origin.items():
            if p[: len(path)] == path:
                return d
        return self.top

    def error(
        self,
        code: str,
        message: str,
        path: KeyPath,
        hints: tuple[str, ...] | list[str] = (),
        value: bool = True,
        label: str = "",
    ) -> None:
        self.failed = True
        self.sink.error(code, message, self.span(path, value), hints=tuple(hints), label=label)

    def item_span(self, path: KeyPath, item: object) -> Span | None:
        """The span of one element of a list value (its first quoted match)."""
        span = self.span(path)
        doc = self._doc_for(path)
        if span is None or not isinstance(item, str):
            return span
        for lit in (f'"{item}"', f"'{item}'"):
            at = doc.src.text.find(lit, span.start, span.end)
            if at >= 0:
                return doc.src.span(at, at + len(lit))
        return span

    def warning(
        self,
        code: str,
        message: str,
        path: KeyPath,
        hints: tuple[str, ...] | list[str] = (),
        value: bool = True,
    ) -> None:
        self.sink.warning(code, message, self.span(path, value), hints=tuple(hints))

    # ------------------------------------------------------------- the schema
    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        """The merged keys converted by the schema; invalid ones reported and left out."""
        return self.walk(data, SCHEMA, ())

    def walk(self, data: dict[str, Any], schema: Schema, path: KeyPath) -> dict[str, Any]:
        out: dict = {}
        for key, value in data.items():
            p = path + (key,)
            spec = schema.get(key, schema.get("*"))
            if spec is None:
                known = [k for k in schema if k != "*"]
                sug = did_you_mean(key, known)
                what = "balloon kind" if path == ("balloons",) else "key"
                hints = ([f"did you mean `{sug[0]}`?"] if sug else []) + [
                    f"known {what}s here: " + ", ".join(known)
                ]
                self.error(
                    "theme-unknown-key",
                    f"unknown {what} `{'.'.join(p)}`",
                    p,
                    hints,
                    value=False,
                    label="not a theme key",
                )
                continue
            if isinstance(spec, Mapping):
                if not isinstance(value, dict):
                    self.bad.add(p)
                    self.error("theme-bad-value", f"`{'.'.join(p)}` must be a table", p)
                    continue
                out[key] = self.walk(value, spec, p)
            elif spec == FONT_OR_ROLE:
                if isinstance(value, dict):
                    out[key] = self.walk(value, FONT, p)
                elif isinstance(value, str) and value in FONT_ROLES:
                    out[key] = value
                else:
                    self.bad.add(p)
                    self.error(
                        "theme-bad-value",
                        f"`{value}` is not a font role or font table",
                        p,
                        [
                            "use one of "
                            + ", ".join(FONT_ROLES)
                            + ', or a table like { family = "Kalam", style = "bold" }'
                        ],
                    )
            else:
                try:
                    out[key] = spec(value)
                except BadValue as exc:
                    self.bad.add(p)
                    span = self.span(p) if exc.item is None else self.item_span(p, exc.item)
                    self.failed = True
                    self.sink.error(exc.code, str(exc), span, hints=exc.hints)
        return out

    def require(self, conv: dict[str, Any], path: KeyPath, hint: str = "") -> Any:
        """The value at ``path`` of ``conv``, or ``None`` after reporting it missing."""
        node: Any = conv
        for part in path:
            if not isinstance(node, dict) or part not in node:
                if path in self.bad:
                    return None
                hints = [hint] if hint else []
                hints.append('or start the file with `extends = "classic"` to inherit it')
                self.error(
                    "theme-missing-key", f"missing `{'.'.join(path)}`", path, hints, value=False
                )
                return None
            node = node[part]
        return node

    # ------------------------------------------------------ fonts, templates
    def check_font(self, fb: FontBook, family: str, path: KeyPath, error: bool) -> None:
        """Report a family comicc cannot find, once, where a file names it."""
        if path not in self.origin or family in self.missing_fonts or fb.exists(family):
            return
        self.missing_fonts.add(family)
        sug = did_you_mean(family, fb.families())
        slug = "-".join(family.lower().split())
        hints = (
            [f"did you mean `{sug[0]}`?"]
            if sug
            else [f"if PyPI has `fontpkg-{slug}`, add it to the project's dependencies"]
        )
        hints.append(f"installed families: {', '.join(fb.families())}")
        msg = f"font `{family}` is not installed"
        if error:
            self.error("theme-missing-font", msg, path, hints)
        else:
            self.warning("theme-missing-font", msg + " (fallback skipped)", path, hints)

    def check_template(
        self, conv: dict[str, Any], key: str, allowed: tuple[str, ...]
    ) -> str | None:
        """The prompt template ``prompt.<key>`` if set and it compiles, else ``None``."""
        text = conv.get("prompt", {}).get(key)
        if text is None:
            return None
        path = ("prompt", key)
        # a template of the simplest shape (every shipped theme's) is read and
        # tried without jinja2, with the same outcome (comicc.model.simple_template)
        simple = parse_simple(text)
        if simple is not None:
            self._unknown_variables(key, path, simple.variables, allowed)
            trial = {**dict.fromkeys(simple.variables - set(allowed), ""), **TEMPLATE_SAMPLES[key]}
            if simple.render(trial) is not None:
                return text
        from jinja2 import TemplateSyntaxError, meta

        from comicc.model import PromptEnvironment

        env = PromptEnvironment()
        try:
            ast = env.parse(text)
            declared = meta.find_undeclared_variables(ast)  # compiles: unknown filters fail
        except TemplateSyntaxError as exc:
            self.failed = True
            self.sink.error(
                "theme-bad-template",
                f"prompt template does not compile: {exc.message}",
                self._template_line(path, exc.lineno or 1),
                hints=("jinja2 syntax: {{ variable }}, {% for x in list %}…{% endfor %}",),
            )
            return None
        except RecursionError:
            self._bad_template(path, TemplateProblem("prompt template nests too deeply"))
            return None
        unknown = sorted(declared - set(allowed))
        if simple is None:  # else reported above
            self._unknown_variables(key, path, declared, allowed)
        # a trial render with sample values: a template that fails for any
        # panel (1/0, a type error, a limit) is reported here, at its line
        sample: dict[str, object] = {**dict.fromkeys(unknown, ""), **TEMPLATE_SAMPLES[key]}
        try:
            compiled = compile_template(env, text, f"prompt.{key}")
            render_capped(env, compiled, f"prompt.{key}", **sample)
        except TemplateProblem as exc:
            self._bad_template(path, exc)
            return None
        return text

    def _unknown_variables(
        self, key: str, path: KeyPath, declared: Set[str], allowed: tuple[str, ...]
    ) -> None:
        """A warning for each variable the template ``prompt.<key>`` reads that
        comicc never sets."""
        for var in sorted(declared - set(allowed)):
            sug = did_you_mean(var, allowed)
            hints = ([f"did you mean `{sug[0]}`?"] if sug else []) + [
                "variables: " + ", ".join(allowed)
            ]
            self.warning(
                "theme-unknown-variable",
                f"prompt.{key} uses `{var}`, which comicc never sets",
                path,
                hints,
            )

    def _bad_template(self, path: KeyPath, exc: TemplateProblem) -> None:
        self.failed = True
        self.sink.error(
            "theme-bad-template",
            str(exc),
            self._template_line(path, exc.lineno or 1),
            hints=(
                "prompt templates run sandboxed and bounded: no macros, includes or imports, "
                "loops of at most 10,000 steps, prompts of at most 64 KiB",
            ),
        )

    def _template_line(self, path: KeyPath, lineno: int) -> Span | None:
        doc = self._doc_for(path)
        loc = doc.index.get(path)
        if loc is None:
            return self.span(path)
        text = doc.src.text
        start = loc.value_start
        if text.startswith(('"""', "'''"), start):
            start += 3
            if text.startswith("\n", start):
                start += 1
        else:
            start += 1
        for _ in range(lineno - 1):
            nl = text.find("\n", start, loc.value_end)
            if nl < 0:
                break
            start = nl + 1
        end = text.find("\n", start)
        end = min(loc.value_end, len(text) if end < 0 else end)
        return doc.src.span(start, max(start, end))
