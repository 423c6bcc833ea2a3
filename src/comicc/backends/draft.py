"""The offline default backend: quick pencil roughs for proofing.

A draft is a sketch of the panel, not art: a sky/ground gradient, a few
hatched background shapes, loose pencil lines and a grey silhouette (head and
shoulders, name on the chest) for every cast member, plus a small "DRAFT"
tag in a corner that is free of balloons. Everything comes from the request:

* the palette and the scenery come from the prompt's words (``night`` and
  ``moonlight`` give cool blues, ``sunny`` warm light, ``city`` buildings,
  ``forest`` trees, ...; unknown words nudge the hue through a hash), minus
  the words of the negative prompt;
* the seed moves shapes around, so variants differ;
* figures stand with their HEAD at the cast point (where tails aim).

Same request -> byte-identical image (Python's ``random.Random`` seeded with
an integer, no clock, no global state). The art is drawn at a working size of
at most 1200 px on the long side and scaled up (which also softens the lines
like pencil), so a 2000x3000 px panel takes a fraction of a second. Pixels
where the mask is 0 are the init image's, bit for bit.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random

from PIL import Image, ImageChops, ImageDraw, ImageFont

from comicc.backends.base import Backend, Capabilities, PaintRequest, PaintResult
from comicc.backends.draft_scene import Scene, mix, rgb, text_hash

WORK_LONG_SIDE = 1200


class DraftBackend(Backend):
    name = "draft"
    capabilities = Capabilities(
        mask_convention="white",
        edge_control=None,
        seed=True,
        negative_prompt=True,
        multiple_of=1,
        deterministic=True,
        needs_network=False,
        needs_key=None,
        cost_unit=None,
        cost_per_image=0.0,
    )

    def __init__(self, **backend_settings: str):
        """The draft has no settings of its own (``SETTINGS`` None: any is accepted)."""

    def paint(self, request: PaintRequest) -> PaintResult:
        self.check(request)
        image = render_draft(request)
        return PaintResult(
            image=image,
            seed_used=request.seed,
            metadata={"backend": "draft", "mood": Scene(request.prompt, request.negative).mood},
        )


def render_draft(req: PaintRequest) -> Image.Image:
    w, h = req.width, req.height
    scene = Scene(req.prompt, req.negative)
    rnd = random.Random(text_hash(f"{req.seed or 0}|{req.prompt}|{req.negative}|{req.variant}"))
    k = min(1.0, WORK_LONG_SIDE / max(w, h))
    ww, wh = max(8, round(w * k)), max(8, round(h * k))
    art = _paint_art(ww, wh, scene, rnd, [(n, (x * k, y * k)) for n, (x, y) in req.cast])
    art = art.resize((w, h), Image.Resampling.BICUBIC) if (ww, wh) != (w, h) else art
    art = _grain(art, req.seed or 0)
    _labels(art, req.cast)
    _draft_tag(art, req)
    return Image.composite(art, req.init_image.convert("RGB"), req.mask)


# ------------------------------------------------------------------ the art
def _gradient(w: int, h: int, stops: list[tuple[float, tuple]]) -> Image.Image:
    """A vertical gradient through ``stops`` ((t, colour), t from 0 at the top to
    1 at the bottom): each row is :func:`mix` of the stops around it, written
    into one column of bytes, then stretched sideways."""
    # mix() inlined (the same arithmetic, so the same bytes): this loop runs once per row
    pairs = [
        (t0, t1, max(1e-9, t1 - t0), *c0[:3], *c1[:3])
        for (t0, c0), (t1, c1) in itertools.pairwise(stops)
    ]
    column = bytearray()
    last = max(1, h - 1)
    for y in range(h):
        t = y / last
        for t0, t1, span, r0, g0, b0, r1, g1, b1 in pairs:
            if t0 <= t <= t1:
                k = (t - t0) / span
                column += bytes(
                    (
                        round(r0 + (r1 - r0) * k),
                        round(g0 + (g1 - g0) * k),
                        round(b0 + (b1 - b0) * k),
                    )
                )
                break
        else:
            column += b"\0\0\0"
    col = Image.frombytes("RGB", (1, h), bytes(column))
    return col.resize((w, h), Image.Resampling.NEAREST)


def _pencil(
    d: ImageDraw.ImageDraw, pts: list, ink: tuple, lw: int, rnd: random.Random, closed: bool = True
) -> None:
    """A loose pencil outline: straight edges overshoot their corners like a quick
    construction sketch; curves get two slightly offset passes."""
    pts = list(pts) + ([pts[0]] if closed else [])
    light = tuple(int(c * 0.55 + 128 * 0.45) for c in ink)
    if len(pts) <= 13:
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            n = math.hypot(x1 - x0, y1 - y0)
            if n < 1:
                continue
            ux, uy = (x1 - x0) / n, (y1 - y0) / n
            e0, e1 = rnd.uniform(0, 0.06) * n + lw, rnd.uniform(0, 0.06) * n + lw
            j = rnd.uniform(-1.2, 1.2) * lw
            d.line([(x0 - ux * e0, y0 - uy * e0), (x1 + ux * e1, y1 + uy * e1)], fill=ink, width=lw)
            d.line(
                [(x0 - uy * j, y0 + ux * j), (x1 - uy * j, y1 + ux * j)],
                fill=light,
                width=max(1, lw - 1),
            )
        return
    for j, col in ((0, ink), (1, light)):
        dx, dy = rnd.uniform(-1.5, 1.5) * j * lw, rnd.uniform(-1.5, 1.5) * j * lw
        d.line([(x + dx, y + dy) for x, y in pts], fill=col, width=max(1, lw - j), joint="curve")


def _hatch(w: int, h: int, step: int) -> Image.Image:
    layer = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(layer)
    for x in range(-h, w, step):
        d.line([(x, h), (x + h, 0)], fill=255, width=1)
    return layer


def _paint_art(
    w: int, h: int, sc: Scene, rnd: random.Random, cast: list[tuple[str, tuple[float, float]]]
) -> Image.Image:
    hz = h * (rnd.uniform(0.50, 0.62) if sc.scenery != "room" else rnd.uniform(0.66, 0.74))
    t = hz / h
    img = _gradient(
        w, h, [(0, sc.sky_top), (t, sc.sky_low), (t + 1e-6, sc.ground_top), (1, sc.ground_low)]
    )
    img_ground = img.crop((0, math.ceil(hz), w, h))
    d = ImageDraw.Draw(img)
    lw = max(1, round(max(w, h) / 500))
    u = min(w, h)
    # sun / moon
    if sc.scenery != "room" and sc.mood in ("night", "day", "sunset", "space", "plain"):
        r = u * (0.09 if sc.mood == "sunset" else 0.06)
        cx = w * rnd.uniform(0.15, 0.85)
        cy = hz - r * 0.4 if sc.mood == "sunset" else h * rnd.uniform(0.08, 0.2)
        d.ellipse(
            [cx - r * 1.6, cy - r * 1.6, cx + r * 1.6, cy + r * 1.6],
            fill=mix(sc.sky_low, sc.accent, 0.3),
        )
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=sc.accent)
        if sc.mood in ("night", "space"):
            for _ in range(40):
                x, y = rnd.uniform(0, w), rnd.uniform(0, hz * 0.8)
                s = rnd.choice((1, 1, 2))
                d.rectangle([x, y, x + s, y + s], fill=mix(sc.accent, sc.sky_top, 0.3))
        img.paste(img_ground, (0, math.ceil(hz)))  # the sun sets behind the ground
    shapes_far: list[list] = []
    shapes_near: list[list] = []
    _scenery(sc, rnd, w, h, hz, shapes_far, shapes_near)
    hatch = _hatch(w, h, max(4, round(max(w, h) / 110)))
    for shapes, fill in ((shapes_far, sc.far), (shapes_near, sc.near)):
        sm = Image.new("L", (w, h), 0)
        sd = ImageDraw.Draw(sm)
        for poly in shapes:
            sd.polygon(poly, fill=255)
        box = sm.getbbox()  # pasting through the mask only where it is not 0
        if box is not None:
            part = sm.crop(box)
            img.paste(fill, box, mask=part)
            hatched = ImageChops.multiply(part, hatch.crop(box).point(lambda v: v * 0.55))
            img.paste(mix(fill, sc.ink, 0.35), box, mask=hatched)
        for poly in shapes:
            _pencil(d, poly, mix(sc.ink, fill, 0.35), lw, rnd)
    if sc.scenery == "city":  # windows
        for poly in shapes_near + shapes_far:
            x0, y0 = min(p[0] for p in poly), min(p[1] for p in poly)
            x1 = max(p[0] for p in poly)
            pane = max(3.0, u / 60)
            for row in range(int(y0 + pane * 2), int(hz - pane), int(pane * 2.6)):
                for col in range(int(x0 + pane), int(x1 - pane * 1.5), int(pane * 2.2)):
                    if rnd.random() < (0.45 if sc.dark else 0.3):
                        d.rectangle(
                            [col, row, col + pane, row + pane * 1.3],
                            fill=sc.accent if sc.dark else mix(sc.sky_low, sc.near, 0.3),
                        )
    if sc.window_rect:  # a window onto the outside light, with crossbars, and a lamp
        wx, wy, ww_, wh_ = sc.window_rect
        inset = min(ww_, wh_) * 0.07
        d.rectangle([wx + inset, wy + inset, wx + ww_ - inset, wy + wh_ - inset], fill=sc.window)
        d.line(
            [(wx + ww_ / 2, wy + inset), (wx + ww_ / 2, wy + wh_ - inset)],
            fill=sc.far,
            width=3 * lw,
        )
        d.line(
            [(wx + inset, wy + wh_ / 2), (wx + ww_ - inset, wy + wh_ / 2)],
            fill=sc.far,
            width=3 * lw,
        )
        lx = w * rnd.uniform(0.3, 0.7)
        d.line([(lx, 0), (lx, h * 0.1)], fill=sc.ink, width=lw)
        shade = [
            (lx - u * 0.05, h * 0.1 + u * 0.05),
            (lx - u * 0.02, h * 0.1),
            (lx + u * 0.02, h * 0.1),
            (lx + u * 0.05, h * 0.1 + u * 0.05),
        ]
        d.polygon(shade, fill=sc.near)
        d.chord(
            [lx - u * 0.03, h * 0.1 + u * 0.03, lx + u * 0.03, h * 0.1 + u * 0.07],
            0,
            180,
            fill=sc.accent,
        )
        _pencil(d, shade, sc.ink, lw, rnd)
    # construction lines: horizon and two perspective lines to a vanishing point
    faint = mix(sc.ink, sc.ground_top, 0.6)
    vx = w * rnd.uniform(0.3, 0.7)
    d.line([(-5, hz), (w + 5, hz + rnd.uniform(-2, 2))], fill=faint, width=lw)
    for bx in (-w * 0.1, w * 1.1):
        d.line([(vx, hz), (bx, h)], fill=faint, width=max(1, lw - 1))
    if sc.scenery not in ("waves", "room"):  # loose pencil strokes texture the ground
        gink = mix(sc.ink, sc.ground_top, 0.55)
        for _ in range(70):
            y = hz + (h - hz) * rnd.random() ** 0.7
            x, n = rnd.uniform(-w * 0.05, w), u * rnd.uniform(0.01, 0.04) * (1 + (y - hz) / h)
            d.line([(x, y), (x + n, y + rnd.uniform(-1, 1) * lw)], fill=gink, width=lw)
    if sc.mood == "storm":
        for _ in range(120):
            x, y = rnd.uniform(-h * 0.2, w), rnd.uniform(0, h)
            d.line([(x, y), (x + u * 0.02, y + u * 0.06)], fill=mix(sc.sky_low, sc.ink, 0.3))
    _figures(d, sc, rnd, cast, w, h, lw)
    return img


def _scenery(
    sc: Scene, rnd: random.Random, w: int, h: int, hz: float, far: list, near: list
) -> None:
    u = min(w, h)
    if sc.scenery in ("hills", "waves", "peaks"):
        ridge_h = u * (0.3 if sc.scenery == "peaks" else 0.12)
        for layer, out in ((0.7, far), (1.0, near)):
            pts, x, up = [(-10.0, hz + 2)], -10.0, True
            while x < w + 10:
                x += rnd.uniform(0.06, 0.16) * w * (1.4 if sc.scenery == "peaks" else 1)
                k = rnd.uniform(0.6, 1.0) if up else rnd.uniform(0.15, 0.45)
                pts.append((x, hz - ridge_h * layer * k))
                up = not up if sc.scenery == "peaks" else rnd.random() < 0.5
            pts.append((w + 10.0, hz + 2))
            out.append(pts)
            if sc.scenery == "waves":
                break
    elif sc.scenery == "city":
        for row, out, hmin, hmax in ((0, far, 0.18, 0.42), (1, near, 0.08, 0.28)):
            x = rnd.uniform(-w * 0.05, 0)
            while x < w:
                bw = w * rnd.uniform(0.08, 0.16)
                bh = h * rnd.uniform(hmin, hmax)
                base = hz + row * u * 0.02
                out.append([(x, base), (x, base - bh), (x + bw, base - bh), (x + bw, base)])
                x += bw + (w * rnd.uniform(0.02, 0.08) if row else w * rnd.uniform(0, 0.02))
    elif sc.scenery == "trees":
        for row, out, scale in ((0, far, 0.7), (1, near, 1.0)):
            for _ in range(rnd.randint(4, 7)):
                cx, th = rnd.uniform(0, w), u * rnd.uniform(0.2, 0.34) * scale
                base, tw = hz + row * u * 0.03, th * 0.38
                out.append(
                    [
                        (cx - tw * 0.12, base),
                        (cx - tw * 0.12, base - th * 0.3),
                        (cx - tw, base - th * 0.3),
                        (cx, base - th),
                        (cx + tw, base - th * 0.3),
                        (cx + tw * 0.12, base - th * 0.3),
                        (cx + tw * 0.12, base),
                    ]
                )
    elif sc.scenery == "room":
        ww_, wh_ = w * rnd.uniform(0.22, 0.32), h * rnd.uniform(0.22, 0.3)
        wx, wy = w * rnd.uniform(0.08, 0.62), hz - wh_ - h * rnd.uniform(0.12, 0.2)
        far.append([(wx, wy), (wx + ww_, wy), (wx + ww_, wy + wh_), (wx, wy + wh_)])
        sc.window_rect = (wx, wy, ww_, wh_)
        dx = (wx + ww_ + w * 0.08) if wx < w * 0.45 else wx - w * 0.26
        far.append(
            [(dx, hz), (dx, hz - h * 0.45), (dx + w * 0.16, hz - h * 0.45), (dx + w * 0.16, hz)]
        )
        tx = w * rnd.uniform(0.1, 0.6)
        near.append(
            [
                (tx, hz + h * 0.12),
                (tx + w * 0.3, hz + h * 0.12),
                (tx + w * 0.3, hz + h * 0.16),
                (tx, hz + h * 0.16),
            ]
        )
    if sc.scenery == "waves":
        for i in range(int((h - hz) / (u * 0.05))):
            y = hz + u * 0.03 + i * u * 0.05
            x = rnd.uniform(-w * 0.1, 0)
            while x < w:
                seg = w * rnd.uniform(0.06, 0.14)
                near.append(
                    [
                        (x, y),
                        (x + seg / 2, y - u * 0.008),
                        (x + seg, y),
                        (x + seg / 2, y - u * 0.003),
                    ]
                )
                x += seg * rnd.uniform(1.2, 2.0)


def _figures(
    d: ImageDraw.ImageDraw, sc: Scene, rnd: random.Random, cast: list, w: int, h: int, lw: int
) -> None:
    """A head-and-shoulders silhouette per cast member, head centred on its point."""
    for name, (x, y) in cast:
        hv = text_hash(name)
        r = min(w, h) * 0.055 * (0.92 + (hv % 17) / 70)  # head radius, varies per name
        bw = 0.9 + (hv >> 8) % 13 / 40  # build
        body = mix(sc.figure, rgb((hv % 360, 0.40, 0.45)), 0.22)
        top = y + r * 1.25  # shoulder line
        feet = min(h + r, y + r * 9.0)
        d.ellipse(
            [x - r * 2 * bw, feet - r * 0.3, x + r * 2 * bw, feet + r * 0.3],
            fill=mix(sc.ground_top, (0, 0, 0), 0.3),
        )
        arc = [
            (x + r * 1.75 * bw * math.cos(a), top + r * 0.75 - r * 0.9 * math.sin(a))
            for a in [i * math.pi / 16 for i in range(17)]
        ]
        torso = arc + [
            (x - r * 1.55 * bw, top + r * 3.4),
            (x - r * 1.25 * bw, feet),
            (x + r * 1.25 * bw, feet),
            (x + r * 1.55 * bw, top + r * 3.4),
        ]
        d.polygon(torso, fill=body)
        d.rectangle([x - r * 0.32, y + r * 0.6, x + r * 0.32, top + r * 0.2], fill=body)
        d.ellipse([x - r, y - r * 1.1, x + r, y + r * 1.05], fill=body)
        _pencil(d, torso, sc.ink, lw, rnd)
        for side in (-1, 1):  # arms: two loose strokes inside the silhouette
            ax = x + side * r * 1.2 * bw
            d.line(
                [(ax, top + r * 1.0), (ax + side * r * 0.15, top + r * 4.2)],
                fill=mix(body, sc.ink, 0.45),
                width=lw,
            )
        head = [
            (x + r * math.cos(a / 10), y - r * 0.03 + r * 1.07 * math.sin(a / 10))
            for a in range(63)
        ]
        _pencil(d, head, sc.ink, lw, rnd)


def _labels(img: Image.Image, cast: tuple) -> None:
    r = min(img.size) * 0.055
    font = ImageFont.load_default(size=max(10, round(r * 0.5)))
    d = ImageDraw.Draw(img)
    for name, (x, y) in cast:
        d.text(
            (x, y + r * 3.3),
            name.upper(),
            font=font,
            anchor="mm",
            fill=(236, 232, 222),
            stroke_width=max(1, round(r / 40)),
            stroke_fill=(40, 40, 48),
        )


def _grain(img: Image.Image, seed: int) -> Image.Image:
    tile = Image.frombytes(
        "L", (256, 256), hashlib.shake_256(f"grain{seed}".encode()).digest(65536)
    ).point(lambda v: v // 16)
    noise = Image.new("L", img.size)
    for y in range(0, img.height, 256):
        for x in range(0, img.width, 256):
            noise.paste(tile, (x, y))
    return ImageChops.add(img, Image.merge("RGB", (noise,) * 3), 1.0, -8)


def _draft_tag(img: Image.Image, req: PaintRequest) -> None:
    w, h = img.size
    size = max(10, round(min(w, h) * 0.028))
    font = ImageFont.load_default(size=size)
    label = f"DRAFT  {req.panel_id}  v{req.variant}".strip()
    x0, y0, x1, y1 = font.getbbox(label)
    pad = size // 2
    bw, bh = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    m = max(4, size // 2)
    corners = [(w - bw - m, h - bh - m), (m, h - bh - m), (w - bw - m, m), (m, m)]

    def free(c: tuple[float, float]) -> float:
        box = req.mask.crop((c[0], c[1], c[0] + bw, c[1] + bh))
        lo, _ = box.getextrema()
        return (
            1000.0
            if lo == 255
            else sum(i * n for i, n in enumerate(box.histogram())) / (max(1, bw * bh) * 255)
        )

    cx, cy = max(corners, key=free)  # first fully free corner wins (max is stable)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle(
        [cx, cy, cx + bw, cy + bh],
        radius=pad,
        fill=(250, 248, 240),
        outline=(190, 40, 40),
        width=max(1, size // 10),
    )
    d.text((cx + pad - x0, cy + pad - y0), label, font=font, fill=(190, 40, 40))
