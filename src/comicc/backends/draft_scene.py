"""The draft backend's reading of a prompt: its palette (mood) and scenery.

The words of the prompt, minus those of the negative prompt, pick a mood
(``night``, ``sunny``, ...: sky, ground and accent colours) and a scenery
(``city``, ``forest``, ...); unknown words nudge the hue through a hash, so
every prompt reads the same way every time. :mod:`comicc.backends.draft`
draws what a :class:`Scene` says.
"""

from __future__ import annotations

import colorsys
import hashlib
import re

# mood: keywords, sky top, sky at the horizon, ground, accent (sun/moon/windows); HSL
MOODS: dict[str, tuple[str, tuple, tuple, tuple, tuple]] = {
    "night": (
        "night moon moonlight moonlit midnight dark stars starry noir nocturnal",
        (226, 0.42, 0.17),
        (214, 0.34, 0.38),
        (228, 0.20, 0.21),
        (48, 0.85, 0.82),
    ),
    "sunset": (
        "sunset dusk dawn sunrise evening twilight golden",
        (268, 0.32, 0.42),
        (24, 0.85, 0.70),
        (14, 0.28, 0.30),
        (36, 0.95, 0.68),
    ),
    "storm": (
        "rain rainy storm stormy thunder fog foggy mist misty gloomy grey gray overcast",
        (214, 0.12, 0.42),
        (210, 0.10, 0.68),
        (210, 0.08, 0.34),
        (205, 0.30, 0.86),
    ),
    "snow": (
        "snow snowy winter ice icy frozen arctic cold blizzard",
        (205, 0.32, 0.78),
        (200, 0.25, 0.93),
        (205, 0.22, 0.88),
        (200, 0.40, 0.97),
    ),
    "fire": (
        "fire flames lava explosion burning inferno volcano hell",
        (6, 0.55, 0.22),
        (28, 0.90, 0.55),
        (10, 0.38, 0.18),
        (46, 1.0, 0.60),
    ),
    "space": (
        "space galaxy planet spaceship asteroid cosmos nebula",
        (255, 0.50, 0.09),
        (236, 0.45, 0.25),
        (240, 0.08, 0.36),
        (200, 0.20, 0.90),
    ),
    "day": (
        "sun sunny noon bright summer day daylight beach desert morning sunlit cheerful",
        (205, 0.55, 0.70),
        (44, 0.60, 0.87),
        (38, 0.36, 0.64),
        (48, 0.95, 0.64),
    ),
}
SCENERIES: dict[str, str] = {
    "city": "city street streets alley building buildings rooftop rooftops urban downtown "
    "skyline town village skyscraper",
    "trees": "forest jungle woods tree trees garden park grass meadow",
    "waves": "ocean sea water harbor harbour river lake boat ship waves shore coast",
    "room": "room kitchen office bar library interior inside house lab hallway diner bedroom "
    "cafe shop classroom",
    "peaks": "mountain mountains peak peaks cliff cliffs canyon valley volcano",
}
# ground tint a scenery pulls toward (HSL), so "forest" is green whatever the light
SCENERY_GROUND = {
    "trees": (105, 0.35, 0.34),
    "waves": (196, 0.50, 0.38),
    "room": (28, 0.30, 0.46),
    "city": (220, 0.08, 0.42),
}


def rgb(hsl: tuple[float, float, float]) -> tuple[int, int, int]:
    hue, sat, light = hsl
    r, g, b = colorsys.hls_to_rgb((hue % 360) / 360, max(0, min(1, light)), max(0, min(1, sat)))
    return (round(r * 255), round(g * 255), round(b * 255))


def mix(a: tuple[float, ...], b: tuple[float, ...], t: float) -> tuple[int, int, int]:
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a[:3], b[:3], strict=True))
    return (r, g, bl)


def text_hash(text: str) -> int:
    """A stable 64-bit hash of ``text`` (no per-process salt, unlike ``hash``)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


class Scene:
    """Palette + scenery choice for one prompt."""

    def __init__(self, prompt: str, negative: str):
        neg = set(re.findall(r"[a-z]+", negative.lower()))
        words = [w for w in re.findall(r"[a-z]+", prompt.lower()) if w not in neg]
        wset = set(words)
        score = {m: len(wset & set(v[0].split())) for m, v in MOODS.items()}
        mood = max(score, key=lambda m: score[m]) if max(score.values()) else None
        sscore = {s: len(wset & set(k.split())) for s, k in SCENERIES.items()}
        self.scenery = (
            max(sscore, key=lambda s: sscore[s])
            if max(sscore.values())
            else ("hills", "city", "trees", "peaks")[text_hash(" ".join(sorted(wset))) % 4]
        )
        shift = (text_hash(" ".join(sorted(wset))) % 41) - 20  # unknown words nudge the hue
        if mood:
            _, top, low, ground, accent = MOODS[mood]
        else:
            base = 200 + shift
            top, low, ground, accent = (
                (base, 0.35, 0.74),
                (base + 160, 0.35, 0.88),
                (base + 190, 0.22, 0.60),
                (45, 0.8, 0.70),
            )
        top, low = (top[0] + shift / 4, *top[1:]), (low[0] + shift / 4, *low[1:])
        self.mood = mood or "plain"
        self.sky_top, self.sky_low = rgb(top), rgb(low)
        g = rgb(ground)
        if self.scenery in SCENERY_GROUND:
            g = mix(g, rgb(SCENERY_GROUND[self.scenery]), 0.45 if mood else 0.7)
        self.ground_top, self.ground_low = mix(g, self.sky_low, 0.25), mix(g, (20, 20, 28), 0.25)
        self.accent = rgb(accent)
        self.window = self.sky_low
        self.window_rect: tuple[float, float, float, float] | None = None
        if self.scenery == "room":  # walls instead of sky, tinted by the light
            self.sky_top = mix((196, 178, 150), self.sky_top, 0.3)
            self.sky_low = mix((226, 212, 186), self.sky_low, 0.25)
        self.dark = sum(self.sky_low) / 3 < 120
        self.far = mix(self.sky_low, self.ground_top, 0.45)  # distant shapes
        self.near = mix(self.ground_top, (25, 25, 35), 0.35)  # near shapes
        self.ink = (222, 226, 238) if self.dark else (52, 50, 58)  # pencil
        self.figure = mix(self.ground_low, (18, 18, 26), 0.55)
