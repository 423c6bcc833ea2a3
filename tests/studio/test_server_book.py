"""The studio's book on a real server: the pages and their panel boxes, a
save that bumps the version and changes only the changed page's image, a
broken script that keeps the last good pages and shows its diagnostics, the
event stream, and the edits the inspector makes (one line each)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import requests
from PIL import Image

from support.studio import RunningStudio, studio_server

SCRIPT = """\
title: Two Pages
seed: 5
dpi: 72
snippet noir: film noir lighting, deep shadows

PAGE 1

PANEL 1
A lighthouse on a cliff at night.
1. CAPTION: The storm came early.

PANEL 2
The keeper climbs the stairs.
prompt:
  - @noir
  - dutch angle
variants: 2
2. KEEPER: Not again.

PAGE 2

PANEL 1
The lamp room, glass everywhere.
1. KEEPER: Who turned it off?
"""


def changed_lines(before: str, after: str) -> list[tuple[int, str, str]]:
    """(line, old, new) of every line that differs; the line count must not change."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new)
    return [(i + 1, a, b) for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]


def images(book: dict) -> dict[int, str]:
    return {p["number"]: p["image"] for p in book["pages"]}


@pytest.fixture
def running(tmp_path) -> Iterator[RunningStudio]:
    with studio_server(tmp_path, SCRIPT) as s:
        yield s


def test_the_book_lists_its_pages_and_panels(running):
    book = running.wait_version(1)
    assert book["title"] == "Two Pages" and book["script"] == "story.comic"
    assert book["status"]["ok"] and book["diagnostics"] == []
    assert book["status"]["pending_paint"] is None  # the draft backend is free: painted
    first, second = book["pages"]
    assert [p["ref"] for p in first["panels"]] == ["1.1", "1.2"]
    assert [p["ref"] for p in second["panels"]] == ["2.1"]
    for box in (p["box"] for page in book["pages"] for p in page["panels"]):
        x, y, w, h = box
        assert 0 <= x < x + w <= 1 and 0 <= y < y + h <= 1
    r = running.get(first["image"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    png = Image.open(io.BytesIO(r.content))
    assert png.size == (first["width"], first["height"])
    assert 500 < png.width < 1000  # screen resolution (100 dpi), not the print's


def test_a_save_changes_only_that_pages_image(running):
    book = running.wait_version(1)
    text = running.script.read_text(encoding="utf-8")
    # saved unchanged: the first build wrote the lock file, whose balloon sizes
    # the next layout keeps; from then on only a changed page is laid out again
    running.script.write_text(text, "utf-8")
    book = running.wait_version(book["version"] + 1)
    before = images(book)
    running.script.write_text(text.replace("Who turned it off?", "Who did this?"), "utf-8")
    book = running.wait_version(book["version"] + 1)
    after = images(book)
    assert after[1] == before[1]
    assert after[2] != before[2]
    assert book["status"]["changed_pages"] == [2]
    reasons = book["status"]["reasons"]
    assert "story.comic changed" in reasons
    assert "laid out again: page 2" in reasons


def test_a_new_prompt_says_which_panel_repaints_and_why(running):
    book = running.wait_version(1)
    text = running.script.read_text(encoding="utf-8")
    running.script.write_text(text.replace("A lighthouse on", "A red lighthouse on"), "utf-8")
    book = running.wait_version(book["version"] + 1)
    painted = [r for r in book["status"]["reasons"] if " painted: " in r]
    assert painted and all(r.startswith("p1.1 v1 painted: ") for r in painted), painted
    assert "description" in painted[0] or "prompt" in painted[0]
    assert book["status"]["changed_pages"] == [1]


def test_a_broken_script_keeps_the_last_good_pages(running):
    book = running.wait_version(1)
    good = images(book)
    text = running.script.read_text(encoding="utf-8")
    running.script.write_text(text.replace("  - @noir", "  - @nior"), "utf-8")
    book = running.wait_version(book["version"] + 1)
    assert not book["status"]["ok"]
    assert images(book) == good
    (diag,) = [d for d in book["diagnostics"] if d["severity"] == "error"]
    assert diag["line"] == 15 and diag["source_line"] == "  - @nior"
    assert diag["caret"].strip().startswith("^")
    assert "noir" in diag["hint"] or "noir" in diag["message"]
    assert "15 |   - @nior" in diag["rendered"] and "\x1b[" not in diag["rendered"]
    assert running.get(book["pages"][0]["image"]).status_code == 200
    # fixed again: good pages, no diagnostics
    running.script.write_text(text, "utf-8")
    book = running.wait_version(book["version"] + 1)
    assert book["status"]["ok"] and book["diagnostics"] == []


def test_the_event_stream_tells_of_each_rebuild(running):
    book = running.wait_version(1)
    with requests.get(running.url + "api/events", stream=True, timeout=60) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = r.iter_lines(decode_unicode=True)

        kinds: list[str] = []

        def next_event() -> dict:
            kind = None
            for line in lines:
                if line.startswith("event: "):
                    kind = line[7:]
                    kinds.append(kind)
                elif line.startswith("data: ") and kind == "book":
                    doc: dict = json.loads(line[6:])
                    return doc
            raise AssertionError("the stream ended")

        assert next_event()["version"] == book["version"]
        text = running.script.read_text(encoding="utf-8")
        running.script.write_text(text.replace("Not again.", "Not again!"), "utf-8")
        event = next_event()
        assert event == {"version": book["version"] + 1, "changed_pages": [1]}
        assert kinds[-2:] == ["building", "book"]  # the page can say "rebuilding" meanwhile


def test_the_inspector_reads_a_panel(running):
    running.wait_version(1)
    doc = running.get("/api/panel/1.2").json()
    assert doc["ref"] == "1.2"
    explain = doc["explain"]
    assert "film noir lighting" in explain["prompt"] and "dutch angle" in explain["prompt"]
    assert {p["source"] for p in explain["parts"] if p["kind"] == "item"} >= {"dutch angle"}
    assert [t["label"] for t in doc["toggles"]] == ["@noir", "dutch angle"]
    assert all(t["enabled"] for t in doc["toggles"])
    assert [v["n"] for v in doc["variants"]] == [1, 2]
    assert [v["picked"] for v in doc["variants"]] == [True, False]
    assert all(v["cached"] for v in doc["variants"])
    for v in doc["variants"]:
        assert running.get(v["image"]).content[:4] == b"\x89PNG"
    assert doc["history"] and any(h["current"] for h in doc["history"])
    for h in doc["history"]:
        assert running.get(h["image"]).status_code == 200
    assert running.get(doc["mask"]).status_code == 200


def test_a_toggle_edits_exactly_one_line(running):
    running.wait_version(1)
    before = running.script.read_text(encoding="utf-8")
    doc = running.get("/api/panel/1.2").json()
    noir = next(t for t in doc["toggles"] if t["label"] == "@noir")
    r = running.post("api/toggle", {"line": noir["line"], "enabled": False})
    assert r.status_code == 200, r.text
    after = running.script.read_text(encoding="utf-8")
    ((line, old, new),) = changed_lines(before, after)
    assert line == noir["line"] == r.json()["line"]
    assert old == "  - @noir\n" and new.lstrip().startswith("#") and "@noir" in new
    assert r.json()["text"] == new.rstrip("\n")
    # the watcher rebuilds: the prompt has no noir lighting now
    book = running.wait_version(2)
    assert book["status"]["ok"]
    explain = running.get("/api/panel/1.2").json()["explain"]
    assert "film noir" not in explain["prompt"]
    # and on again: the file is as it was, byte for byte
    r = running.post("api/toggle", {"line": noir["line"], "enabled": True})
    assert r.status_code == 200 and running.script.read_text(encoding="utf-8") == before


def test_a_toggle_of_a_line_that_moved_is_refused(running):
    """The page sends the label it shows: when the script changed under it
    (another editor inserted a line), the switch is refused, not applied to
    whatever now sits on that line."""
    running.wait_version(1)
    doc = running.get("/api/panel/1.2").json()
    noir, dutch = doc["toggles"][0], doc["toggles"][1]
    before = running.script.read_bytes()
    r = running.post("api/toggle", {"line": dutch["line"], "enabled": False, "label": "@noir"})
    assert r.status_code == 409 and "reload" in r.json()["error"]
    assert running.script.read_bytes() == before
    r = running.post("api/toggle", {"line": noir["line"], "enabled": False, "label": "@noir"})
    assert r.status_code == 200, r.text


def test_a_line_that_is_no_toggle_is_refused(running):
    running.wait_version(1)
    before = running.script.read_bytes()
    r = running.post("api/toggle", {"line": 1, "enabled": False})
    assert r.status_code == 400 and r.json()["error"]
    assert running.script.read_bytes() == before


def test_pick_writes_one_line(running):
    running.wait_version(1)
    before = running.script.read_text(encoding="utf-8")
    r = running.post("api/pick", {"panel": "1.2", "variant": 2})
    assert r.status_code == 200, r.text
    after = running.script.read_text(encoding="utf-8")
    added = [b for a, b in zip(before.splitlines(), after.splitlines(), strict=False) if a != b]
    assert len(after.splitlines()) - len(before.splitlines()) in (0, 1)
    assert "pick: 2" in after and after.count("pick:") == 1
    assert len([x for x in after.splitlines() if x not in before.splitlines()]) == 1, added
    assert running.post("api/pick", {"panel": "1.2", "variant": 3}).status_code == 400
    assert running.post("api/pick", {"panel": "7.1", "variant": 1}).status_code == 404


def test_an_edit_after_a_save_elsewhere_is_refused(running):
    running.wait_version(1)
    doc = running.get("/api/panel/1.2").json()
    assert doc["toggles"]
    # the edit reads the file as it is when asked: a concurrent save is detected by
    # write_script (409); a toggle of a line that is no longer a toggle is a 400
    text = running.script.read_text(encoding="utf-8")
    running.script.write_text(text.replace("  - dutch angle\n", ""), "utf-8")
    line = next(t["line"] for t in doc["toggles"] if t["label"] == "dutch angle")
    r = running.post("api/toggle", {"line": line, "enabled": False})
    assert r.status_code in (400, 409)


def test_page_images_are_named_by_their_content(running):
    book = running.wait_version(1)
    image = book["pages"][0]["image"]
    assert "immutable" in running.get(image).headers["Cache-Control"]
    stale = running.get(image.split("?")[0] + "?v=0000")
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == "no-cache"


def test_no_paint_shows_placeholders_and_the_plan(tmp_path):
    with studio_server(tmp_path, SCRIPT, paint=False) as s:
        book = s.wait_version(1)
        pending = book["status"]["pending_paint"]
        assert pending["panels"] == ["1.1", "1.2", "2.1"] and pending["images"] == 4
        assert pending["currency"] == "free"
        assert not (tmp_path / "cache" / "art").exists() or not any(
            (tmp_path / "cache" / "art").rglob("*.jpg")
        )
        page = Image.open(io.BytesIO(s.get(book["pages"][1]["image"]).content)).convert("RGB")
        x, y, w, h = book["pages"][1]["panels"][0]["box"]
        grey = page.getpixel(
            (round((x + w * 0.1) * page.width), round((y + h * 0.95) * page.height))
        )
        assert isinstance(grey, tuple)
        assert max(grey) - min(grey) < 12 and 190 < grey[0] < 240  # the grey placeholder
        # a confirmed paint paints them (free: the draft backend)
        assert s.post("api/paint", {"confirm": True}).status_code == 200
        book = s.wait_version(book["version"] + 1)
        assert book["status"]["pending_paint"] is None


def test_history_keeps_the_art_of_earlier_prompts_and_their_difference(running):
    running.wait_version(1)
    doc = running.get("/api/panel/1.2").json()
    first = {h["key"] for h in doc["history"]}
    noir = next(t for t in doc["toggles"] if t["label"] == "@noir")
    assert running.post("api/toggle", {"line": noir["line"], "enabled": False}).ok
    running.wait_version(2)
    doc = running.get("/api/panel/1.2").json()
    now = [h for h in doc["history"] if h["current"]]
    old = [h for h in doc["history"] if h["key"] in first]
    assert now and old and not any(h["current"] for h in old)
    for h in doc["history"]:
        assert running.get(h["image"]).content[:4] == b"\x89PNG"
    a, b = old[0]["key"], now[0]["key"]
    diff = running.get(f"/api/history/diff?panel=1.2&a={a}&b={b}").json()["diff"]
    assert ["-", "film noir lighting"] in diff or any(
        sign == "-" and "film noir" in text for sign, text in diff
    )
    # keys of another panel, or none, are refused
    other = running.get("/api/panel/1.1").json()["history"][0]["key"]
    assert running.get(f"/api/history/diff?panel=1.2&a={other}&b={b}").status_code == 404
    assert running.get("/api/history/diff?panel=1.2&a=..&b=x").status_code == 404


def test_a_lock_file_that_cannot_be_written_is_a_warning(tmp_path):
    (tmp_path / "story.comic.lock").mkdir()  # in the way: a folder
    with studio_server(tmp_path, SCRIPT) as s:
        book = s.wait_version(1)
        assert book["status"]["ok"] and len(book["pages"]) == 2
        codes = {d["code"] for d in book["diagnostics"]}
        assert "lock-not-written" in codes
        assert all(d["severity"] == "warning" for d in book["diagnostics"])


def test_a_saved_theme_file_rebuilds_the_book(tmp_path):
    theme = 'name = "mine"\nextends = "classic"\n'
    script = SCRIPT.replace("dpi: 72", "dpi: 72\ntheme: mine.toml")
    with studio_server(tmp_path, script, files={"mine.toml": theme}) as s:
        book = s.wait_version(1)
        before = images(book)
        (tmp_path / "mine.toml").write_text(theme + '\n[page]\ncolor = "#fff8e0"\n', "utf-8")
        book = s.wait_version(book["version"] + 1)
        assert "mine.toml changed" in book["status"]["reasons"]
        assert images(book)[1] != before[1] and images(book)[2] != before[2]
        page = Image.open(io.BytesIO(s.get(book["pages"][0]["image"]).content)).convert("RGB")
        assert page.getpixel((2, 2)) == (255, 248, 224)  # the new page colour
