"""Fuzzing the command line, the inputs: seed corpora (the shipped examples,
the diagnostics cases, the shipped themes, a lock file) and hypothesis
strategies that mutate scripts and lock files. Themes are mutated in
`support.fuzz_themes`; `support.sandbox` runs a case and checks its promises.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

from support import DATA, ROOT

SCRIPT_SEEDS: list[str] = [
    p.read_text(encoding="utf-8")
    for p in sorted((ROOT / "examples").glob("*.comic"))
    + sorted((DATA / "diagnostics").glob("*.comic"))
]
THEME_SEEDS: dict[str, str] = {
    p.stem: p.read_text(encoding="utf-8") for p in sorted((ROOT / "themes").glob("*.toml"))
}
HEIST = (ROOT / "examples" / "heist.comic").read_text(encoding="utf-8")
HEIST_LOCK = (ROOT / "examples" / "heist.comic.lock").read_text(encoding="utf-8")


# ------------------------------------------------------------------ scripts

SPECIAL_CHARS = (
    "\x00\x01\x07\x08\x0b\x0c\x1b\x1c\x1f\x7f\x85\xa0\xad"
    "\u0300\u200b\u200d\u200e\u202e\u2028\u2029\u2066\ufeff\ufffd\uffff"
    "\U0001f600\U0001f9d1\u200d\U0001f680\u0627\u0928\u0e01\u65e5\t\r"
)
HUGE_NUMBERS = (
    """0 -1 999999999999999999999999999999 1e308 1e999 -1e308 nan inf
0.0000000000000001 4294967296 18446744073709551616""".split()
    + ["1" + "0" * 400]
)
# Lines a writer (or a stranger) could put anywhere: settings at their
# extremes, paths out of the folder, headings with odd numbers.
INTERESTING_LINES = (
    """\
PAGE 999999999999999999999
PAGE 0
PAGES 1-100000
PANEL 999999999
PANEL 0
PANEL 1
PAGE 2
layout: 99999
layout: 1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1
layout: 2/2 heights 0 0
layout: 1 heights 1e308
variants: 99999999
variants: 16
pick: 999999
dpi: 1200
dpi: 100000000
dpi: 1e308
seed: 99999999999999999999999999999999999
seed: -1
width: 1e308in
width: 99999999999in
width: 0mm
bleed: 1e9in
format: 99999999x99999999in
format: 0x0mm
format: 1x1mm
format: 1e308x1e308pt
format: webtoon
format: 1x99999in
theme: ../outside/victim.txt
theme: /dev/zero
theme: /proc/self/environ
theme: /etc/passwd
theme: /
theme: .
theme: story.comic
theme: ../../../../../../../../etc/hostname
theme: manga
theme: noir
reading: rtl
backend: stability
backend: openai
backend: automatic1111
automatic1111.url: http://127.0.0.1:9
stability.cfg_scale: 1e308
mask: keep-margin 1e308px, feather 99999999px
mask: feather -1px
cast: HAMMY 1e308% 1e308%
cast: HAMMY -99999% 0%
style: @ink @ink @ink
snippet ink: @ink @ink
99999999999999999999. HAMMY: hi
title: </Title><script>&amp;&#0;]]>
author: \x00\x01 <&>""".splitlines()
    + [
        "layout: " + "/".join(["9"] * 40),
        "prompt!: " + "@ink " * 50,
        "character " + "A" * 300 + ": x",
        "1. HAMMY: " + "*a* " * 300,
        "1. HAMMY (" + "SMALL, " * 100 + "SMALL): hi",
        "1. SFX: " + "BOOM" * 200,
        "1. CAPTION: " + "word " * 600,
        "1. TITLE: " + "\U0001f600" * 300,
        "  - " + "@moonlight " * 30,
        "language: " + "x" * 500,
    ]
)


def mutate_lines(draw: st.DrawFn, lines: list[str]) -> list[str]:
    """One line-level mutation."""
    if not lines:
        lines = [""]
    n = len(lines)
    i = draw(st.integers(0, n - 1))
    op = draw(
        st.sampled_from(
            [
                "delete",
                "duplicate",
                "swap",
                "insert_text",
                "insert_line",
                "number",
                "long_word",
                "nest",
                "tabs",
                "cut_line",
            ]
        )
    )
    if op == "delete":
        del lines[i : i + draw(st.integers(1, 5))]
    elif op == "duplicate":
        k = draw(st.integers(1, 5)) if draw(st.booleans()) else draw(st.integers(6, 150))
        lines[i:i] = lines[i : i + draw(st.integers(1, 8))] * k
    elif op == "swap":
        j = draw(st.integers(0, n - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "insert_text":
        text = draw(st.text(st.sampled_from(SPECIAL_CHARS) | st.characters(), max_size=20))
        col = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:col] + text + lines[i][col:]
    elif op == "insert_line":
        lines.insert(i, draw(st.sampled_from(INTERESTING_LINES)))
    elif op == "number":
        line = lines[i]
        digits = [k for k, c in enumerate(line) if c.isdigit()]
        big = draw(st.sampled_from(HUGE_NUMBERS))
        if digits:
            k = digits[draw(st.integers(0, len(digits) - 1))]
            lines[i] = line[:k] + big + line[k + 1 :]
        else:
            lines[i] = line + " " + big
    elif op == "long_word":
        unit = draw(st.sampled_from(["A", "w", "\U0001f600", "\u0928\u093f", "-", "\u65e5"]))
        word = unit * draw(st.integers(100, 30_000))
        col = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:col] + word + lines[i][col:]
    elif op == "nest":
        unit = draw(st.sampled_from(["[[", "/*", "*/", "]]", "(", "*", "{{", "\\", "@", "["]))
        col = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:col] + unit * draw(st.integers(2, 5_000)) + lines[i][col:]
    elif op == "tabs":
        lines[i] = "\t" + lines[i].replace("  ", "\t")
    else:  # cut_line
        lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return lines


def mutate_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """One byte-level mutation: line ends, BOM, truncation, bad UTF-8."""
    op = draw(st.sampled_from(["none", "crlf", "cr", "bom", "bom_inside", "truncate", "bad_utf8"]))
    if op == "crlf":
        return data.replace(b"\n", b"\r\n")
    if op == "cr":
        return data.replace(b"\n", b"\r")
    if op == "bom":
        return b"\xef\xbb\xbf" + data
    at = draw(st.integers(0, len(data)))
    if op == "bom_inside":
        return data[:at] + b"\xef\xbb\xbf" + data[at:]
    if op == "truncate":
        return data[:at]  # may split a UTF-8 sequence
    if op == "bad_utf8":
        junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xfe\xff", b"\x80"]))
        return data[:at] + junk + data[at:]
    return data


@st.composite
def scripts(draw: st.DrawFn, seeds: list[str] | None = None) -> bytes:
    """A seed script with one to four line mutations and one byte mutation."""
    text = draw(st.sampled_from(seeds or SCRIPT_SEEDS))
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        lines = mutate_lines(draw, lines)
    return mutate_bytes(draw, "\n".join(lines).encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------- lock files


def _reshape(draw: st.DrawFn, node: object, depth: int = 0) -> object:
    """Replace one node of a JSON document with a value of a wrong shape."""
    if isinstance(node, dict) and node and depth < 6 and draw(st.integers(0, 2)):
        key = draw(st.sampled_from(sorted(node)))
        return {**node, key: _reshape(draw, node[key], depth + 1)}
    if isinstance(node, list) and node and depth < 6 and draw(st.integers(0, 2)):
        i = draw(st.integers(0, len(node) - 1))
        return node[:i] + [_reshape(draw, node[i], depth + 1)] + node[i + 1 :]
    return draw(
        st.sampled_from(
            [
                None,
                True,
                0,
                -1,
                10**30,
                1e308,
                "x",
                "",
                "../../outside/victim.txt",
                "0" * 64,
                [],
                {},
                [1, 2],
                [None, "x", 1e308, -1e308],
                {"x": None},
                {"p1.1.b1": [1e308, -1e308, 0, 0]},
                {"p1.1.b1": "x"},
                ["p1.1"],
            ]
        )
    )


@st.composite
def lock_files(draw: st.DrawFn) -> bytes:
    """The heist lock file with a wrong shape somewhere, truncated, nested
    deeply, or not JSON at all."""
    op = draw(st.sampled_from(["reshape", "reshape", "reshape", "truncate", "deep", "bytes"]))
    if op == "truncate":
        return HEIST_LOCK.encode()[: draw(st.integers(0, len(HEIST_LOCK)))]
    if op == "deep":
        depth = draw(st.integers(100, 200_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        inner = opener * depth + "1" + closer * depth
        where = draw(st.sampled_from(["top", "panels", "entry", "balloons"]))
        if where == "top":
            return inner.encode()
        doc = json.loads(HEIST_LOCK)
        if where == "panels":
            doc["panels"] = "@DEEP@"
        elif where == "entry":
            doc["panels"]["p1.1"] = "@DEEP@"
        else:
            doc["panels"]["p1.1"]["balloons"]["p1.1.b1"] = "@DEEP@"
        return json.dumps(doc).replace('"@DEEP@"', inner).encode()
    if op == "bytes":
        return mutate_bytes(draw, HEIST_LOCK.encode())
    doc = json.loads(HEIST_LOCK)
    for _ in range(draw(st.integers(1, 3))):
        doc = _reshape(draw, doc)
    return json.dumps(doc).encode()
