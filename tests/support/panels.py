"""Hand-built IR panels and panel geometry for the paint and backend tests."""

from __future__ import annotations

from comicc.fonts import FontRef
from comicc.layout import BalloonGeom, GlyphRun, PanelGeom, PathCmd, Rect, TextLine, VectorPath
from comicc.model import ir

K = 0.5522847498  # cubic Bezier circle constant


def oval(cx: float, cy: float, rx: float, ry: float) -> VectorPath:
    return VectorPath(
        (
            PathCmd("M", (cx + rx, cy)),
            PathCmd("C", (cx + rx, cy + ry * K, cx + rx * K, cy + ry, cx, cy + ry)),
            PathCmd("C", (cx - rx * K, cy + ry, cx - rx, cy + ry * K, cx - rx, cy)),
            PathCmd("C", (cx - rx, cy - ry * K, cx - rx * K, cy - ry, cx, cy - ry)),
            PathCmd("C", (cx + rx * K, cy - ry, cx + rx, cy - ry * K, cx + rx, cy)),
            PathCmd("Z"),
        )
    )


FONT = FontRef("Test-Regular", "/nonexistent.ttf", 9.0)


def balloon(
    bid: str,
    speaker: str,
    cx: float,
    cy: float,
    rx: float = 60,
    ry: float = 28,
    text: str = "HELLO THERE!",
    reserve: tuple[VectorPath, ...] | None = None,
) -> BalloonGeom:
    body = oval(cx, cy, rx, ry)
    tail = VectorPath.polygon(
        [(cx - 6, cy + ry - 3), (cx + 6, cy + ry - 3), (cx + 12, cy + ry + 35)]
    )
    line = TextLine((GlyphRun(text, FONT, cx - rx * 0.6, cy + 3, rx * 1.2),))
    return BalloonGeom(
        id=bid,
        kind="speech",
        speaker=speaker,
        rect=body.bbox(),
        body=body,
        tail=tail,
        shapes=(),
        lines=(line,),
        reserve=reserve if reserve is not None else (body, tail),
    )


def two_speaker_geom(
    x0: float = 36,
    y0: float = 48,
    w: float = 400,
    h: float = 300,
    texts: tuple[str, str] = ("HELLO, BEAR!", "HI, HAMMY."),
    dx: float = 0.0,
) -> PanelGeom:
    """A 2-character panel with two reserved ovals; ``dx`` nudges the 2nd balloon."""
    hammy = balloon("p1.1.b1", "HAMMY", x0 + w * 0.28, y0 + h * 0.18, text=texts[0])
    bear = balloon("p1.1.b2", "BEAR", x0 + w * 0.70 + dx, y0 + h * 0.30, text=texts[1])
    cast = (("HAMMY", (x0 + w * 0.3, y0 + h * 0.58)), ("BEAR", (x0 + w * 0.72, y0 + h * 0.62)))
    return PanelGeom(
        id="p1.1", number=1, rect=Rect(x0, y0, w, h), border=None, balloons=(hammy, bear), cast=cast
    )


def make_panel(
    prompt: str = "two friends on a city rooftop at night, moonlight",
    negative: str = "blurry",
    *,
    page: int = 1,
    number: int = 1,
    seed: int = 0,
    dpi: int = 300,
    backend: str = "draft",
    model: str | None = None,
    mode: str = "blank",
    keep_margin: float = 24,
    feather: float = 8,
    backend_settings: tuple[tuple[str, str], ...] = (),
) -> ir.Panel:
    settings = ir.RenderSettings(
        backend=backend,
        model=model,
        seed=seed,
        dpi=dpi,
        backend_settings=backend_settings,
        mask=ir.MaskSpec(
            keep_margin=ir.Length(keep_margin, "px"),
            feather=ir.Length(feather, "px"),
            balloons=mode,
        ),
    )
    return ir.Panel(
        id=f"p{page}.{number}",
        page=page,
        number=number,
        note=None,
        description=prompt,
        prompt=ir.Prompt(prompt, negative),
        cast=(),
        balloons=(),
        settings=settings,
        span=None,
    )
