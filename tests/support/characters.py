"""A script with two characters who have reference images and LoRAs, for the
consistent-character tests: which panel shows whom, and which colour each
character's reference image is (so a test can tell, from the pixels a fake
server received, whose image reached which request)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

HAMMY_COLOR = (230, 180, 40)
BRUIN_COLOR = (110, 60, 20)
COLORS = {"HAMMY": HAMMY_COLOR, "OFFICER BRUIN": BRUIN_COLOR}

# panel -> the characters it shows; its description starts with its marker
SHOWS = {
    "p1.1": ("HAMMY",),  # named in the description
    "p1.2": ("OFFICER BRUIN",),  # placed with `cast:` only
    "p1.3": ("HAMMY", "OFFICER BRUIN"),
    "p1.4": (),
}
MARKERS = {
    "p1.1": "Alpha shot",
    "p1.2": "Beta shot",
    "p1.3": "Gamma shot",
    "p1.4": "Delta shot",
}

SCRIPT = """title: Two friends
backend: {backend}
{extra}
character HAMMY: a chubby golden hamster wearing a tiny red scarf
  ref: refs/hammy.png
  lora: hammy-v2:0.8
character OFFICER BRUIN: a huge brown bear in a night-watchman uniform
  ref: refs/bruin.png
  lora: bruin-xl:0.6

PAGE 1
layout: 2/2

PANEL 1
Alpha shot. HAMMY peers over the counter.

PANEL 2
cast: OFFICER BRUIN right
Beta shot. A dark doorway.
1. OFFICER BRUIN: Who's there?

PANEL 3
Gamma shot. HAMMY and OFFICER BRUIN face off across the kitchen.

PANEL 4
Delta shot. An empty kitchen at night.
"""


def write_reference(
    path: Path, color: tuple[int, int, int], size: tuple[int, int] = (96, 128)
) -> None:
    """A solid ``color`` PNG at ``path`` (a character's reference image)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, "PNG")


def two_characters(folder: Path, backend: str = "draft", *extra: str) -> Path:
    """The two-character script in ``folder`` with its reference images; the
    header sets ``backend`` and the ``extra`` lines."""
    write_reference(folder / "refs" / "hammy.png", HAMMY_COLOR)
    write_reference(folder / "refs" / "bruin.png", BRUIN_COLOR)
    path = folder / "friends.comic"
    path.write_text(SCRIPT.format(backend=backend, extra="\n".join(extra)), encoding="utf-8")
    return path


def panel_of(prompt: str) -> str:
    """The panel id whose marker the prompt contains."""
    found = [pid for pid, marker in MARKERS.items() if marker in prompt]
    assert len(found) == 1, prompt
    return found[0]


def whose(image: Image.Image) -> str:
    """The character whose reference colour ``image`` is (its centre pixel)."""
    px = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert isinstance(px, tuple)
    for name, color in COLORS.items():
        if all(abs(a - b) <= 6 for a, b in zip(px, color, strict=True)):
            return name
    raise AssertionError(f"an image of no character's colour: {px}")
