"""Loading themes: TOML → ``extends`` chain → merged keys → validated :class:`Theme`.

Every diagnostic points into the file that wrote the offending key (a theme
and the theme it extends are different files). Codes:

``theme-not-found``      no such theme / file (also a bad ``extends``)
``theme-extends-cycle``  a theme extends itself, directly or not
``theme-syntax``         TOML syntax error, or not UTF-8
``theme-unknown-key``    a key the schema does not know (with did-you-mean)
``theme-bad-length``     a length without a valid unit, a bad size
``theme-bad-color``      not ``#rrggbb``
``theme-bad-value``      wrong type or a value outside its choices
``theme-missing-key``    a required key no file of the chain sets
``theme-missing-font``   a family comicc cannot find (warning for fallbacks)
``theme-unknown-format`` ``page.default_format`` names no format
``theme-bad-template``   a prompt template that jinja2 cannot compile
``theme-unknown-variable`` (warning) a template variable comicc never sets
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from comicc.diagnostics import Sink, did_you_mean
from comicc.fonts import FontBook, default_fontbook
from comicc.model import is_theme_path
from comicc.resources import themes_dir
from comicc.source import SourceFile, Span
from comicc.theme.model import (
    DEFAULT_CHARACTER_TEMPLATE,
    DEFAULT_PROMPT_TEMPLATE,
    BalloonStyle,
    FontSpec,
    PageFormat,
    Theme,
)
from comicc.theme.positions import (
    KeyPath,
    Loc,
    index_keys,
    locate,
    syntax_error_message,
    syntax_error_span,
)
from comicc.theme.schema import (
    BALLOON_KINDS,
    CHARACTER_VARIABLES,
    FONT,
    FONT_OR_ROLE,
    FONT_ROLES,
    PROMPT_VARIABLES,
    SCHEMA,
    BadValue,
    Schema,
)

_NOT_INHERITED = {("name",), ("extends",), ("description",)}


@dataclass
class _Doc:
    src: SourceFile
    index: dict[KeyPath, Loc]
    data: dict[str, Any]  # the parsed TOML


def theme_file(name: str) -> Path:
    """The file of the shipped theme ``name`` (it may not exist)."""
    return themes_dir() / f"{name}.toml"


def available_themes() -> list[str]:
    """Names of the shipped themes (``themes/*.toml``), sorted."""
    d = themes_dir()
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.toml") if not p.stem.startswith("_"))


def load_theme(
    name_or_path: str,
    sink: Sink,
    base_dir: Path | None = None,
    *,
    sources: dict[str, SourceFile] | None = None,
) -> Theme | None:
    """Load and validate a theme; ``None`` after reporting errors into ``sink``.

    ``name_or_path`` is a shipped theme's name (``classic``) or, if
    :func:`~comicc.model.is_theme_path` says so, a file path relative to
    ``base_dir`` (default: the current directory). ``extends`` chains are
    followed. The text of every file read is put into ``sources`` (path →
    :class:`SourceFile`) so diagnostics can be rendered with their lines.
    """
    if is_theme_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
    else:
        path = theme_file(name_or_path)
        if not path.is_file():
            names = available_themes()
            sug = did_you_mean(name_or_path, names)
            hints = ([f"did you mean `{sug[0]}`?"] if sug else []) + [
                "shipped themes: " + ", ".join(names),
                "a theme file of your own is given as a path, e.g. `theme: ./my-theme.toml`",
            ]
            sink.error("theme-not-found", f"unknown theme `{name_or_path}`", hints=hints)
            return None
    loader = Loader(sink, sources)
    docs = loader.chain(path)
    if docs is None:
        return None
    conv = loader.validate(loader.merge(docs))
    return loader.build(conv, path)


class Loader:
    """One theme load: reads the chain of files, merges, validates and builds."""

    def __init__(self, sink: Sink, sources: dict[str, SourceFile] | None = None):
        self.sink = sink
        self.sources = sources if sources is not None else {}
        self.origin: dict[KeyPath, _Doc] = {}
        self.top: _Doc | None = None
        self.failed = False
        self.bad: set[KeyPath] = set()  # keys already reported as invalid
        self.missing_fonts: set[str] = set()

    # ------------------------------------------------------------ diagnostics
    def span(self, path: KeyPath, value: bool = True, doc: _Doc | None = None) -> Span | None:
        doc = doc or self._doc_for(path)
        if doc is None:
            return None
        return locate(doc.src, doc.index, path, value)

    def _doc_for(self, path: KeyPath) -> _Doc | None:
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
        if span is None or doc is None or not isinstance(item, str):
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

    # ---------------------------------------------------------------- reading
    def read(self, path: Path, via: tuple[_Doc, KeyPath] | None) -> _Doc | None:
        try:
            src = SourceFile.read(path)
        except (OSError, UnicodeDecodeError) as exc:
            msg = (
                f"theme file `{path}` is not UTF-8 text"
                if isinstance(exc, UnicodeDecodeError)
                else f"cannot read theme file `{path}`: {exc.strerror or exc}"
            )
            code = "theme-syntax" if isinstance(exc, UnicodeDecodeError) else "theme-not-found"
            self.failed = True
            span = locate(via[0].src, via[0].index, via[1], True) if via else None
            self.sink.error(code, msg, span, path=str(path))
            return None
        self.sources[src.path] = src
        try:
            data = tomllib.loads(src.text)
        except tomllib.TOMLDecodeError as exc:
            self.failed = True
            self.sink.error(
                "theme-syntax",
                f"invalid TOML: {syntax_error_message(exc)}",
                syntax_error_span(src, exc),
                hints=('theme files are TOML: `key = "value"`, tables as `[name]`',),
            )
            return None
        return _Doc(src, index_keys(src), data)

    def chain(self, path: Path) -> list[_Doc] | None:
        """The file and the files it extends, base first."""
        docs: list[_Doc] = []
        seen: list[Path] = []
        via: tuple[_Doc, KeyPath] | None = None  # the `extends` that led to `path`
        while True:
            real = path.resolve()
            if real in seen:
                self.failed = True
                names = " → ".join(p.name for p in seen + [real])
                self.sink.error(
                    "theme-extends-cycle",
                    f"themes extend each other in a cycle: {names}",
                    locate(via[0].src, via[0].index, via[1], True) if via else None,
                )
                return None
            seen.append(real)
            doc = self.read(path, via)
            if doc is None:
                return None
            docs.append(doc)
            ext = doc.data.get("extends")
            if ext is None:
                break
            via = (doc, ("extends",))
            if not isinstance(ext, str):
                self.failed = True
                self.sink.error(
                    "theme-bad-value",
                    "`extends` must be a theme name or a path",
                    locate(doc.src, doc.index, ("extends",), True),
                )
                return None
            if is_theme_path(ext):
                path = Path(doc.src.path).parent / ext
            else:
                path = theme_file(ext)
                if not path.is_file():
                    sug = did_you_mean(ext, available_themes())
                    hints = ([f"did you mean `{sug[0]}`?"] if sug else []) + [
                        "shipped themes: " + ", ".join(available_themes())
                    ]
                    self.failed = True
                    self.sink.error(
                        "theme-not-found",
                        f"`extends` names an unknown theme `{ext}`",
                        locate(doc.src, doc.index, ("extends",), True),
                        hints=hints,
                    )
                    return None
        docs.reverse()
        return docs

    # ---------------------------------------------------------------- merging
    def merge(self, docs: list[_Doc]) -> dict[str, Any]:
        leaves: dict[KeyPath, Any] = {}
        for doc in docs:
            for key in list(leaves):
                if key in _NOT_INHERITED:
                    del leaves[key]
                    self.origin.pop(key, None)
            for path, value in _flatten(doc.data, ()):
                for key in list(leaves):  # a table replacing a value, or the reverse
                    if key != path and (key == path[: len(key)] or path == key[: len(path)]):
                        del leaves[key]
                        self.origin.pop(key, None)
                leaves[path] = value
                self.origin[path] = doc
        self.top = docs[-1]
        nested: dict[str, Any] = {}
        for path, value in leaves.items():
            node = nested
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
        return nested

    # ------------------------------------------------------------- validation
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

    def check_template(
        self, conv: dict[str, Any], key: str, allowed: tuple[str, ...]
    ) -> str | None:
        text = conv.get("prompt", {}).get(key)
        if text is None:
            return None
        env = SandboxedEnvironment()
        path = ("prompt", key)
        try:
            ast = env.parse(text)
        except TemplateSyntaxError as exc:
            self.failed = True
            self.sink.error(
                "theme-bad-template",
                f"prompt template does not compile: {exc.message}",
                self._template_line(path, exc.lineno or 1),
                hints=("jinja2 syntax: {{ variable }}, {% for x in list %}…{% endfor %}",),
            )
            return None
        for var in sorted(meta.find_undeclared_variables(ast) - set(allowed)):
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
        return text

    def _template_line(self, path: KeyPath, lineno: int) -> Span | None:
        doc = self._doc_for(path)
        loc = doc.index.get(path) if doc is not None else None
        if doc is None or loc is None:
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

    # --------------------------------------------------------------- building
    def build(self, conv: dict[str, Any], top: Path) -> Theme | None:
        fb = default_fontbook()
        formats = {}
        for name, f in conv.get("formats", {}).items():
            if "trim" not in f:
                self.require(f, ("formats", name, "trim"), 'trim = "6.625x10.25in"')
                continue
            formats[name] = PageFormat(
                name,
                f["trim"][0],
                f["trim"][1],
                f.get("bleed", 0.0),
                f.get("margin", 0.0),
                f.get("spine_margin", 0.0),
                f.get("dpi"),
                f.get("strip", False),
            )
        if not conv.get("formats"):
            self.require(conv, ("formats",), "define at least one page format under [formats.NAME]")
        page = conv.get("page", {})
        default_format = self.require(
            conv, ("page", "default_format"), 'default_format = "us-comic"'
        )
        if default_format is not None and formats and default_format not in formats:
            sug = did_you_mean(default_format, list(formats))
            self.error(
                "theme-unknown-format",
                f"`{default_format}` is not a format of this theme",
                ("page", "default_format"),
                ([f"did you mean `{sug[0]}`?"] if sug else []) + ["formats: " + ", ".join(formats)],
            )
        tier = self.require(conv, ("gutters", "tier"), 'tier = "0.2in"')
        within = self.require(conv, ("gutters", "within"), 'within = "0.16in"')
        border = self.require(conv, ("border", "width"), 'width = "2pt"')
        padding = self.require(conv, ("lettering", "balloon_padding"), 'balloon_padding = "5pt"')

        fspec = conv.get("fonts", {})
        let = fspec.get("lettering", {})
        fams = {
            k: self.require(conv, ("fonts", "lettering", k), f"{k} = …")
            for k in ("family", "size", "leading")
        }
        if None in fams.values():
            return None
        lettering = FontSpec(
            fams["family"], fams["size"], fams["leading"], let.get("style", "regular")
        )
        defaults = {
            "emphasis": ("bolditalic", 1.0),
            "caption": ("regular", 1.0),
            "sfx": ("bold", 2.5),
            "title": ("bold", 3.0),
        }
        roles = {"lettering": lettering}
        for role, (style, scale) in defaults.items():
            roles[role] = _fontspec(fspec.get(role, {}), lettering, style, scale)
        for role, spec in roles.items():
            self.check_font(fb, spec.family, ("fonts", role, "family"), error=True)
        fallback = fspec.get("fallback", ())
        for fam in fallback:
            self.check_font(fb, fam, ("fonts", "fallback"), error=False)

        styles = {}
        bconv = conv.get("balloons", {})
        base = bconv.get("speech", {})
        for kind in BALLOON_KINDS:
            b = {**base, **bconv.get(kind, {})}
            font = b.get("font")
            if isinstance(font, str):
                font = roles[font]
            elif isinstance(font, dict):
                font = _fontspec(font, lettering, "regular", 1.0)
                self.check_font(fb, font.family, ("balloons", kind, "font", "family"), error=True)
            styles[kind] = BalloonStyle(
                b.get("stroke_width", 1.0),
                b.get("stroke", "#000000"),
                b.get("fill", "#ffffff"),
                b.get("dash"),
                b.get("text_color", "#000000"),
                font,
            )
        cap = conv.get("caption", {})
        caption_fill = cap.get("fill", bconv.get("caption", {}).get("fill", "#ffffff"))
        c = styles["caption"]
        styles["caption"] = BalloonStyle(
            c.stroke_width, c.stroke, caption_fill, c.dash, c.text_color, c.font
        )
        template = self.check_template(conv, "template", PROMPT_VARIABLES)
        character = self.check_template(conv, "character", CHARACTER_VARIABLES)
        lconf = conv.get("lettering", {})
        if self.failed:
            return None
        spans = {".".join(p): self.span(p) for p in self.origin}
        return Theme(
            name=conv.get("name", top.stem),
            path=str(top),
            formats=formats,
            gutter_tier=tier,
            gutter_within=within,
            border_width=border,
            border_color=conv.get("border", {}).get("color", "#000000"),
            page_color=page.get("color", "#ffffff"),
            lettering=roles["lettering"],
            emphasis=roles["emphasis"],
            caption=roles["caption"],
            sfx=roles["sfx"],
            title=roles["title"],
            small_scale=lconf.get("small_scale", 0.85),
            all_caps=lconf.get("all_caps", True),
            balloon_padding=padding,
            caption_padding=lconf.get("caption_padding", padding),
            caption_fill=caption_fill,
            caption_colors={k.upper(): v for k, v in cap.get("colors", {}).items()},
            balloon_styles=styles,
            fallback_fonts=tuple(fallback),
            prompt_template=template if template is not None else DEFAULT_PROMPT_TEMPLATE,
            character_template=character if character is not None else DEFAULT_CHARACTER_TEMPLATE,
            negative=conv.get("prompt", {}).get("negative", ""),
            reading=page.get("reading", "ltr"),
            default_format=default_format,
            extra=dict(conv.get("extra", {})),
            description=conv.get("description", ""),
            spans=spans,
        )

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

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.walk(data, SCHEMA, ())


def _fontspec(d: dict, base: FontSpec, style: str, scale: float) -> FontSpec:
    size = d.get("size", base.size * scale)
    leading = d.get("leading", base.leading * size / base.size)
    if "family" in d:  # another family: its regular face unless told otherwise
        style = "regular"
    return FontSpec(d.get("family", base.family), size, leading, d.get("style", style))


def _flatten(d: dict[str, Any], prefix: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    for k, v in d.items():
        if isinstance(v, dict) and v:
            yield from _flatten(v, prefix + (k,))
        else:
            yield prefix + (k,), v
