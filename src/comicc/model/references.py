"""A character's reference images and LoRAs: the indented ``ref:`` and
``lora:`` lines under a ``character`` definition, read and checked.

```
character HAMMY: a chubby golden hamster wearing a tiny red scarf
  ref: refs/hammy.png
  lora: hammy-v2:0.8
```

``ref:`` names an image file, relative to the script's folder; it must be in
that folder (or below it, or in an ``--allow-path`` folder), a regular file of
at most :data:`MAX_REFERENCE_BYTES`, and a PNG, JPEG or WebP image Pillow can
decode of at most :data:`~comicc.units.MAX_PAGE_PIXELS`. Its bytes are read
once, here, and travel in the IR with their SHA-256 (the cache key uses the
hash: moving the file repaints nothing, editing it repaints its panels).

``lora:`` is ``name`` or ``name:weight``: the service's name for the LoRA
(letters, digits, ``_ . -``, spaces inside, ``/`` for a subfolder) and a
weight from :data:`LORA_WEIGHT_MIN` to :data:`LORA_WEIGHT_MAX` (default 1).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import warnings
from pathlib import Path

from comicc.diagnostics import Label, Sink, did_you_mean
from comicc.model import ir
from comicc.model.paths import path_within, script_path
from comicc.model.settings import KEYS
from comicc.source import InputRefused, Span, read_capped
from comicc.syntax import ast
from comicc.units import MAX_PAGE_PIXELS

CHARACTER_KEYS = ("ref", "lora")
MAX_REFERENCE_BYTES = 32 * 1024 * 1024  # the largest reference image read (32 MiB)
REFERENCE_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}  # what services take
MAX_PER_CHARACTER = 16  # reference images, and LoRAs, per character
# Automatic1111's <lora:name:weight> takes any number; past +-2 a LoRA mostly
# burns the image, so +-4 catches typos (`8` for `0.8`) and leaves room
LORA_WEIGHT_MIN, LORA_WEIGHT_MAX = -4.0, 4.0
LORA_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_. \-/]*[A-Za-z0-9_.\-])?")


def character_extras(
    node: ast.CharacterDef, src_path: str, allow_paths: tuple[str, ...], sink: Sink
) -> tuple[tuple[ir.ReferenceImage, ...], tuple[ir.LoraRef, ...]]:
    """The reference images and LoRAs of one character definition, each line
    checked (problems reported at the line, the line then left out)."""
    folder = Path(src_path).resolve().parent
    refs: list[ir.ReferenceImage] = []
    loras: list[ir.LoraRef] = []
    seen_refs: dict[str, ast.CharacterAttr] = {}
    seen_loras: dict[str, tuple[ast.CharacterAttr, float]] = {}
    for attr in node.attrs:
        if not isinstance(attr, ast.CharacterAttr):
            continue
        if attr.key not in CHARACTER_KEYS:
            close = did_you_mean(attr.key, CHARACTER_KEYS, n=1, cutoff=0.4)
            if attr.key in KEYS or "." in attr.key:  # a setting, indented by mistake
                hint = f"`{attr.key}:` is a setting: write it at the start of the line"
            elif close:
                hint = f"did you mean `{close[0]}:`?"
            else:
                hint = "a character's indented lines are `ref: image-file` and `lora: name:weight`"
            sink.error(
                "unknown-character-line",
                f"`{attr.key}:` is not something a character has",
                attr.key_span,
                label="not `ref` or `lora`",
                hints=[hint],
            )
            continue
        if not attr.value:
            sink.error(
                "character-line-empty",
                f"`{attr.key}:` needs a value",
                attr.span,
                hints=[
                    "write `ref: refs/hammy.png` (an image file)"
                    if attr.key == "ref"
                    else "write `lora: hammy-v2:0.8` (the LoRA's name and a weight)"
                ],
            )
            continue
        if attr.key == "ref":
            ref = _reference(node.name, attr, folder, allow_paths, sink)
            if ref is None:
                continue
            first = seen_refs.setdefault(ref.sha256, attr)
            if first is not attr:
                sink.warning(
                    "duplicate-reference",
                    f"`{node.name}` has this reference image twice",
                    attr.value_span,
                    label="the same image again",
                    labels=[Label(first.value_span, "first given here")],
                    hints=["delete one of the two lines"],
                )
                continue
            if len(refs) >= MAX_PER_CHARACTER:
                _too_many(node.name, "reference images", attr, sink)
                continue
            refs.append(ref)
        else:
            lora = _lora(node.name, attr, sink)
            if lora is None:
                continue
            prev = seen_loras.get(lora.name)
            if prev is not None:
                same = math.isclose(prev[1], lora.weight)
                (sink.warning if same else sink.error)(
                    "duplicate-lora",
                    f"`{node.name}` has the LoRA `{lora.name}` twice"
                    + ("" if same else f", with weights {prev[1]:g} and {lora.weight:g}"),
                    attr.value_span,
                    label="again here",
                    labels=[Label(prev[0].value_span, "first given here")],
                    hints=["delete one of the two lines"],
                )
                continue
            seen_loras[lora.name] = (attr, lora.weight)
            if len(loras) >= MAX_PER_CHARACTER:
                _too_many(node.name, "LoRAs", attr, sink)
                continue
            loras.append(lora)
    return tuple(refs), tuple(loras)


def _too_many(name: str, what: str, attr: ast.CharacterAttr, sink: Sink) -> None:
    sink.error(
        "too-many-references",
        f"`{name}` has more than {MAX_PER_CHARACTER} {what}",
        attr.span,
        hints=["keep the few that show the character best"],
    )


def _reference(
    character: str,
    attr: ast.CharacterAttr,
    folder: Path,
    allow_paths: tuple[str, ...],
    sink: Sink,
) -> ir.ReferenceImage | None:
    value = attr.value
    span = attr.value_span
    if any(ord(ch) < 32 or ch == "\x7f" for ch in value):
        sink.error(
            "reference-not-found",
            "`ref:` holds a control character: it is not a file name",
            span,
            hints=["write the image's path, e.g. `ref: refs/hammy.png`"],
        )
        return None
    path = script_path(value, folder)
    value = _shown(value)
    if not path_within(path, (folder, *allow_paths)):
        sink.error(
            "path-not-allowed",
            f"`ref:` names `{value}`, outside the script's folder",
            span,
            label="outside the script's folder",
            hints=[
                "a script reads files from its own folder; copy the image there, or run "
                f"comicc with `--allow-path {_parent(path)}`"
            ],
        )
        return None
    try:
        data = read_capped(path, MAX_REFERENCE_BYTES)
    except FileNotFoundError:
        sink.error(
            "reference-not-found",
            f"no such image: `{value}`",
            span,
            label="not found",
            hints=[f"the path is read from the script's folder ({folder})"],
        )
        return None
    except InputRefused as e:
        if e.reason.startswith("is larger"):
            mib = MAX_REFERENCE_BYTES / (1024 * 1024)
            limit = f"{mib:g} MiB" if mib >= 1 else f"{MAX_REFERENCE_BYTES:,} bytes"
            message = f"`{value}` is larger than {limit}, the most a reference image may be"
            hints = ["save a smaller copy (1024 px a side is plenty)"]
        else:
            message = f"`{value}` {e.reason}: a reference image must be an image file"
            hints = ["name a PNG, JPEG or WebP file"]
        sink.error("reference-unreadable", message, span, hints=hints)
        return None
    except OSError as e:
        sink.error(
            "reference-unreadable",
            f"cannot read `{value}`: {e.strerror or e}",
            span,
            hints=["check the file's permissions"],
        )
        return None
    problem = image_problem(data)
    if problem is not None:
        sink.error(
            "reference-not-image",
            f"`{value}` {problem}",
            span,
            hints=["a reference image is a PNG, JPEG or WebP file of the character"],
        )
        return None
    return ir.ReferenceImage(
        character, str(path.resolve()), hashlib.sha256(data).hexdigest(), data, attr.span
    )


def _shown(value: str, most: int = 80) -> str:
    """``value`` for a message: at most ``most`` characters."""
    return value if len(value) <= most else value[: most - 3] + "..."


def _parent(path: Path) -> str:
    try:
        return str(path.resolve().parent)
    except (OSError, RuntimeError):
        return str(path.parent)


def image_problem(data: bytes) -> str | None:
    """Why ``data`` is not a reference image comicc can send (None: it is one):
    Pillow must identify it as PNG, JPEG or WebP, it must have at most
    :data:`~comicc.units.MAX_PAGE_PIXELS` pixels, and it must decode."""
    from PIL import Image, UnidentifiedImageError  # only a script with `ref:` images needs it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: checked below
            with Image.open(io.BytesIO(data)) as im:
                if im.format not in REFERENCE_FORMATS:
                    return f"is a {im.format or 'unknown'} image: comicc sends PNG, JPEG or WebP"
                w, h = im.size
                if w < 1 or h < 1 or w * h > MAX_PAGE_PIXELS:
                    return (
                        f"is {w}x{h} pixels: a reference image has at most "
                        f"{MAX_PAGE_PIXELS // 1_000_000} megapixels"
                    )
                im.load()
    except UnidentifiedImageError:
        return "is not an image (Pillow cannot identify it)"
    except Image.DecompressionBombError:
        mp = MAX_PAGE_PIXELS // 1_000_000
        return f"has too many pixels: a reference image has at most {mp} megapixels"
    except (OSError, ValueError, SyntaxError, MemoryError) as e:
        return f"cannot be decoded: {e}"
    return None


def _lora(character: str, attr: ast.CharacterAttr, sink: Sink) -> ir.LoraRef | None:
    value = attr.value
    name, weight = value, 1.0
    head, sep, tail = value.rpartition(":")
    if "<" in value or ">" in value:  # `<lora:name:0.8>`: the prompt syntax
        name, sep = value, ""
    if sep:
        name = head.strip()
        text = tail.strip()
        try:
            weight = float(text)
        except ValueError:
            weight = math.nan
        if not math.isfinite(weight) or not (LORA_WEIGHT_MIN <= weight <= LORA_WEIGHT_MAX):
            start = attr.value_span.end - len(tail.lstrip())
            sink.error(
                "bad-lora-weight",
                f"the LoRA weight `{_shown(text, 20)}` is not a number from {LORA_WEIGHT_MIN:g} "
                f"to {LORA_WEIGHT_MAX:g}",
                _sub(attr.value_span, start, attr.value_span.end),
                label="a weight such as 0.8",
                hints=[
                    f"write `lora: {_shown(name, 40) or 'name'}:0.8` "
                    "(1 is the LoRA at full strength)"
                ],
            )
            return None
    if not LORA_NAME.fullmatch(name) or any(part == ".." for part in name.split("/")):
        sink.error(
            "bad-lora-name",
            f"`{_shown(name)}` is not a LoRA name",
            _sub(attr.value_span, attr.value_span.start, attr.value_span.start + len(name))
            if name
            else attr.value_span,
            label="letters, digits, `_`, `.`, `-`",
            hints=[
                "write the LoRA's name as the service lists it, without `<lora:...>`, "
                "e.g. `lora: hammy-v2:0.8`"
            ],
        )
        return None
    return ir.LoraRef(character, name, weight, attr.span)


def _sub(span: Span, start: int, end: int) -> Span:
    """The part ``start``..``end`` of the one-line ``span``."""
    start = max(span.start, min(start, span.end))
    end = max(start, min(end, span.end))
    col = span.col + (start - span.start)
    return Span(span.path, start, end, span.line, col, span.line, col + (end - start))
