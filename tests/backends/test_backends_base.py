"""Capabilities, size negotiation, requests, mask conversion, errors, registry."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from comicc.backends import registry
from comicc.backends.base import (
    Backend,
    BackendError,
    Capabilities,
    EdgeControl,
    PaintRequest,
    PaintResult,
    RateLimited,
    Rejected,
    Transient,
    Unavailable,
    to_service_mask,
)

SDXL_SIZES = (
    (1024, 1024),
    (1152, 896),
    (1216, 832),
    (1344, 768),
    (1536, 640),
    (640, 1536),
    (768, 1344),
    (832, 1216),
    (896, 1152),
)
SDXL = Capabilities(multiple_of=64, allowed_sizes=SDXL_SIZES)
X64 = Capabilities(multiple_of=64, max_pixels=1024 * 1024)
STABILITY_V2 = Capabilities(
    edge_control=EdgeControl("grow_mask", 5, 0, 100),
    min_side=64,
    min_pixels=4096,
    max_pixels=9_437_184,
    max_request_bytes=10 << 20,
)
A1111 = Capabilities(multiple_of=8, edge_control=EdgeControl("mask_blur", 4))


def aspect_err(a: tuple[int, int], w: float, h: float) -> float:
    return abs(math.log((a[0] / a[1]) / (w / h)))


# ---------------------------------------------------------------- negotiation
def test_any_size_backend_keeps_the_box():
    assert Capabilities().negotiate_size(1667, 1250) == (1667, 1250)


def test_multiples_of_8_round_to_the_nearest():
    assert A1111.negotiate_size(1667, 1250) == (1664, 1248)


def test_multiples_of_64_under_a_pixel_cap():
    w, h = X64.negotiate_size(1667, 1250)
    assert w % 64 == 0 and h % 64 == 0 and w * h <= 1024 * 1024
    assert aspect_err((w, h), 1667, 1250) < 0.06
    assert w * h > 0.8 * 1024 * 1024  # it uses the budget, not a tiny size


@pytest.mark.parametrize(
    "box, expected",
    [
        ((2000, 3000), (832, 1216)),  # 2:3 portrait
        ((3000, 2000), (1216, 832)),
        ((1500, 1500), (1024, 1024)),
        ((4000, 1500), (1536, 640)),  # very wide: the widest entry
        ((500, 1300), (640, 1536)),
    ],
)
def test_sdxl_allowed_list_picks_the_closest_aspect(box, expected):
    assert SDXL.negotiate_size(*box) == expected


def test_pixel_caps_scale_down_and_up():
    w, h = STABILITY_V2.negotiate_size(6000, 4000)
    assert w * h <= 9_437_184 and aspect_err((w, h), 6000, 4000) < 0.01
    w, h = STABILITY_V2.negotiate_size(20, 10)  # tiny: up to the minimum side
    assert min(w, h) >= 64 and w * h >= 4096 and aspect_err((w, h), 20, 10) < 0.05


@given(st.integers(50, 8000), st.integers(50, 8000))
def test_negotiated_sizes_are_always_accepted(w, h):
    for caps in (X64, STABILITY_V2, A1111, SDXL):
        size = caps.negotiate_size(w, h)
        assert caps.accepts_size(*size)
    if max(w, h) / min(w, h) <= 6 and min(w, h) >= 300:  # realistic panels: close aspect
        assert aspect_err(X64.negotiate_size(w, h), w, h) < 0.2


def test_impossible_constraints_are_rejected():
    caps = Capabilities(multiple_of=64, max_side=32)
    with pytest.raises(Rejected) as exc:
        caps.negotiate_size(100, 100)
    assert exc.value.reason == "size"


def test_capabilities_validate_the_convention():
    with pytest.raises(ValueError):
        Capabilities(mask_convention="green")
    with pytest.raises(dataclasses.FrozenInstanceError):
        X64.seed = False  # type: ignore[misc]  # frozen: the point of the test


# ------------------------------------------------------------------- requests
def _request(w: int = 40, h: int = 30) -> PaintRequest:
    mask = Image.new("L", (w, h), 255)
    mask.paste(0, (0, 0, w // 2, h))
    return PaintRequest(
        prompt="p",
        negative="",
        seed=1,
        width=w,
        height=h,
        init_image=Image.new("RGB", (w, h), (10, 20, 30)),
        mask=mask,
    )


def test_request_checks_image_sizes():
    req = _request()
    with pytest.raises(ValueError):
        PaintRequest(
            prompt="p",
            negative="",
            seed=1,
            width=41,
            height=30,
            init_image=req.init_image,
            mask=req.mask,
        )
    with pytest.raises(ValueError):
        PaintRequest(
            prompt="p",
            negative="",
            seed=1,
            width=40,
            height=30,
            init_image=req.init_image,
            mask=req.mask.convert("1"),
        )


def test_mask_conventions_at_the_edge():
    req = _request()
    _, white = to_service_mask(req, "white")
    assert white.getpixel((0, 0)) == 0 and white.getpixel((39, 0)) == 255
    _, black = to_service_mask(req, "black")
    assert black.getpixel((0, 0)) == 255 and black.getpixel((39, 0)) == 0
    rgba, _ = to_service_mask(req, "alpha")
    assert rgba.mode == "RGBA"
    assert rgba.getpixel((0, 0)) == (10, 20, 30, 255)  # kept: opaque
    assert rgba.getpixel((39, 0)) == (10, 20, 30, 0)  # paint: transparent


def test_backend_check_rejects_unaccepted_sizes():
    class Strict(Backend):
        name = "strict"
        capabilities = X64

        def paint(self, request):
            self.check(request)
            return PaintResult(image=request.init_image)

    with pytest.raises(Rejected):
        Strict().paint(_request(40, 30))
    assert Strict().paint(_request(64, 128)).seed_used is None


def test_error_types():
    for cls in (Unavailable, RateLimited, Rejected, Transient):
        assert issubclass(cls, BackendError)
    e = RateLimited("slow down", retry_after=30.0, backend="replicate")
    assert e.retry_after == 30.0 and e.backend == "replicate" and str(e) == "slow down"
    assert Rejected("no", reason="content_moderation").reason == "content_moderation"
    assert Unavailable("no key", hint="set STABILITY_API_KEY").hint == "set STABILITY_API_KEY"


# ------------------------------------------------------------------- registry
def test_names_lists_builtins_without_importing_them():
    code = textwrap.dedent("""
        import sys
        from comicc.backends import registry
        n = registry.names()
        assert {"draft", "stability", "replicate", "automatic1111", "comfyui", "openai"} <= set(n)
        assert "comicc.backends.draft" not in sys.modules
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_load_and_create_draft():
    from comicc.backends.draft import DraftBackend

    assert registry.load("draft") is DraftBackend
    b = registry.create("draft")
    assert b.name == "draft" and b.capabilities.deterministic


def test_unknown_backend_suggests_a_name():
    with pytest.raises(registry.UnknownBackend) as exc:
        registry.load("drafts")
    assert exc.value.suggestions[0] == "draft" and "did you mean `draft`" in (exc.value.hint or "")


def test_missing_builtin_module_is_unavailable(monkeypatch):
    monkeypatch.setitem(
        registry.BUILTIN, "ghost", registry.BuiltinBackend("comicc.backends.ghost:Ghost", None)
    )
    with pytest.raises(Unavailable) as exc:
        registry.load("ghost")
    assert "not built" in exc.value.message and exc.value.hint


def test_missing_dependency_gives_an_install_hint(tmp_path, monkeypatch):
    (tmp_path / "needs_dep_backend.py").write_text("import comicc_no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(
        registry.BUILTIN,
        "needy",
        registry.BuiltinBackend("needs_dep_backend:Needy", "pip install 'comicc[needy]'"),
    )
    with pytest.raises(Unavailable) as exc:
        registry.load("needy")
    assert "comicc_no_such_dependency_xyz" in exc.value.message
    assert exc.value.hint == "pip install 'comicc[needy]'"


def test_entry_point_backends(tmp_path, monkeypatch):
    (tmp_path / "plugin_backend_mod.py").write_text(
        textwrap.dedent("""
        from comicc.backends.base import Backend, Capabilities, PaintResult
        class Plugin(Backend):
            name = "plugged"
            capabilities = Capabilities(needs_network=False)
            def paint(self, request):
                return PaintResult(image=request.init_image)
    """)
    )
    dist = tmp_path / "plugin_backend-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin-backend\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[comicc.backends]\nplugged = plugin_backend_mod:Plugin\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "plugged" in registry.names()
    assert registry.create("plugged").name == "plugged"


def test_register_at_run_time():
    class Mine(Backend):
        name = "mine"

        def paint(self, request):
            return PaintResult(image=request.init_image)

    registry.register("mine", Mine)
    try:
        assert "mine" in registry.names() and isinstance(registry.create("mine"), Mine)
    finally:
        registry.unregister("mine")
    assert "mine" not in registry.names()
