"""The layout stage: page grids, balloon shapes, lettering and placement -> book geometry.

Each name is imported from its module when first used, so ``comicc check``
(which asks for the page grid alone) never loads the placement engine, the
line breaker or the theme-dependent text fitting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from comicc.lazy import lazy_names

if TYPE_CHECKING:
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
    from comicc.layout.serialize import json_text, page_json, to_json

# name -> the module defining it
_HOME = {
    "layout_book": "engine",
    "BalloonGeom": "geometry",
    "BookGeom": "geometry",
    "GlyphRun": "geometry",
    "PageGeom": "geometry",
    "PanelGeom": "geometry",
    "PathCmd": "geometry",
    "Point": "geometry",
    "Polyline": "geometry",
    "Rect": "geometry",
    "Shape": "geometry",
    "Stroke": "geometry",
    "TextLine": "geometry",
    "Transform": "geometry",
    "VectorPath": "geometry",
    "MIN_PANEL_SIDE": "grid",
    "layout_page": "grid",
    "Measurer": "measure",
    "as_measurer": "measure",
    "json_text": "serialize",
    "page_json": "serialize",
    "to_json": "serialize",
}

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
    "json_text",
    "layout_book",
    "layout_page",
    "page_json",
    "to_json",
]

__getattr__, __dir__ = lazy_names(__name__, _HOME)
