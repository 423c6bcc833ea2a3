"""The offline draft backend: deterministic, fast, mask-exact, prompt-driven."""

from __future__ import annotations

import hashlib

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from comicc.backends import PaintRequest, draft
from comicc.backends.draft import DraftBackend


def noisy_init(w: int, h: int) -> Image.Image:
    """An init image with per-pixel detail, so 'exact' really means exact."""
    data = hashlib.shake_256(b"init").digest(w * h * 3)
    return Image.frombytes("RGB", (w, h), data)


def ring_mask(w: int, h: int) -> Image.Image:
    """KEEP ovals with a grey (partial) ring, PAINT elsewhere."""
    m = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(m)
    d.ellipse([w * 0.1 - 8, h * 0.1 - 8, w * 0.5 + 8, h * 0.35 + 8], fill=128)
    d.ellipse([w * 0.1, h * 0.1, w * 0.5, h * 0.35], fill=0)
    d.ellipse([w * 0.55, h * 0.3, w * 0.9, h * 0.5], fill=0)
    return m


def request(
    w: int = 600,
    h: int = 400,
    prompt: str = "a city rooftop at night, moonlight",
    negative: str = "",
    seed: int = 1234,
    cast=(("HAMMY", (180, 250)), ("BEAR", (430, 260))),
    mask: Image.Image | None = None,
    init: Image.Image | None = None,
) -> PaintRequest:
    return PaintRequest(
        prompt=prompt,
        negative=negative,
        seed=seed,
        width=w,
        height=h,
        init_image=init or noisy_init(w, h),
        mask=mask or ring_mask(w, h),
        panel_id="p1.1",
        variant=1,
        cast=cast,
    )


def paint(req: PaintRequest) -> Image.Image:
    img = DraftBackend().paint(req).image
    assert (
        isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (req.width, req.height)
    )
    return img


def kept_differences(out: Image.Image, init: Image.Image, mask: Image.Image):
    """Bounding box of pixels where mask == 0 but out != init (None = exact)."""
    keep = mask.point(lambda v: 255 if v == 0 else 0)
    diff = ImageChops.difference(out, init).convert("L").point(lambda v: 255 if v else 0)
    return ImageChops.multiply(diff, keep).getbbox()


def test_capabilities():
    caps = DraftBackend.capabilities
    assert caps.mask_convention == "white" and caps.edge_control is None
    assert caps.seed and caps.negative_prompt and caps.deterministic
    assert not caps.needs_network and caps.needs_key is None and caps.cost_per_image == 0
    assert caps.multiple_of == 1 and caps.negotiate_size(1001, 777) == (1001, 777)


def test_same_request_gives_identical_bytes():
    a, b = paint(request()), paint(request())
    assert a.tobytes() == b.tobytes()


def test_seed_and_prompt_change_the_picture():
    base = paint(request()).tobytes()
    assert paint(request(seed=99)).tobytes() != base
    assert paint(request(prompt="a sunny beach")).tobytes() != base


def test_kept_pixels_are_the_init_images_exactly():
    req = request()
    out = paint(req)
    assert kept_differences(out, req.init_image, req.mask) is None
    # and the PAINT area really is painted
    paint_only = req.mask.point(lambda v: 255 if v == 255 else 0)
    diff = ImageChops.difference(out, req.init_image).convert("L")
    assert ImageStat.Stat(diff, mask=paint_only).mean[0] > 20


def test_grey_mask_blends():
    req = request()
    out = paint(req)
    x, y = int(600 * 0.1 - 4), int(400 * 0.225)  # inside the grey ring, left of the first oval
    assert req.mask.getpixel((x, y)) == 128
    o, i = out.getpixel((x, y)), req.init_image.getpixel((x, y))
    assert o != i  # half painted, half init


def test_palette_follows_the_prompt():
    full = Image.new("L", (300, 200), 255)

    def mean(prompt: str, negative: str = "") -> list[float]:
        img = paint(request(300, 200, prompt=prompt, negative=negative, mask=full, cast=()))
        return ImageStat.Stat(img).mean

    night = mean("moonlight over the harbour, night")
    sunny = mean("a sunny summer day on the beach")
    assert night[2] > night[0] and sum(night) < sum(sunny)  # cool and dark
    assert sunny[0] > sunny[2] - 40 and sum(sunny) / 3 > 120  # warm-ish and bright
    # the negative prompt takes words out of the palette
    assert (
        DraftBackend().paint(request(prompt="night city", negative="night")).metadata["mood"]
        != "night"
    )


def test_figures_stand_at_the_cast_points():
    full = Image.new("L", (600, 400), 255)
    with_cast = paint(request(mask=full))
    without = paint(request(mask=full, cast=()))
    head = (180, 250)
    box = (head[0] - 5, head[1] - 5, head[0] + 5, head[1] + 5)
    diff = ImageChops.difference(with_cast.crop(box), without.crop(box)).convert("L")
    assert ImageStat.Stat(diff).mean[0] > 10
    far = (10, 10, 20, 20)  # far from both figures: identical
    assert ImageChops.difference(with_cast.crop(far), without.crop(far)).getbbox() is None


def test_draft_tag_avoids_kept_corners():
    w, h = 600, 400
    mask = Image.new("L", (w, h), 255)
    mask.paste(0, (w // 2, h // 2, w, h))  # bottom-right quadrant is a balloon
    out = paint(request(mask=mask, init=Image.new("RGB", (w, h), "white")))

    def red_pixels(box) -> int:
        r, g, b = out.crop(box).split()
        red = ImageChops.subtract(r, ImageChops.lighter(g, b))
        return red.point(lambda v: 255 if v > 100 else 0).histogram()[255]

    assert red_pixels((0, h * 3 // 4, w // 3, h)) > 20  # moved to bottom-left
    assert red_pixels((w // 2, h // 2, w, h)) == 0  # kept region untouched


def test_large_panel_is_drawn_at_the_working_size_and_scaled_up(monkeypatch):
    """What keeps the draft quick at any size (the timing itself is bench/'s)."""
    drawn: list[tuple[int, int]] = []
    real = draft._paint_art

    def spy(w, h, *rest):
        drawn.append((w, h))
        return real(w, h, *rest)

    monkeypatch.setattr(draft, "_paint_art", spy)
    w, h = 2000, 3000
    req = request(w, h, cast=(("A", (600, 1600)), ("B", (1400, 1700))))
    out = paint(req)
    assert drawn == [(800, draft.WORK_LONG_SIDE)]  # 2:3 at 1200 px on the long side
    assert out.size == (w, h)
    assert kept_differences(out, req.init_image, req.mask) is None


@pytest.mark.parametrize("size", [(1, 1), (7, 300), (300, 7)])
def test_tiny_and_thin_panels(size):
    w, h = size
    req = request(
        w,
        h,
        cast=(("A", (w / 2, h / 2)),),
        mask=Image.new("L", size, 255),
        init=Image.new("RGB", size, "white"),
    )
    assert paint(req).size == size
