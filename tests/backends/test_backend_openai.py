"""OpenAI Images edits backend against a fake server that implements the
documented contract over real HTTP and asserts every request."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from comicc.backends import PaintRequest, RateLimited, Rejected, Transient, Unavailable, registry
from comicc.backends.openai import OpenAIBackend
from comicc.paint import ArtCache, Painter, PaintJob, plan_panel
from comicc.paint.composite import composite  # the package's name is the module once loaded
from support.fakes_stability_openai import KEY, PAINT_COLOR, FakeOpenAI, Reply, kept_intact
from support.panels import make_panel, two_speaker_geom
from support.servers import allow_local_key_hosts


@pytest.fixture(autouse=True)
def key(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    allow_local_key_hosts(monkeypatch)  # the fake listens on 127.0.0.1


def request(w: int = 1024, h: int = 1024, **kw) -> PaintRequest:
    # per-pixel detail that still compresses: a noise tile scaled up
    init = Image.frombytes("RGB", (64, 64), hashlib.shake_256(b"init").digest(64 * 64 * 3)).resize(
        (w, h), Image.Resampling.NEAREST
    )
    mask = Image.new("L", (w, h), 255)
    mask.paste(0, (0, 0, w // 3, h))  # KEEP the left third
    return PaintRequest(
        prompt=kw.pop("prompt", "a kitchen at night, moonlight"),
        negative="",
        seed=None,
        width=w,
        height=h,
        init_image=init,
        mask=mask,
        backend_settings=kw.pop("backend_settings", {}),
        panel_id="p1.1",
        **kw,
    )


def points(w: int = 1024, h: int = 1024):
    return {
        "keep_points": [(5, h // 2), (w // 3 - 2, 3)],
        "paint_points": [(w - 5, h // 2), (w // 2, h - 3)],
    }


def backend(fake, **settings) -> OpenAIBackend:
    b = OpenAIBackend(url=fake.url, **settings)
    b.preflight()
    return b


# ------------------------------------------------------------ capabilities
def test_capabilities_declare_no_seed_no_negative_fixed_sizes():
    caps = OpenAIBackend.capabilities
    assert caps.mask_convention == "alpha" and caps.edge_control is None
    assert not caps.seed and not caps.negative_prompt
    assert caps.negotiate_size(2000, 3000) == (1024, 1536)
    assert caps.negotiate_size(3000, 2000) == (1536, 1024)
    assert caps.negotiate_size(1500, 1400) == (1024, 1024)


def test_the_plan_drops_seed_and_negative_with_a_note():
    plan = plan_panel(
        make_panel(backend="openai", negative="blurry"),
        two_speaker_geom(),
        OpenAIBackend.capabilities,
    )
    assert plan.seed is None and plan.negative == ""
    assert any("no negative prompt" in n for n in plan.notes)
    assert plan.request_size in ((1024, 1024), (1536, 1024), (1024, 1536))


# ----------------------------------------------------------------- success
def test_success_and_request_contract(httpserver):
    fake = FakeOpenAI(httpserver, **points())
    req = request()
    res = backend(fake, quality="high").paint(req)
    fake.verify()
    [seen] = fake.seen
    f = seen.fields
    assert f["model"] == "gpt-image-1" and f["n"] == "1" and f["size"] == "1024x1024"
    assert f["quality"] == "high" and f["prompt"] == req.prompt
    assert "seed" not in f and "negative_prompt" not in f and "output_format" not in f
    # image: opaque PNG of the init; mask: alpha = 255 - comicc mask (transparent = edit)
    assert (
        seen.files["image"].mode == "RGB"
        and seen.files["image"].tobytes() == req.init_image.tobytes()
    )
    assert seen.files["alpha"].tobytes() == req.mask.point(lambda v: 255 - v).tobytes()
    assert res.seed_used is None and res.metadata["model"] == "gpt-image-1"
    assert res.metadata["usage"]["total_tokens"] == 100
    assert isinstance(res.image, bytes)
    art = Image.open(io.BytesIO(res.image)).convert("RGB")
    assert art.getpixel((1000, 500)) == PAINT_COLOR and art.getpixel(
        (5, 5)
    ) == req.init_image.getpixel((5, 5))


def test_model_comes_from_the_dotted_setting_only(httpserver):
    fake = FakeOpenAI(httpserver)
    backend(fake, model="gpt-image-1-mini").paint(request())
    backend(fake).paint(request(model="something-else"))  # the generic `model:` is not read
    fake.verify()
    assert [s.fields["model"] for s in fake.seen] == ["gpt-image-1-mini", "gpt-image-1"]


def test_guidance_only_mask_is_composited_back_from_another_size(httpserver):
    """The service re-renders everything and answers at another size: compositing
    scales it to the panel box and the balloons come back pixel-exact."""
    plan = plan_panel(
        make_panel(backend="openai", dpi=150), two_speaker_geom(), OpenAIBackend.capabilities
    )
    req = plan.request()
    w, h = req.width, req.height
    sx, sy = plan.scale((w, h))
    fake = FakeOpenAI(
        httpserver,
        keep_points=[(round(400 * 0.28 * sx), round(300 * 0.18 * sy))],
        paint_points=[(5, h - 5), (w - 5, h - 5)],
        repaint_all=True,
        out_size=(768, 512),
    )
    res = backend(fake).paint(req)
    fake.verify()
    done = composite(res, plan)
    assert done.report.returned_size == (768, 512) and done.image.size == plan.box_size
    mask = plan.mask(plan.box_size)
    assert kept_intact(
        done.image, plan.init_image(plan.box_size), mask.point(lambda v: 255 if v == 0 else 0)
    )
    assert done.report.mask_ignored()  # the service repainted the kept area: the build warns


def test_wrong_size_is_rejected_before_sending(httpserver):
    fake = FakeOpenAI(httpserver)
    with pytest.raises(Rejected) as exc:
        backend(fake).paint(request(1000, 1000))
    assert exc.value.reason == "size" and fake.seen == []


# ------------------------------------------------------------------ errors
def _err(message, etype, code):
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


def test_429_with_retry_after(httpserver):
    fake = FakeOpenAI(
        httpserver,
        replies=[
            Reply(
                429,
                _err("Rate limit reached for images", "requests", "rate_limit_exceeded"),
                {"retry-after": "12"},
            )
        ],
    )
    with pytest.raises(RateLimited) as exc:
        backend(fake).paint(request())
    fake.verify()
    assert exc.value.retry_after == 12 and "Rate limit reached" in str(exc.value)


def test_429_out_of_quota_is_unavailable(httpserver):
    fake = FakeOpenAI(
        httpserver,
        replies=[
            Reply(
                429,
                _err("You exceeded your current quota", "insufficient_quota", "insufficient_quota"),
            )
        ],
    )
    with pytest.raises(Unavailable) as exc:
        backend(fake).paint(request())
    assert "quota" in str(exc.value)


@pytest.mark.parametrize("code", ["moderation_blocked", "content_policy_violation"])
def test_moderation_is_rejected(httpserver, code):
    fake = FakeOpenAI(
        httpserver,
        replies=[
            Reply(
                400,
                _err(
                    "Your request was rejected by the safety system",
                    "image_generation_user_error",
                    code,
                ),
            )
        ],
    )
    with pytest.raises(Rejected) as exc:
        backend(fake).paint(request())
    fake.verify()
    assert exc.value.reason == code and "safety system" in str(exc.value)


@pytest.mark.parametrize(
    "status, kind", [(400, Rejected), (401, Unavailable), (500, Transient), (503, Transient)]
)
def test_statuses(httpserver, status, kind):
    fake = FakeOpenAI(
        httpserver, replies=[Reply(status, _err(f"problem {status}", "server_error", None))]
    )
    with pytest.raises(kind) as exc:
        backend(fake).paint(request())
    assert f"problem {status}" in str(exc.value) and KEY not in str(exc.value)


def test_read_timeout_is_transient(httpserver):
    fake = FakeOpenAI(httpserver, replies=[Reply(200, sleep=0.8)])
    with pytest.raises(Transient):
        backend(fake, timeout="0.3").paint(request())


def test_missing_key_fails_preflight(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(Unavailable) as exc:
        OpenAIBackend().preflight()
    assert "OPENAI_API_KEY" in str(exc.value)


@pytest.mark.parametrize(
    "settings, key",
    [
        ({"modle": "x"}, "modle"),
        ({"quality": "ultra"}, "quality"),
        ({"output_format": "gif"}, "output_format"),
        ({"url": "ftp://x"}, "url"),
        ({"timeout": "-1"}, "timeout"),
        ({"seed": "3"}, "seed"),
    ],
)
def test_settings_validated(settings, key):
    problems = OpenAIBackend.validate_settings(settings)
    assert problems and problems[0].key == key


def test_registry_loads_it():
    assert registry.load("openai") is OpenAIBackend


def test_scheduler_retries_a_429_then_succeeds(httpserver, tmp_path):
    fake = FakeOpenAI(
        httpserver,
        replies=[
            Reply(429, _err("slow down", "requests", "rate_limit_exceeded"), {"retry-after": "2"})
        ],
    )
    slept: list[float] = []
    painter = Painter(
        {"openai": backend(fake)},
        ArtCache(tmp_path / "cache"),
        progress=False,
        workers=1,
        sleep=slept.append,
    )
    [out] = painter.paint([PaintJob(make_panel(backend="openai", dpi=72), two_speaker_geom(), 1)])
    fake.verify()
    assert out.ok and out.attempts == 2 and slept == [2.0] and len(fake.seen) == 2
