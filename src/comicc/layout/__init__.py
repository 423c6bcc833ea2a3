"""The layout stage: page grids, balloon shapes, lettering and placement -> book geometry."""

from comicc.layout.engine import layout_book
from comicc.layout.geometry import (
    BalloonGeom,
    BookGeom,
    GlyphRun,
    PageGeom,
    PanelGeom,
    PathCmd,
    Point,
    Polyline,
    Rect,
    Shape,
    Stroke,
    TextLine,
    Transform,
    VectorPath,
)
from comicc.layout.grid import MIN_PANEL_SIDE, layout_page
from comicc.layout.measure import Measurer, as_measurer
from comicc.layout.serialize import page_json, to_json

__all__ = [
    "MIN_PANEL_SIDE",
    "BalloonGeom",
    "BookGeom",
    "GlyphRun",
    "Measurer",
    "PageGeom",
    "PanelGeom",
    "PathCmd",
    "Point",
    "Polyline",
    "Rect",
    "Shape",
    "Stroke",
    "TextLine",
    "Transform",
    "VectorPath",
    "as_measurer",
    "layout_book",
    "layout_page",
    "page_json",
    "to_json",
]
