"""`comicc explain` through the command line: the text a writer reads, the
JSON for tools, repaint reasons after an edit, bad panel names, and the
request images `--images` writes (sizes, the backend's mask polarity)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from comicc import cli

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SCRIPT = """\
title: Explained
dpi: 72
seed: 3
negative: text, watermark
snippet noir: film noir lighting, deep shadows
character MAYA: a lighthouse keeper in a yellow raincoat

PAGE 1

PANEL 1
variants: 2
MAYA climbs the stairs, @noir.
prompt: dutch angle
1. MAYA: The lamp is out.

PANEL 2
The lamp room.
2. CAPTION: Midnight.
"""


@pytest.fixture
def story(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path = tmp_path / "story.comic"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def build(capsys, story: Path) -> None:
    code, _, err = run(capsys, "build", story, "--no-progress")
    assert code == 0, err


def test_text_labels_every_part_with_its_line(capsys, story):
    code, out, _ = run(capsys, "explain", story, "1.1")
    assert code == 0
    assert out.startswith("p1.1  page 1, panel 1, line 10\n")
    assert "  backend   draft (model: its default)\n" in out
    assert "px asked (the panel at 72 dpi) ->" in out
    prompt = next(line for line in out.splitlines() if line.startswith("  prompt"))
    assert "MAYA (a lighthouse keeper in a yellow raincoat) climbs the stairs" in prompt
    assert "film noir lighting, deep shadows" in prompt and "dutch angle" in prompt
    assert "    line 12   description: MAYA climbs the stairs, @noir.\n" in out
    assert "      line 5    snippet @noir: film noir lighting, deep shadows\n" in out
    assert "      line 6    character MAYA: MAYA (a lighthouse keeper" in out
    assert "    line 13   item: dutch angle\n" in out
    assert "  negative  text, watermark\n" in out
    assert "  mask      blank, keep margin 12 px, feather 6 px" in out
    assert "sent as white = paint" in out
    # both variants, their seeds, the one picked, their state and why
    assert "  v1        seed " in out and ", picked: would paint (free)" in out
    assert "  v2        seed " in out
    assert "because not painted yet (no lock file)" in out
    assert "p1.2" not in out.split("plan:")[0]  # only the panel asked for


def test_state_and_repaint_reasons_after_an_edit(capsys, story):
    build(capsys, story)
    code, out, _ = run(capsys, "explain", story)
    assert code == 0
    assert out.count(": cached\n") == 3  # two variants of p1.1, one of p1.2
    assert "plan: draft: 0 to paint, 3 from cache, free" in out
    story.write_text(
        SCRIPT.replace("The lamp room.", "The lamp room, @noir.").replace(
            "prompt: dutch angle", "prompt: low angle"
        ),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "explain", story, "1.2", "1.1")
    assert code == 0
    first, second = out.split("\n\n")[:2]
    assert first.startswith("p1.1")  # reading order, whatever the order asked
    assert "because prompt: added `low angle`" in first
    assert "because prompt: removed `dutch angle`" in first
    assert "because prompt: added `@noir`" in second


def test_json_for_tools(capsys, story):
    build(capsys, story)
    code, out, _ = run(capsys, "explain", story, "1.1", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["version"] == 1 and doc["script"] == str(story)
    (panel,) = doc["panels"]
    assert set(panel) == {
        "id",
        "page",
        "number",
        "line",
        "backend",
        "model",
        "dpi",
        "size",
        "prompt",
        "parts",
        "negative",
        "mask",
        "notes",
        "variants",
    }
    assert (panel["id"], panel["page"], panel["number"], panel["line"]) == ("p1.1", 1, 1, 10)
    kinds = [(p["kind"], p["source"], p["at"]["line"]) for p in panel["parts"]]
    assert kinds == [
        ("description", "MAYA climbs the stairs, @noir.", 12),
        ("snippet", "@noir", 5),
        ("character", "MAYA", 6),
        ("item", "dutch angle", 13),
    ]
    assert panel["parts"][1]["within"] == 0
    assert panel["mask"] == {
        "mode": "blank",
        "keep_margin_px": 12.0,
        "feather_px": 6.0,
        "convention": "white",
    }
    assert [v["state"] for v in panel["variants"]] == ["cached", "cached"]
    assert [v["picked"] for v in panel["variants"]] == [True, False]
    assert [v["name"] for v in panel["variants"]] == ["p1.1-v1", "p1.1-v2"]
    assert doc["plan"]["backends"] == [
        {"backend": "draft", "paint": 0, "cached": 3, "cost": 0.0, "unit": None, "estimate": None}
    ]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("3.1", "there is no page 3: the script has page 1"),
        ("1.7", "page 1 has no panel 7: its panels are 1.1 to 1.2"),
        ("one", "`one` is not a panel: write PAGE.PANEL, e.g. `1.1`"),
    ],
)
def test_a_panel_the_script_does_not_have_is_a_usage_error(capsys, story, ref, message):
    code, out, err = run(capsys, "explain", story, ref)
    assert code == 2 and out == ""
    assert message in err


def test_images_in_the_backend_convention(capsys, story, tmp_path):
    build(capsys, story)
    images = tmp_path / "req"
    code, out, err = run(capsys, "explain", story, "1.1", "--images", images, "--json")
    assert code == 0, err
    names = sorted(p.name for p in images.iterdir())
    assert names == [
        "p1.1-v1-art.jpg",
        "p1.1-v1-init.png",
        "p1.1-v1-mask.png",
        "p1.1-v2-art.jpg",
        "p1.1-v2-init.png",
        "p1.1-v2-mask.png",
    ]
    (panel,) = json.loads(out)["panels"]
    request = tuple(panel["size"]["request"])
    box = tuple(panel["size"]["box"])
    with (
        Image.open(images / "p1.1-v2-mask.png") as mask,
        Image.open(images / "p1.1-v2-init.png") as init,
        Image.open(images / "p1.1-v2-art.jpg") as art,
    ):
        assert mask.size == init.size == request and mask.mode == "L"
        assert art.size == box
        # draft: white = paint; the balloon (white in the init image) is kept (black)
        white = [(x, y) for x in range(0, request[0], 4) for y in range(0, request[1], 4)]
        balloon = [p for p in white if init.getpixel(p) == (255, 255, 255)]
        assert balloon, "the init image shows the balloon as flat white"
        assert all(mask.getpixel(p) == 0 for p in balloon)
        assert mask.getextrema() == (0, 255)  # kept and painted areas both

    # openai takes an alpha mask: transparent = paint (no key needed: nothing is sent)
    alpha = tmp_path / "alpha"
    code, _, err = run(capsys, "explain", story, "1.2", "--backend", "openai", "--images", alpha)
    assert code == 0, err
    assert sorted(p.name for p in alpha.iterdir()) == ["p1.2-v1-init.png", "p1.2-v1-mask.png"]
    with Image.open(alpha / "p1.2-v1-mask.png") as mask:
        assert mask.mode == "RGBA"
        alphas = mask.getchannel("A")
        assert alphas.getextrema() == (0, 255)  # both: painted (0) and kept (255)


def test_images_never_overwrite_the_script(capsys, story):
    (story.parent / "p1.2-v1-init.png").symlink_to(story)
    code, _, err = run(capsys, "explain", story, "1.2", "--images", story.parent)
    assert story.read_text(encoding="utf-8") == SCRIPT
    assert code == 0, err
    assert not (story.parent / "p1.2-v1-init.png").is_symlink()  # replaced, not followed
    code, _, err = run(capsys, "explain", story, "1.2", "--images", story)
    assert code == 1 and "refusing to write" in err
    assert story.read_text(encoding="utf-8") == SCRIPT
