"""The intermediate representation: what a script *means*.

Plain frozen dataclasses, no Lark types, every setting resolved (inheritance
from header to page to panel already applied) and every panel's image prompt
assembled. Everything after the language stage (layout, render, backends,
output) reads only this module's types, never the AST.

Units: lengths that the writer gave stay a :class:`Length` (value + unit);
converting ``px`` needs the panel's dpi, which the render stage knows.
Positions in the panel (cast) are fractions of the panel box, (0, 0) top-left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from comicc.source import Span, span_field
from comicc.units import to_points


@dataclass(frozen=True)
class Length:
    """A length as the writer gave it; ``px`` is a device pixel at the panel's dpi."""

    value: float
    unit: str  # "px" | "pt" | "mm" | "cm" | "in"

    def to_pt(self, dpi: float = 300) -> float:
        if self.unit == "px":
            return self.value * 72.0 / dpi
        return to_points(self.value, self.unit)

    def to_px(self, dpi: float) -> float:
        return self.to_pt(dpi) * dpi / 72.0

    def __str__(self) -> str:
        v = int(self.value) if float(self.value).is_integer() else self.value
        return f"{v}{self.unit}"


class BalloonKind(StrEnum):
    """The kinds of lettering item, with everything that depends on the kind.

    Each member is ``(value, body, tail, aliases)``: ``body`` is the outline
    family (``"oval"``: a balloon with a tail, ``"box"``: caption and note,
    ``"bare"``: display lettering without an outline), ``tail`` the tail style
    of an oval (``"wedge"``, ``"bubbles"`` or ``"bolt"``; ``None`` for the
    others) and ``aliases`` the other names :meth:`parse` accepts.
    """

    _value_: str
    body: Literal["oval", "box", "bare"]
    tail: Literal["wedge", "bubbles", "bolt"] | None
    aliases: tuple[str, ...]

    def __new__(
        cls,
        value: str,
        body: Literal["oval", "box", "bare"],
        tail: Literal["wedge", "bubbles", "bolt"] | None,
        aliases: tuple[str, ...] = (),
    ) -> BalloonKind:
        if (body == "oval") != (tail is not None):
            raise ValueError(f"balloon kind {value!r}: exactly the ovals have a tail")
        member = str.__new__(cls, value)
        member._value_ = value
        member.body, member.tail, member.aliases = body, tail, aliases
        return member

    SPEECH = ("speech", "oval", "wedge", ("off", "off-panel"))
    THOUGHT = ("thought", "oval", "bubbles")
    WHISPER = ("whisper", "oval", "wedge")
    SHOUT = ("shout", "oval", "wedge", ("burst",))  # jagged outline, bold text
    ELECTRONIC = ("electronic", "oval", "bolt", ("radio", "phone", "tv"))  # zigzag rim
    CAPTION = ("caption", "box", None)  # CAPTION cue, or a character's (CAPTION)/(V.O.)
    SFX = ("sfx", "bare", None)  # no balloon: display lettering on the art
    NOTE = ("note", "box", None)  # editorial box ("*See issue #3")
    TITLE = ("title", "bare", None)  # display lettering

    @property
    def has_tail(self) -> bool:
        """Whether balloons of this kind point at their speaker (the ovals)."""
        return self.tail is not None

    @classmethod
    def parse(cls, name: str) -> BalloonKind:
        """``"Speech"`` / ``"burst"`` / ``BalloonKind.SHOUT`` -> the member. Raises ValueError."""
        key = (name.value if isinstance(name, BalloonKind) else str(name)).strip().lower()
        for kind in cls:
            if key == kind.value or key in kind.aliases:
                return kind
        raise ValueError(f"unknown balloon kind {name!r}")


@dataclass(frozen=True)
class TextRun:
    text: str
    emphasis: bool = False  # letterers' bold italic


@dataclass(frozen=True)
class Balloon:
    """One lettering item (balloon, caption, SFX, note or title)."""

    id: str  # "p1.2.b3": page 1, panel 2, 3rd lettering item of the page
    index: int  # 1-based position among the lettering items of the page
    number: int | None  # the letterer's number as written, if any
    cue: str  # as written, upper case: "HAMMY", "CAPTION", "SFX"
    speaker: str | None  # character name; None for CAPTION/SFX/NOTE/TITLE cues
    kind: BalloonKind
    mods: tuple[str, ...]  # canonical MOD names, e.g. ("WHISPER", "OFF")
    off_panel: bool  # OFF / OP / O.S.: tail to the panel edge
    small: bool  # SMALL / WEAK: smaller type
    contd: bool  # CONT'D: joined to the previous balloon of this speaker
    linked_next: bool  # text ended with "--": carried over into the next balloon
    runs: tuple[TextRun, ...]
    span: Span = span_field()

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class CastPosition:
    name: str
    x: float  # 0..1 from the panel's left edge
    y: float  # 0..1 from the panel's top edge
    explicit: bool = True  # False: placed by the language stage in reading order
    span: Span | None = span_field()


@dataclass(frozen=True)
class MaskSpec:
    keep_margin: Length = Length(12, "px")
    feather: Length = Length(6, "px")
    balloons: str = "blank"  # "blank" | "lettered" | "none"


PROMPT_SOURCES = ("description", "item", "prompt!", "style", "snippet", "character")


@dataclass(frozen=True)
class PromptPart:
    """Where one piece of a panel's prompt came from (``comicc explain``).

    ``kind`` is one of :data:`PROMPT_SOURCES`: a piece the writer wrote in the
    panel (its ``description``, a ``prompt:`` ``item``, a ``prompt!`` item, a
    ``style`` item) or an expansion inside one (a ``snippet`` or a
    ``character``; ``within`` is then the index of the piece it expanded in,
    or None for a character added because of ``cast:``). ``source`` is the
    text as written (``@noir``, ``MAYA``), ``text`` what it became, ``span``
    where it is written: the piece's line, the snippet's or character's
    definition."""

    kind: str
    source: str
    text: str
    name: str | None = None  # the snippet's or character's name
    within: int | None = None
    span: Span | None = span_field()


@dataclass(frozen=True)
class Prompt:
    text: str  # the positive prompt sent to the backend
    negative: str  # the negative prompt ("" for none)
    parts: tuple[str, ...] = ()  # the expanded pieces it was assembled from, in order
    # the labelled breakdown of the prompt, pieces and expansions (PromptPart)
    sources: tuple[PromptPart, ...] = ()


@dataclass(frozen=True)
class RenderSettings:
    """Settings that change pixels; inherited header -> page -> panel."""

    backend: str = "draft"
    model: str | None = None
    seed: int = 0
    variants: int = 1
    pick: int = 1
    dpi: int = 300
    mask: MaskSpec = MaskSpec()
    # dotted backend settings, e.g. (("stability.style_preset", "comic-book"),), sorted
    backend_settings: tuple[tuple[str, str], ...] = ()
    # where `backend:`, `model:` and each dotted setting in force was written
    # (key -> span), so backend configuration errors point at their line
    spans: tuple[tuple[str, Span], ...] = field(default=(), compare=False, repr=False)

    def span_of(self, key: str) -> Span | None:
        return dict(self.spans).get(key)

    def settings_for(self, backend: str | None = None) -> dict[str, str]:
        """The dotted settings of ``backend`` (default: this panel's), prefix removed."""
        name = backend or self.backend
        return {
            k.split(".", 1)[1]: v for k, v in self.backend_settings if k.split(".", 1)[0] == name
        }


@dataclass(frozen=True)
class Panel:
    id: str  # "p1.2"
    page: int  # number of the page (first number of a spread)
    number: int  # 1-based panel number on the page
    note: str | None  # free note of the PANEL heading, e.g. "wide"
    description: str  # the writer's prose, notes and boneyard removed
    prompt: Prompt
    cast: tuple[CastPosition, ...]  # where each character stands (explicit or placed)
    balloons: tuple[Balloon, ...]
    width: float = 1.0  # share of its tier (`width: 2` doubles it)
    bleed: frozenset[str] = frozenset()  # page edges the art may run to: top/bottom/left/right
    settings: RenderSettings = RenderSettings()
    span: Span | None = span_field()
    # consistent characters: the defined characters the panel shows (named in
    # its prompt or placed with `cast:`, definition order) and their
    # reference images and LoRAs, which its paint request carries
    characters: tuple[str, ...] = ()
    references: tuple[ReferenceImage, ...] = ()
    loras: tuple[LoraRef, ...] = ()

    @property
    def speakers(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for balloon in self.balloons:
            if balloon.speaker and balloon.kind is not BalloonKind.CAPTION:
                seen.setdefault(balloon.speaker)
        return tuple(seen)


@dataclass(frozen=True)
class LayoutSpec:
    """A page's `layout:`: tiers top to bottom, each with its panel count."""

    tiers: tuple[int, ...]
    heights: tuple[float, ...] | None = None  # relative tier heights, same length as tiers
    preset: str | None = None  # the preset name it came from, if any
    span: Span | None = span_field()

    @property
    def panel_count(self) -> int:
        return sum(self.tiers)


@dataclass(frozen=True)
class Page:
    number: int  # first page number (4 for PAGES 4-5)
    numbers: tuple[int, ...]  # (4,) or (4, 5) for a spread
    note: str | None
    layout: LayoutSpec | None  # None: the layout engine picks one from the panel count
    panels: tuple[Panel, ...]
    span: Span | None = span_field()


@dataclass(frozen=True)
class ReferenceImage:
    """A character's reference image (``ref:``), read and checked when the
    script was: ``data`` is the file's bytes, ``sha256`` their hash (the cache
    key uses the hash, never the path)."""

    character: str
    path: str  # absolute, for messages only
    sha256: str
    data: bytes = field(default=b"", compare=False, repr=False)
    span: Span | None = span_field()  # the `ref:` line


@dataclass(frozen=True)
class LoraRef:
    """A character's LoRA (``lora: name:weight``): the service's name and a weight."""

    character: str
    name: str
    weight: float = 1.0
    span: Span | None = span_field()  # the `lora:` line


@dataclass(frozen=True)
class Character:
    name: str
    description: str
    span: Span | None = span_field()
    references: tuple[ReferenceImage, ...] = ()
    loras: tuple[LoraRef, ...] = ()


@dataclass(frozen=True)
class Snippet:
    name: str
    text: str
    span: Span | None = span_field()


@dataclass(frozen=True)
class Metadata:
    title: str | None = None
    author: str | None = None
    series: str | None = None
    issue: str | None = None
    language: str = "en"


@dataclass(frozen=True)
class Budget:
    """The header's ``budget:``: the most one build may cost, in the cost unit of
    the backend that paints (credits, USD...)."""

    amount: float
    span: Span | None = span_field()


@dataclass(frozen=True)
class Script:
    path: str
    meta: Metadata
    theme: str  # theme name, or an absolute path to a theme file
    page_format: str  # page format name or a size like "6.625x10.25in"
    reading: str  # "ltr" | "rtl"
    characters: tuple[Character, ...]
    snippets: tuple[Snippet, ...]
    pages: tuple[Page, ...]
    settings: RenderSettings = RenderSettings()  # book-level (header) settings
    budget: Budget | None = None  # `budget:`; None: no limit

    @property
    def panels(self) -> tuple[Panel, ...]:
        return tuple(p for page in self.pages for p in page.panels)
