"""Characters' reference images and LoRAs in the IR: which panels carry whose,
what is read (the file's bytes and their hash) and each check's diagnostic."""

from __future__ import annotations

import hashlib
import random
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from comicc.diagnostics import Sink
from comicc.model import references
from comicc.pipeline import check, check_source
from comicc.source import SourceFile
from support.characters import BRUIN_COLOR, SHOWS, two_characters, write_reference


def _check(path: Path, allow: tuple[str, ...] = ()):
    sink = Sink()
    res = check(path, sink, allow_paths=allow)
    return res.script if res is not None else None, sink


def test_each_panel_carries_the_characters_it_shows(tmp_path):
    path = two_characters(tmp_path)
    script, sink = _check(path)
    assert script is not None, [d.message for d in sink.errors]
    got = {p.id: p.characters for p in script.panels}
    assert got == SHOWS
    for panel in script.panels:
        assert tuple(r.character for r in panel.references) == SHOWS[panel.id]
        assert tuple(lo.character for lo in panel.loras) == SHOWS[panel.id]
    hammy = next(c for c in script.characters if c.name == "HAMMY")
    data = (tmp_path / "refs" / "hammy.png").read_bytes()
    (ref,) = hammy.references
    assert ref.data == data and ref.sha256 == hashlib.sha256(data).hexdigest()
    assert Path(ref.path) == (tmp_path / "refs" / "hammy.png").resolve()
    assert ref.span is not None and ref.span.line == 5
    assert [(lo.name, lo.weight) for lo in hammy.loras] == [("hammy-v2", 0.8)]


def test_a_character_only_in_a_replaced_description_is_not_sent(tmp_path):
    path = two_characters(tmp_path)
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "Delta shot. An empty kitchen at night.\n",
        "Delta shot. HAMMY is not in the prompt here.\nprompt!: Delta shot, an empty kitchen\n",
    )
    text = text.replace(
        "Alpha shot. HAMMY peers over the counter.\n",
        "Alpha shot. A counter.\nprompt!: Alpha shot, OFFICER BRUIN close-up\n",
    )
    path.write_text(text, encoding="utf-8")
    script, sink = _check(path)
    assert script is not None, [d.message for d in sink.errors]
    panels = {p.id: p for p in script.panels}
    assert panels["p1.4"].characters == () and panels["p1.4"].references == ()
    assert panels["p1.1"].characters == ("OFFICER BRUIN",)


def test_a_lora_without_weight_is_at_full_strength(tmp_path):
    path = two_characters(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace("lora: bruin-xl:0.6", "lora: styles/bruin xl"),
        encoding="utf-8",
    )
    script, sink = _check(path)
    assert script is not None, [d.message for d in sink.errors]
    bruin = next(c for c in script.characters if c.name == "OFFICER BRUIN")
    assert [(lo.name, lo.weight) for lo in bruin.loras] == [("styles/bruin xl", 1.0)]


def test_allow_path_lets_a_reference_outside_the_folder_in(tmp_path):
    shared = tmp_path / "shared"
    write_reference(shared / "bruin.png", BRUIN_COLOR)
    book = tmp_path / "book"
    path = two_characters(book)
    path.write_text(
        path.read_text(encoding="utf-8").replace("refs/bruin.png", "../shared/bruin.png"),
        encoding="utf-8",
    )
    script, sink = _check(path)
    assert script is None
    (err,) = sink.errors
    assert err.code == "path-not-allowed" and err.span is not None and err.span.line == 8
    assert any("--allow-path" in h for h in err.hints)
    script, sink = _check(path, allow=(str(shared),))
    assert script is not None and not sink.errors


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    write_reference(outside / "secret.png", BRUIN_COLOR)
    book = tmp_path / "book"
    path = two_characters(book)
    (book / "refs" / "bruin.png").unlink()
    (book / "refs" / "bruin.png").symlink_to(outside / "secret.png")
    script, sink = _check(path)
    assert script is None and [d.code for d in sink.errors] == ["path-not-allowed"]


def _png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels."""
    import io

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = bytes(data[12:16]) + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr))
    return bytes(data)


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"GIF89a" + b"\0" * 30, "reference-not-image", "is not an image"),
        ("gif", "reference-not-image", "comicc sends PNG, JPEG or WebP"),
        (_png_claiming(20_000, 20_000), "reference-not-image", "megapixels"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "reference-not-image", ""),
        ("dir", "reference-unreadable", "not a file"),
        ("big", "reference-unreadable", "larger than 2,000 bytes"),
    ],
)
def test_bad_reference_files_are_reported_at_the_line(tmp_path, monkeypatch, content, code, words):
    path = two_characters(tmp_path)
    target = tmp_path / "refs" / "hammy.png"
    target.unlink()
    if content == "gif":
        Image.new("RGB", (8, 8), "gold").save(target, "GIF")
    elif content == "dir":
        target.mkdir()
    elif content == "big":
        Image.frombytes("RGB", (64, 64), random.Random(0).randbytes(64 * 64 * 3)).save(target)
        monkeypatch.setattr(references, "MAX_REFERENCE_BYTES", 2000)
    else:
        assert isinstance(content, bytes)
        target.write_bytes(content)
    script, sink = _check(path)
    assert script is None
    assert len(sink.errors) == 1, [(d.code, d.message) for d in sink.errors]
    (err,) = sink.errors
    assert err.code == code, err.message
    assert words in err.message
    assert err.span is not None and (err.span.line, err.span.col) == (5, 8)


def test_a_duplicate_reference_is_a_warning_and_sent_once(tmp_path):
    path = two_characters(tmp_path)
    write_reference(tmp_path / "refs" / "copy.png", (230, 180, 40))
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "  ref: refs/hammy.png\n", "  ref: refs/hammy.png\n  ref: refs/copy.png\n"
        ),
        encoding="utf-8",
    )
    script, sink = _check(path)
    assert script is not None
    assert [(d.code, d.span.line if d.span else 0) for d in sink.warnings] == [
        ("duplicate-reference", 6)
    ]
    hammy = next(c for c in script.characters if c.name == "HAMMY")
    assert len(hammy.references) == 1


def test_references_outside_the_header_are_reported_with_the_definition(tmp_path):
    path = two_characters(tmp_path)
    text = path.read_text(encoding="utf-8")
    text = text.replace("PANEL 4\n", "PANEL 4\ncharacter CAT: a cat\n  ref: refs/hammy.png\n", 1)
    path.write_text(text, encoding="utf-8")
    _, sink = _check(path)
    assert "definition-outside-header" in [d.code for d in sink.errors]


_line_value = st.text(max_size=40).map(lambda t: t.replace("\n", " ").replace("\r", " "))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ref", "lora"]), _line_value), max_size=4))
def test_any_character_line_gives_diagnostics_never_a_crash(lines):
    body = "".join(f"  {key}: {value}\n" for key, value in lines)
    text = f"title: T\ncharacter HAMMY: a hamster\n{body}\nPAGE 1\n\nPANEL 1\nHAMMY looks.\n"
    sink = Sink()
    check_source(SourceFile.from_text(text, "fuzz-refs.comic"), sink)  # must not raise
    for d in sink.diagnostics:
        assert d.span is None or d.span.line >= 1
