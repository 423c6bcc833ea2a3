"""The layout stage: IR script + theme + page format -> book geometry.

``layout_book`` is pure and deterministic: the same script, theme, page
format and fonts always give the same :class:`BookGeom`. It never raises for
content (text that does not fit, characters no face has); those come back as
warning diagnostics at the balloon's line:

* ``text-overflow``  — "balloon text does not fit: 14.2 pt too tall"
* ``missing-glyphs`` — "no font has a glyph for 'X' (U+0058)"
"""

from __future__ import annotations

from comicc.diagnostics import Diagnostic, Severity
from comicc.fonts import FontBook
from comicc.layout.balloons import build_geoms
from comicc.layout.geometry import (
    BookGeom,
    PageGeom,
    PanelGeom,
    Point,
    Rect,
    Shape,
    Stroke,
    VectorPath,
)
from comicc.layout.grid import PageFrame, PanelBox, layout_page, panel_live
from comicc.layout.items import (
    PanelContext,
    PlacedBalloon,
    PlacementTuning,
    balloons_to_place,
    cast_points,
)
from comicc.layout.measure import Measurer, as_measurer
from comicc.layout.place import place_panel
from comicc.layout.text import fit_variants
from comicc.model import ir
from comicc.theme import PageFormat, Theme

K = ir.BalloonKind
Sizes = dict[str, tuple[float, float]]  # balloon id -> body size (w, h) from the lock file


def layout_book(
    script: ir.Script,
    theme: Theme,
    page_format: PageFormat,
    fonts: FontBook | Measurer | None = None,
    keep: Sizes | None = None,
) -> tuple[BookGeom, list[Diagnostic]]:
    """Lay out every page of ``script``. ``fonts``: a :class:`~comicc.fonts.FontBook`
    or any :class:`~comicc.layout.measure.Measurer` (``None``: the default).
    ``keep``: balloon id -> body size from the last build (the lock file); a
    balloon whose text still fits keeps that size (see text.fit_variants)."""
    m = as_measurer(fonts)
    reading = script.reading if script.reading in ("ltr", "rtl") else "ltr"
    tuning = PlacementTuning.from_theme(theme)
    issues: list[Diagnostic] = []
    pages = tuple(
        layout_one_page(page, theme, page_format, m, reading, tuning, issues, keep)
        for page in script.pages
    )
    return BookGeom(pages, reading), issues


def layout_one_page(
    page: ir.Page,
    theme: Theme,
    page_format: PageFormat,
    m: Measurer,
    reading: str = "ltr",
    tuning: PlacementTuning | None = None,
    issues: list[Diagnostic] | None = None,
    keep: Sizes | None = None,
) -> PageGeom:
    """Lay out one page; diagnostics go into ``issues`` when given."""
    tuning = tuning or PlacementTuning.from_theme(theme)
    frame, boxes = layout_page(page, page_format, theme.gutter_tier, theme.gutter_within, reading)
    panels = tuple(_panel(box, frame, theme, m, reading, tuning, issues, keep) for box in boxes)
    return PageGeom(tuple(page.numbers), frame.width, frame.height, frame.bleed, frame.live, panels)


def panel_context(
    box: PanelBox,
    frame: PageFrame,
    theme: Theme,
    m: Measurer,
    reading: str,
    tuning: PlacementTuning,
    keep: Sizes | None = None,
) -> tuple[PanelContext, dict[str, Point]]:
    """The search state of one panel, and where each speaker's mouth is."""
    live = panel_live(box, frame)
    inset = min(tuning.margin, live.w / 4, live.h / 4)
    area = live.inset(inset)
    mouths = cast_points(box.panel, box.frame, reading, tuning)
    keep = keep or {}
    fits = [
        fit_variants(balloon, theme, m, area, keep.get(balloon.id))
        for balloon in box.panel.balloons
    ]
    balloons = balloons_to_place(box.panel, fits, mouths, live)
    faces = []
    fw = max(tuning.face_w * box.frame.w, 22.0)
    fh = max(tuning.face_h * box.frame.h, 22.0)
    for x, y in mouths.values():
        if live.contains_point((x, y)):
            faces.append(Rect(x - fw / 2, y - fh * 0.7, fw, fh))
    return PanelContext(area, live, reading, tuning, balloons, faces), mouths


def _panel(
    box: PanelBox,
    frame: PageFrame,
    theme: Theme,
    m: Measurer,
    reading: str,
    tuning: PlacementTuning,
    issues: list[Diagnostic] | None,
    keep: Sizes | None = None,
) -> PanelGeom:
    ctx, mouths = panel_context(box, frame, theme, m, reading, tuning, keep)
    placed = place_panel(ctx)
    geoms = build_geoms(ctx, placed, theme)
    if issues is not None:
        for p in placed:
            issues.extend(_diagnose(ctx.balloons[p.index].balloon, p))
    border = None
    if not box.bleed and theme.border_width > 0:
        border = Shape(
            VectorPath.rect(box.rect), None, Stroke(theme.border_width, theme.border_color)
        )
    cast = tuple((name, pt) for name, pt in mouths.items())
    return PanelGeom(box.panel.id, box.panel.number, box.rect, border, geoms, cast, box.bleed)


def _diagnose(balloon: ir.Balloon, p: PlacedBalloon) -> list[Diagnostic]:
    """The warnings of one placed balloon: text that does not fit, missing glyphs."""
    out = []
    span = balloon.span
    over_w = p.fit.overflow_w
    if p.overflow > 0 or over_w > 0:
        if p.overflow_dir == "room":
            msg = "balloon does not fit: no room left in the panel for it and its tail"
        elif p.overflow > 0:
            msg = f"balloon text does not fit: {p.overflow:.1f} pt too {p.overflow_dir}"
        else:
            msg = f"balloon text does not fit: a word is {over_w:.1f} pt too wide"
        what = "caption" if balloon.kind is K.CAPTION else "balloon"
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
    if p.fit.missing:
        chars = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in p.fit.missing[:8])
        more = f" and {len(p.fit.missing) - 8} more" if len(p.fit.missing) > 8 else ""
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
