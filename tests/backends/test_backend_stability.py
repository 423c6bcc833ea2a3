"""Stability AI backend against a fake server that implements the documented
contract over real HTTP and asserts every request (see fakes_stability_openai)."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from PIL import Image

from comicc.backends import (
    PaintRequest,
    PaintResult,
    RateLimited,
    Rejected,
    Transient,
    Unavailable,
    registry,
)
from comicc.backends.stability import StabilityBackend
from comicc.backends.stability_inputs import SDXL_SIZES
from comicc.paint import ArtCache, Painter, PaintJob, plan_panel
from comicc.paint.composite import composite  # the package's name is the module once loaded
from support.fakes_stability_openai import (
    KEY,
    PAINT_COLOR,
    FakeStability,
    FakeStabilityV1,
    Reply,
    kept_intact,
)
from support.panels import make_panel, two_speaker_geom
from support.servers import allow_local_key_hosts


@pytest.fixture(autouse=True)
def key(monkeypatch, tmp_path):
    monkeypatch.setenv("STABILITY_API_KEY", KEY)
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))  # no user keys.toml
    allow_local_key_hosts(monkeypatch)  # the fake listens on 127.0.0.1


def noisy(w: int, h: int) -> Image.Image:
    return Image.frombytes("RGB", (w, h), hashlib.shake_256(b"init").digest(w * h * 3))


def half_mask(w: int, h: int) -> Image.Image:
    """KEEP (0) on the left third, PAINT (255) elsewhere."""
    m = Image.new("L", (w, h), 255)
    m.paste(0, (0, 0, w // 3, h))
    return m


def request(w: int = 320, h: int = 256, **kw) -> PaintRequest:
    backend_settings = kw.pop("backend_settings", {"grow_mask": "0"})
    return PaintRequest(
        prompt=kw.pop("prompt", "a kitchen at night, moonlight"),
        negative=kw.pop("negative", "blurry, text"),
        seed=kw.pop("seed", 1234),
        width=w,
        height=h,
        init_image=noisy(w, h),
        mask=half_mask(w, h),
        backend_settings=backend_settings,
        panel_id="p1.1",
        **kw,
    )


def points(w: int = 320, h: int = 256):
    return {
        "keep_points": [(5, h // 2), (w // 3 - 2, 3)],
        "paint_points": [(w - 5, h // 2), (w // 2, h - 3)],
    }


def backend(fake, **settings) -> StabilityBackend:
    b = StabilityBackend(url=fake.url, **settings)
    b.preflight()
    return b


# ------------------------------------------------------------------ success
def test_v2_raw_bytes_success_and_request_contract(httpserver):
    fake = FakeStability(httpserver, **points())
    req = request()
    res = backend(fake, style_preset="comic-book").paint(req)
    fake.verify()
    assert len(fake.seen) == 1
    seen = fake.seen[0]
    assert seen.headers["Accept"] == "image/*"
    assert seen.fields["prompt"] == req.prompt
    assert seen.fields["negative_prompt"] == "blurry, text"
    assert seen.fields["seed"] == "1234"
    assert seen.fields["grow_mask"] == "0"
    assert seen.fields["style_preset"] == "comic-book"
    assert seen.fields["output_format"] == "png"
    assert seen.files["image"].size == (320, 256)
    # the mask went out exactly as comicc's convention (white = paint): pixel for pixel
    assert seen.files["mask"].tobytes() == req.mask.tobytes()
    assert isinstance(res, PaintResult) and isinstance(res.image, bytes)
    assert res.seed_used == 1234
    assert res.metadata["finish_reason"] == "SUCCESS" and res.metadata["request_id"] == "req-123"
    art = Image.open(io.BytesIO(res.image)).convert("RGB")
    assert art.getpixel((300, 100)) == PAINT_COLOR
    assert art.getpixel((5, 100)) == req.init_image.getpixel((5, 100))


def test_v2_json_form(httpserver):
    """The JSON answer ``{image, seed, finish_reason}`` is understood as well."""
    fake = FakeStability(httpserver, answer_json=True, **points())
    res = backend(fake).paint(request(seed=77))
    fake.verify()
    assert res.seed_used == 77 and res.metadata["finish_reason"] == "SUCCESS"
    assert isinstance(res.image, bytes)
    assert Image.open(io.BytesIO(res.image)).size == (320, 256)


def test_v2_json_form_content_filtered(httpserver):
    fake = FakeStability(httpserver, answer_json=True, filtered=True)
    with pytest.raises(Rejected) as exc:
        backend(fake).paint(request())
    assert exc.value.reason == "content_filtered"


def test_v2_other_output_size_is_composited_back_with_balloons_exact(httpserver):
    panel = make_panel(
        backend="stability", dpi=150, backend_settings=(("stability.style_preset", "comic-book"),)
    )
    geom = two_speaker_geom()
    b = StabilityBackend(url="http://127.0.0.1:1")  # for its capabilities only
    plan = plan_panel(panel, geom, b.capabilities)
    req = plan.request()
    assert req.backend_settings["grow_mask"] == "0"  # the plan sends the minimum explicitly
    w, h = req.width, req.height
    sx, sy = plan.scale((w, h))
    keep = [(round(400 * 0.28 * sx), round(300 * 0.18 * sy))]  # centre of balloon 1
    paint = [(5, h - 5), (w - 5, h - 5)]  # bottom corners
    fake = FakeStability(httpserver, keep_points=keep, paint_points=paint, out_size=(1024, 768))
    res = backend(fake, style_preset="comic-book").paint(req)
    fake.verify()
    assert isinstance(res.image, bytes)
    assert Image.open(io.BytesIO(res.image)).size == (1024, 768) != (w, h)
    done = composite(res, plan)
    assert done.image.size == plan.box_size and done.report.resized
    init, mask = plan.init_image(plan.box_size), plan.mask(plan.box_size)
    assert kept_intact(done.image, init, mask.point(lambda v: 255 if v == 0 else 0))
    assert not done.report.mask_ignored()
    bx, by = plan.box_size
    assert done.image.getpixel((3, by - 3)) == pytest.approx(PAINT_COLOR, abs=3)


def test_v1_masking_contract(httpserver):
    w, h = 1216, 832
    fake = FakeStabilityV1(httpserver, **points(w, h))
    b = backend(fake, api="v1", cfg_scale="9")
    assert b.capabilities.allowed_sizes == SDXL_SIZES and b.capabilities.edge_control is None
    res = b.paint(request(w, h, backend_settings={}))
    fake.verify()
    f = fake.seen[0].fields
    assert (
        f["text_prompts[0][text]"].startswith("a kitchen") and f["text_prompts[0][weight]"] == "1"
    )
    assert f["text_prompts[1][text]"] == "blurry, text" and f["text_prompts[1][weight]"] == "-1"
    assert (
        f["seed"] == "1234" and f["cfg_scale"] == "9" and f["steps"] == "30" and f["samples"] == "1"
    )
    assert "grow_mask" not in f
    assert res.seed_used == 1234 and res.metadata["api"] == "v1"


def test_v1_rejects_a_non_sdxl_size_before_sending(httpserver):
    fake = FakeStabilityV1(httpserver)
    with pytest.raises(Rejected) as exc:
        backend(fake, api="v1").paint(request(1000, 700, backend_settings={}))
    assert exc.value.reason == "size" and fake.seen == []


def test_v1_other_engine_negotiates_multiples_of_64():
    b = StabilityBackend(api="v1", engine="stable-diffusion-v1-6")
    w, h = b.capabilities.negotiate_size(1667, 1250)
    assert w % 64 == 0 and h % 64 == 0 and max(w, h) <= 1536


# ------------------------------------------------------------------- errors
def test_429_with_retry_after(httpserver):
    fake = FakeStability(
        httpserver,
        replies=[
            Reply(
                429,
                {
                    "id": "x",
                    "name": "rate_limit_exceeded",
                    "errors": ["You have exceeded the rate limit"],
                },
                {"retry-after": "7"},
            )
        ],
    )
    with pytest.raises(RateLimited) as exc:
        backend(fake).paint(request())
    fake.verify()
    assert exc.value.retry_after == 7
    assert "exceeded the rate limit" in str(exc.value)


def test_429_without_header_waits_stabilitys_60_seconds(httpserver):
    fake = FakeStability(
        httpserver,
        replies=[Reply(429, {"id": "x", "name": "rate_limit_exceeded", "errors": ["slow down"]})],
    )
    with pytest.raises(RateLimited) as exc:
        backend(fake).paint(request())
    assert exc.value.retry_after == 60


def test_403_content_moderation_is_rejected(httpserver):
    fake = FakeStability(
        httpserver,
        replies=[
            Reply(
                403,
                {
                    "id": "abc",
                    "name": "content_moderation",
                    "errors": ["Your request was flagged by our content moderation system"],
                },
            )
        ],
    )
    with pytest.raises(Rejected) as exc:
        backend(fake).paint(request())
    fake.verify()
    assert exc.value.reason == "content_moderation"
    assert "flagged by our content moderation system" in str(exc.value)


def test_content_filtered_finish_reason_is_rejected(httpserver):
    fake = FakeStability(httpserver, filtered=True)
    with pytest.raises(Rejected) as exc:
        backend(fake).paint(request())
    fake.verify()
    assert exc.value.reason == "content_filtered"


@pytest.mark.parametrize(
    "status, body, kind, reason",
    [
        (
            413,
            {"id": "a", "name": "payload_too_large", "errors": ["body over 10MiB"]},
            Rejected,
            "too_large",
        ),
        (
            422,
            {"id": "a", "name": "public_figure", "errors": ["public figures are not allowed"]},
            Rejected,
            "public_figure",
        ),
        (
            400,
            {"id": "a", "name": "bad_request", "errors": ["style_preset: invalid"]},
            Rejected,
            "bad_request",
        ),
        (
            500,
            {
                "id": "a",
                "name": "internal_error",
                "errors": ["An unexpected server error occurred"],
            },
            Transient,
            None,
        ),
        (
            401,
            {"id": "a", "name": "unauthorized", "errors": ["missing authorization"]},
            Unavailable,
            None,
        ),
    ],
)
def test_error_statuses_map_to_typed_errors_with_the_services_words(
    httpserver, status, body, kind, reason
):
    fake = FakeStability(httpserver, replies=[Reply(status, body)])
    with pytest.raises(kind) as exc:
        backend(fake).paint(request())
    fake.verify()
    assert body["errors"][0] in str(exc.value)
    if reason:
        assert exc.value.reason == reason
    assert KEY not in str(exc.value)


def test_v1_error_message_form(httpserver):
    fake = FakeStabilityV1(
        httpserver,
        replies=[
            Reply(400, {"id": "a", "name": "invalid_samples", "message": "samples must be 1..10"})
        ],
    )
    with pytest.raises(Rejected) as exc:
        backend(fake, api="v1").paint(request(1024, 1024, backend_settings={}))
    assert "samples must be 1..10" in str(exc.value) and exc.value.reason == "invalid_samples"


def test_read_timeout_is_transient(httpserver):
    fake = FakeStability(httpserver, replies=[Reply(200, sleep=0.8)])
    with pytest.raises(Transient) as exc:
        backend(fake, timeout="0.3").paint(request())
    assert exc.value.setting == "url"


def test_body_over_10_mib_is_rejected_before_sending(httpserver, monkeypatch):
    fake = FakeStability(httpserver)
    import comicc.backends.stability as mod

    monkeypatch.setattr(mod, "MAX_BODY_BYTES", 50_000)
    with pytest.raises(Rejected) as exc:
        backend(fake).paint(request(400, 400))
    assert exc.value.reason == "too_large" and fake.seen == []


def test_missing_key_fails_preflight(monkeypatch):
    monkeypatch.delenv("STABILITY_API_KEY")
    with pytest.raises(Unavailable) as exc:
        StabilityBackend().preflight()
    assert "STABILITY_API_KEY" in str(exc.value) and exc.value.setting is None


def test_server_down_is_unavailable_naming_the_url():
    b = StabilityBackend(url="http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(Unavailable) as exc:
        b.paint(request())
    assert exc.value.setting == "url"


# ---------------------------------------------------------------- settings
@pytest.mark.parametrize(
    "settings, key, words",
    [
        ({"style_presets": "comic-book"}, "style_presets", "did you mean `stability.style_preset`"),
        ({"style_preset": "comic-books"}, "style_preset", "comic-book"),
        ({"api": "v3"}, "api", "v2beta"),
        ({"grow_mask": "200"}, "grow_mask", "0 to 100"),
        ({"cfg_scale": "7"}, "cfg_scale", "api: v1"),
        ({"api": "v1", "grow_mask": "3"}, "grow_mask", "v2beta"),
        ({"url": "api.stability.ai"}, "url", "http"),
        ({"api": "v1", "steps": "lots"}, "steps", "whole number"),
    ],
)
def test_settings_are_validated_without_io(settings, key, words):
    problems = StabilityBackend.validate_settings(settings)
    assert problems and problems[0].key == key
    assert words in problems[0].message + " " + (problems[0].hint or "")


def test_good_settings_pass():
    assert (
        StabilityBackend.validate_settings(
            {
                "url": "http://127.0.0.1:8000",
                "style_preset": "line-art",
                "grow_mask": "3",
                "output_format": "webp",
                "timeout": "30",
            }
        )
        == []
    )
    assert (
        StabilityBackend.validate_settings(
            {"api": "v1", "engine": "stable-diffusion-v1-6", "cfg_scale": "7.5", "steps": "40"}
        )
        == []
    )


def test_registry_loads_it():
    assert registry.load("stability") is StabilityBackend


# ------------------------------------------------------------- scheduler
def test_scheduler_retries_a_429_then_succeeds(httpserver, tmp_path):
    fake = FakeStability(
        httpserver,
        replies=[
            Reply(
                429,
                {"id": "x", "name": "rate_limit_exceeded", "errors": ["too many"]},
                {"retry-after": "3"},
            )
        ],
    )
    b = backend(fake)
    slept: list[float] = []
    painter = Painter(
        {"stability": b},
        ArtCache(tmp_path / "cache"),
        progress=False,
        workers=1,
        sleep=slept.append,
    )
    panel = make_panel(backend="stability", dpi=72)
    [out] = painter.paint([PaintJob(panel, two_speaker_geom(), 1)])
    fake.verify()
    assert out.ok, [d.message for d in out.diagnostics]
    assert out.attempts == 2 and slept == [3.0]
    assert len(fake.seen) == 2 and out.plan is not None
    assert fake.seen[0].fields["seed"] == fake.seen[1].fields["seed"] == str(out.plan.seed)
    # the second build is served from the cache: no request
    [again] = painter.paint([PaintJob(panel, two_speaker_geom(), 1)])
    assert again.from_cache and len(fake.seen) == 2


def test_scheduler_reports_a_filtered_panel_as_rejected(httpserver, tmp_path):
    fake = FakeStability(httpserver, filtered=True)
    painter = Painter(
        {"stability": backend(fake)},
        ArtCache(tmp_path / "cache"),
        progress=False,
        workers=1,
        sleep=lambda s: None,
    )
    [out] = painter.paint(
        [PaintJob(make_panel(backend="stability", dpi=72), two_speaker_geom(), 1)]
    )
    assert not out.ok and len(fake.seen) == 1  # not retried
    [d] = [d for d in out.diagnostics if d.severity.name == "ERROR"]
    assert d.code == "backend-rejected" and "content filter" in d.message


def test_key_never_in_repr_or_metadata(httpserver):
    fake = FakeStability(httpserver)
    b = backend(fake)
    res = b.paint(request())
    assert KEY not in repr(b) and KEY not in repr(res.metadata) and KEY not in repr(vars(b))
    assert os.environ["STABILITY_API_KEY"] == KEY


def test_a_panel_may_not_switch_the_api(httpserver):
    fake = FakeStability(httpserver)
    with pytest.raises(Rejected) as exc:
        backend(fake).paint(request(backend_settings={"grow_mask": "0", "api": "v1"}))
    assert exc.value.setting == "api" and fake.seen == []


def test_a_panel_may_override_its_style_and_timeout(httpserver):
    fake = FakeStability(httpserver, replies=[Reply(200, sleep=0.6)])
    b = backend(fake, style_preset="comic-book")
    with pytest.raises(Transient):
        b.paint(request(backend_settings={"grow_mask": "0", "timeout": "0.2"}))
    b.paint(request(backend_settings={"grow_mask": "2", "style_preset": "line-art"}))
    fake.verify()
    assert (
        fake.seen[-1].fields["style_preset"] == "line-art"
        and fake.seen[-1].fields["grow_mask"] == "2"
    )
