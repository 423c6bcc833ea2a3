"""Hypothesis strategies that generate valid .comic scripts as text, with
non-canonical whitespace and spelling, for parser/formatter properties."""

from __future__ import annotations

from hypothesis import strategies as st

from comicc.syntax import number_word

NAMES = ["HAMMY", "OFFICER BRUIN", "MR. SMITH", "R2-D2", "O'NEIL", "CAT"]
SNIPPETS = ["ink", "moonlight", "noir_mood", "rain-soaked"]
MODS = [
    "WHISPER",
    "shout",
    "BURST",
    "THOUGHT",
    "electronic",
    "RADIO",
    "OFF",
    "O.S.",
    "SMALL",
    "CONT'D",
    "V.O.",
    "TV",
]
WORDS = [
    "the",
    "cheese",
    "is",
    "mine",
    "tonight",
    "moon",
    "quiet",
    "run",
    "FREEZE!",
    "wait...",
    "déjà",
    "vu",
    "日本",
    "--",
    "*really*",
    "\\*",
    "[[check]]",
    "/* cut */",
    "#7",
    "it's",
]

spaces = st.sampled_from(["", " ", "  ", "\t"])
gap = st.sampled_from(["\n", "\n\n", "\n\n\n", "\n   \n"])


@st.composite
def sentence(draw, min_size=1, max_size=8):
    words = draw(st.lists(st.sampled_from(WORDS), min_size=min_size, max_size=max_size))
    text = " ".join(words)
    # keep emphasis balanced: drop one emphasis pair if the count is odd
    if text.replace("\\*", "").count("*") % 2:
        text = text.replace("*really*", "really", 1)
    return text


@st.composite
def prose(draw):
    start = draw(
        st.sampled_from(["A wide shot of", "Close on", "The kitchen,", "Rain falls on", "Night."])
    )
    who = draw(st.sampled_from(NAMES + ["the city", "@ink"]))
    words = draw(sentence(0, 4)).replace("[[check]]", "").replace("/* cut */", "")
    return f"{start} {who} {words}".rstrip()


@st.composite
def lettering(draw, number):
    cue = draw(st.sampled_from(NAMES + ["CAPTION", "SFX", "NOTE"]))
    mods = draw(st.lists(st.sampled_from(MODS), max_size=2, unique_by=str.upper))
    if cue in ("CAPTION", "SFX", "NOTE"):
        mods = [m for m in mods if m.upper() in ("SMALL",)]
    kinds = {"WHISPER", "SHOUT", "BURST", "THOUGHT", "ELECTRONIC", "RADIO", "V.O.", "TV"}
    if sum(m.upper() in kinds for m in mods) > 1:
        mods = mods[:1]
    num = ""
    if number is not None:
        num = draw(st.sampled_from([f"{number}. ", f"{number} ", f"{number}.  "]))
    modtxt = ""
    if mods:
        modtxt = draw(spaces) + "(" + ", ".join(mods) + ")"
    text = draw(sentence())
    lines = [
        f"{num}{cue}{modtxt}{draw(st.sampled_from(['', ' ']))}:{draw(spaces)}{text}{draw(spaces)}"
    ]
    for _ in range(draw(st.integers(0, 2))):
        lines.append(f"  {draw(spaces)}{draw(sentence())}")
    return "\n".join(lines)


@st.composite
def setting_lines(draw, level, cast_names=()):
    out = []
    if level == "panel" and cast_names and draw(st.booleans()):
        who = draw(st.sampled_from(list(cast_names)))
        pos = draw(st.sampled_from(["left", "right", "top-left", "30% 70%", "center"]))
        out.append(f"cast:{draw(spaces)} {who} {pos}")
    if draw(st.booleans()):
        items = []
        for _ in range(draw(st.integers(1, 3))):
            item = draw(
                st.sampled_from([f"@{s}" for s in SNIPPETS] + ["wide shot", "dutch angle, low"])
            )
            indent = draw(st.sampled_from(["  ", "    ", "\t"]))
            dash = draw(st.sampled_from(["- ", "# - ", "-  "]))
            items.append(f"{indent}{dash}{item}")
        out.append("prompt:" + "\n" + "\n".join(items))
    if draw(st.booleans()):
        out.append(f"negative: {draw(st.sampled_from(['blurry', 'text, letters', '@ink']))}")
    if level == "panel" and draw(st.booleans()):
        out.append(f"seed: {draw(st.integers(0, 99999))}")
    return out


@st.composite
def trivia(draw):
    return draw(
        st.sampled_from(
            [
                "# a comment",
                "[[ editor: check this ]]",
                "/* cut line */",
                "/* cut\n   over two lines */",
                "#",
            ]
        )
    )


@st.composite
def scripts(draw):
    parts = [f"title: {draw(st.sampled_from(['Hello', 'The Heist', 'Nuit blanche']))}"]
    if draw(st.booleans()):
        parts.append(f"seed:{draw(spaces)}{draw(st.integers(0, 10**6))}")
    defined = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=3))
    for name in defined:
        parts.append(f"character {name}: {draw(sentence())}".rstrip())
    for name in SNIPPETS:
        parts.append(
            f"snippet {name}: {draw(st.sampled_from(['clean inks', 'blue light', 'rain, neon']))}"
        )
    if draw(st.booleans()):
        parts.append("style: @ink")
    out = [draw(gap).join(parts)]
    for page in range(1, draw(st.integers(1, 3)) + 1):
        kw = draw(st.sampled_from(["PAGE", "Page", "page"]))
        num = draw(st.sampled_from([str(page), number_word(page), number_word(page).lower()]))
        note = draw(st.sampled_from(["", " (splash)", "(three panels)"]))
        block = [f"{kw} {num}{draw(spaces)}{note}"]
        n_panels = draw(st.integers(1, 3))
        if draw(st.booleans()):
            block.append(f"layout: {'/'.join(['1'] * n_panels)}")
        numbering = draw(st.booleans())
        counter = 0
        for panel in range(1, n_panels + 1):
            pkw = draw(st.sampled_from(["PANEL", "Panel"]))
            pblock = [f"{pkw} {draw(st.sampled_from([str(panel), number_word(panel)]))}"]
            pblock += draw(setting_lines("panel", tuple(defined)))
            pblock.append(draw(prose()))
            for _ in range(draw(st.integers(0, 3))):
                counter += 1
                pblock.append(draw(lettering(counter if numbering else None)))
            if draw(st.booleans()):
                pblock.insert(draw(st.integers(1, len(pblock))), draw(trivia()))
            block.append("\n".join(pblock))
        out.append(draw(st.sampled_from(["\n", "\n\n"])).join(block))
    return draw(st.sampled_from(["\n", "\n\n", "\n\n\n"])).join(out) + draw(
        st.sampled_from(["", "\n", "\n\n"])
    )
