"""The layout stage: IR script + theme + page format -> book geometry.

``layout_book`` is pure and deterministic: the same script, theme, format and
fonts always give the same :class:`BookGeom`. It never raises for content
(text that does not fit, characters no face has); those come back as warning
diagnostics at the lettering item's line:

* ``text-overflow``  — "balloon text does not fit: 14.2 pt too tall"
* ``missing-glyphs`` — "no font has a glyph for 'X' (U+0058)"
"""

from __future__ import annotations

from comicc.diagnostics import Diagnostic, Severity
from comicc.layout.balloons import build_geoms
from comicc.layout.geometry import BookGeom, PageGeom, PanelGeom, Rect, Shape, Stroke, VectorPath
from comicc.layout.grid import PageFrame, PanelBox, layout_page, panel_live
from comicc.layout.items import Ctx, Params, cast_points, make_items
from comicc.layout.measure import Measurer, as_measurer
from comicc.layout.place import place_panel
from comicc.layout.text import fit_variants
from comicc.model import ir

K = ir.BalloonKind


def layout_book(
    script: ir.Script, theme, fmt, fonts=None, keep: dict[str, tuple[float, float]] | None = None
) -> tuple[BookGeom, list[Diagnostic]]:
    """Lay out every page of ``script``. ``fonts``: a ``comicc.fonts.book.FontBook``
    or any :class:`~comicc.layout.measure.Measurer` (``None``: the default).
    ``keep``: balloon id -> body size from the last build (the lock file); a
    balloon whose text still fits keeps that size (see text.fit_variants)."""
    m = as_measurer(fonts)
    reading = script.reading if script.reading in ("ltr", "rtl") else "ltr"
    params = Params.from_theme(theme)
    issues: list[Diagnostic] = []
    pages = tuple(
        layout_one_page(page, theme, fmt, m, reading, params, issues, keep) for page in script.pages
    )
    return BookGeom(pages, reading), issues


def layout_one_page(
    page: ir.Page,
    theme,
    fmt,
    m: Measurer,
    reading: str = "ltr",
    params: Params | None = None,
    issues: list | None = None,
    keep: dict | None = None,
) -> PageGeom:
    params = params or Params.from_theme(theme)
    frame, boxes = layout_page(page, fmt, theme.gutter_tier, theme.gutter_within, reading)
    panels = tuple(_panel(box, frame, theme, m, reading, params, issues, keep) for box in boxes)
    return PageGeom(tuple(page.numbers), frame.width, frame.height, frame.bleed, frame.live, panels)


def panel_ctx(
    box: PanelBox,
    frame: PageFrame,
    theme,
    m: Measurer,
    reading: str,
    params: Params,
    keep: dict | None = None,
) -> tuple[Ctx, dict]:
    live = panel_live(box, frame)
    inset = min(params.margin, live.w / 4, live.h / 4)
    area = live.inset(inset)
    mouths = cast_points(box.panel, box.frame, reading, params)
    keep = keep or {}
    fits = [fit_variants(b, theme, m, area, keep.get(b.id)) for b in box.panel.balloons]
    items = make_items(box.panel, fits, mouths, live)
    faces = []
    fw, fh = max(params.face_w * box.frame.w, 22.0), max(params.face_h * box.frame.h, 22.0)
    for x, y in mouths.values():
        if live.contains_point((x, y)):
            faces.append(Rect(x - fw / 2, y - fh * 0.7, fw, fh))
    return Ctx(area, live, reading, params, items, faces), mouths


def _panel(
    box: PanelBox,
    frame: PageFrame,
    theme,
    m: Measurer,
    reading: str,
    params: Params,
    issues: list | None,
    keep: dict | None = None,
) -> PanelGeom:
    ctx, mouths = panel_ctx(box, frame, theme, m, reading, params, keep)
    placed = place_panel(ctx)
    geoms = build_geoms(ctx, placed, theme)
    if issues is not None:
        for q, g in zip(placed, geoms):
            issues.extend(_diagnose(ctx.items[q.item].b, q, g))
    border = None
    if not box.bleed and theme.border_width > 0:
        border = Shape(
            VectorPath.rect(box.rect), None, Stroke(theme.border_width, theme.border_color)
        )
    cast = tuple((name, pt) for name, pt in mouths.items())
    return PanelGeom(box.panel.id, box.panel.number, box.rect, border, geoms, cast, box.bleed)


def _diagnose(b: ir.Balloon, q, g) -> list[Diagnostic]:
    out = []
    span = getattr(b, "span", None)
    over_w = q.fit.overflow_w
    if q.overflow > 0 or over_w > 0:
        if q.overflow_dir == "room":
            msg = "balloon does not fit: no room left in the panel for it and its tail"
        elif q.overflow > 0:
            msg = f"balloon text does not fit: {q.overflow:.1f} pt too {q.overflow_dir}"
        else:
            msg = f"balloon text does not fit: a word is {over_w:.1f} pt too wide"
        what = "caption" if b.kind is K.CAPTION else "balloon"
        hints = (
            "shorten the text, split it into two balloons, or give the panel more room "
            "(`width:` or the page's `layout:` heights)",
        )
        out.append(
            Diagnostic(
                Severity.WARNING,
                "text-overflow",
                msg.replace("balloon", what, 1),
                span,
                "does not fit",
                (),
                hints,
            )
        )
    if q.fit.missing:
        chars = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in q.fit.missing[:8])
        more = f" and {len(q.fit.missing) - 8} more" if len(q.fit.missing) > 8 else ""
        out.append(
            Diagnostic(
                Severity.WARNING,
                "missing-glyphs",
                f"no font has a glyph for {chars}{more}",
                span,
                "cannot be lettered",
                (),
                ("add a face that has them to the theme's `fallback_fonts`",),
            )
        )
    return out
