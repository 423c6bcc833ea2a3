"""Lettering metrics: what a letterer would reject, measured from ``comicc layout --json``.

    .venv/bin/python bench/lettering_metrics.py [FILES...] [--show] [--json]

Without files it measures ``examples/*.comic``, ``docs/samples/*.comic`` and
``bench/scenes/*.comic``. Every script is laid out by the real CLI
(``comicc layout --json --format short``); the geometry is read back from the
JSON, outlines flattened and intersected with shapely. ``--show`` lists every
offending item (file, balloon id, what is wrong).

Definitions (issue 11):

* crossing: a tail's shape intersects another balloon's body, tail or text by
  more than 0.3 pt² (its own balloon excluded);
* order break: a pair of balloons (captions and titles included, SFX and notes
  not) breaking Comic Chat's rule: a later balloon's top may be level with an
  earlier balloon's top only if the earlier one lies entirely to its left
  (right for rtl); otherwise it starts below the earlier one's bottom;
* overlap: two bodies (display lettering: its text box) intersecting by more
  than 0.3 pt²;
* covered face: a body over a cast point inside the panel, or over more than
  25 % of its face box. The face box is the head the draft backend draws at a
  cast point: r = 0.064 × the panel's shorter side, the box is 2r wide and runs
  from 1.1 r above the point to 1.05 r below it (``layout.items.face_box``);
* misattributed: a tail whose tip is nearer another speaker's cast point
  than its own speaker's;
* unjoined run: two consecutive balloons of one speaker and one kind in a
  panel, both drawn with a tail;
* one-word last line: the last line of a balloon or caption of 4 words or
  more holds one word;
* gutter break: a body (display lettering: its text, turned as drawn) reaching
  past its panel's border; a bad one leaves the page's live area or enters
  another panel (more than 0.3 pt²).
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from shapely.affinity import rotate
from shapely.geometry import Point as SPoint
from shapely.geometry import Polygon, box
from shapely.ops import unary_union

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
COMICC = os.path.join(ROOT, ".venv", "bin", "comicc")
FACE_SCALE = 0.064  # head radius / the panel's shorter side (the draft backend's largest head)
MIN_AREA = 0.3  # pt²
LONG_TAIL = 0.45  # ``--tails`` lists tails longer than this fraction of the panel height
SIDE_TAIL = 60.0  # ... and those farther than this from vertical (degrees)
WEAK_END = {"A", "AN", "THE", "OF", "TO"}
ORDER_EXEMPT = {"sfx", "note"}
TOKEN = re.compile(r"[MLCZ]|-?\d+(?:\.\d+)?")


def _cubic(p0, p1, p2, p3, n=10):
    out = []
    for i in range(1, n + 1):
        t = i / n
        u = 1 - t
        a, b, c, d = u**3, 3 * u * u * t, 3 * u * t * t, t**3
        out.append(
            (
                a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
            )
        )
    return out


def svg_polys(d: str | None) -> list[list[tuple[float, float]]]:
    """The subpaths of SVG path data (as ``VectorPath.to_svg`` writes it) as point lists."""
    if not d:
        return []
    toks = TOKEN.findall(d)
    polys: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    i = 0
    while i < len(toks):
        op = toks[i]
        i += 1
        if op == "M":
            if len(cur) > 2:
                polys.append(cur)
            cur = [(float(toks[i]), float(toks[i + 1]))]
            i += 2
        elif op == "L":
            cur.append((float(toks[i]), float(toks[i + 1])))
            i += 2
        elif op == "C":
            v = [float(t) for t in toks[i : i + 6]]
            i += 6
            last = cur[-1] if cur else (v[4], v[5])
            cur += _cubic(last, (v[0], v[1]), (v[2], v[3]), (v[4], v[5]))
        elif op == "Z":
            if len(cur) > 2:
                polys.append(cur)
            cur = []
    if len(cur) > 2:
        polys.append(cur)
    return polys


def shape_of(d: str | None):
    polys = [Polygon(p).buffer(0) for p in svg_polys(d)]
    polys = [p for p in polys if not p.is_empty]
    return unary_union(polys) if polys else None


@dataclass
class Item:
    file: str
    page: int
    panel: str
    prect: tuple[float, float, float, float]
    data: dict[str, Any]
    body: Any = None
    tail: Any = None
    text: Any = None

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def kind(self) -> str:
        return self.data["kind"]

    @property
    def rect(self) -> tuple[float, float, float, float]:
        x, y, w, h = self.data["rect"]
        return x, y, x + w, y + h


def text_shape(b: dict[str, Any]):
    boxes = []
    for ln in b["lines"]:
        for r in ln["runs"]:
            size = r["font"]["size"]
            if r["width"] <= 0 or not r["text"].strip():
                continue
            boxes.append(
                box(
                    r["x"],
                    r["baseline"] - 0.7 * size,
                    r["x"] + r["width"],
                    r["baseline"] + 0.2 * size,
                )
            )
    return unary_union(boxes) if boxes else None


def face_box(prect: list[float], pt: tuple[float, float]):
    """The face box of a cast point (see the module docstring)."""
    r = FACE_SCALE * min(prect[2], prect[3])
    x, y = pt
    return box(x - r, y - 1.1 * r, x + r, y + 1.05 * r), r


def _order_ok(e, r, reading) -> bool:
    ex1, ey1, ex2, ey2 = e
    rx1, ry1, rx2, ry2 = r
    if ry1 >= ey2 - 0.01:
        return True
    left = ex2 <= rx1 + 0.01 if reading != "rtl" else ex1 >= rx2 - 0.01
    return left and ry1 >= ey1 - 0.01


@dataclass
class Tally:
    items: int = 0
    crossings: int = 0
    order_breaks: int = 0
    overlaps: int = 0
    covered_faces: int = 0
    misattributed: int = 0
    runs: int = 0
    unjoined: int = 0
    widow_base: int = 0
    widows: int = 0
    weak_ends: int = 0
    lines: int = 0
    overflow: int = 0
    overflow_diags: int = 0
    upper_third: int = 0
    upper_base: int = 0
    min_size: float = 99.0
    tail_len: list[float] = field(default_factory=list)
    tail_ang: list[float] = field(default_factory=list)
    padding: list[float] = field(default_factory=list)
    words_per_line: list[float] = field(default_factory=list)
    tip_far: int = 0  # tips farther than one head height from the mouth, or inside the head
    tails: int = 0
    gutter_breaks: int = 0  # bodies reaching past their panel's border (into the gutter)
    bad_breaks: int = 0  # ... off the page's live area or into another panel
    sfx: int = 0
    sfx_turned: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # long or side tails (``--tails``)

    def add(self, other: Tally) -> None:
        for k, v in vars(other).items():
            if k == "min_size":
                self.min_size = min(self.min_size, v)
            elif isinstance(v, list):
                getattr(self, k).extend(v)
            else:
                setattr(self, k, getattr(self, k) + v)


def measure_file(path: str, comicc: list[str]) -> Tally:
    proc = subprocess.run(
        [*comicc, "layout", "--json", "--format", "short", "--color", "never", path],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if not proc.stdout.strip():
        raise SystemExit(f"{path}: comicc layout failed:\n{proc.stderr}")
    book = json.loads(proc.stdout)
    t = Tally()
    t.overflow_diags = sum("text-overflow" in ln for ln in proc.stderr.splitlines())
    name = os.path.relpath(path, ROOT)
    reading = book["reading"]
    for pg in book["pages"]:
        for pn in pg["panels"]:
            measure_panel(t, name, pg, pn, reading)
    return t


def measure_panel(t: Tally, name: str, pg: dict, pn: dict, reading: str) -> None:
    prect = pn["rect"]
    px, py, pw, ph = prect
    items = []
    for b in pn["balloons"]:
        it = Item(name, pg["numbers"][0], pn["id"], tuple(prect), b)
        it.text = text_shape(b)
        if b.get("angle") and it.text is not None:  # turned display lettering (SFX)
            x1, y1, x2, y2 = it.rect
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            # y points down: a turn counter-clockwise on the page is clockwise here
            it.text = rotate(it.text, -b["angle"], origin=(cx, cy))
        if b["kind"] in ("sfx", "title"):
            it.body = it.text if it.text is not None else box(*it.rect)
        else:
            it.body = shape_of(b["body"])
        it.tail = shape_of(b["tail"])
        items.append(it)
    t.items += len(items)
    for it in items:
        if it.data["overflow"] > 0:
            t.overflow += 1
            t.problems.append(f"{name} {pn['id']}: overflow: {it.id} {it.data['overflow']} pt")
    every = list(items)
    # a balloon left out of its panel is drawn as a small marker without lettering: it is
    # counted as overflow above and takes no part in the checks below
    items = [it for it in items if not (it.data["overflow"] > 0 and not it.data["lines"])]
    cast = {c["name"]: (c["x"], c["y"]) for c in pn["cast"]}
    inside = {n: p for n, p in cast.items() if px <= p[0] <= px + pw and py <= p[1] <= py + ph}
    faces = {n: face_box(prect, p) for n, p in inside.items()}
    # breaking the border: how often, and never off the live area or into another panel
    live = box(
        pg["live"][0], pg["live"][1], pg["live"][0] + pg["live"][2], pg["live"][1] + pg["live"][3]
    )
    own = box(px - 0.01, py - 0.01, px + pw + 0.01, py + ph + 0.01)
    others = [
        box(o["rect"][0], o["rect"][1], o["rect"][0] + o["rect"][2], o["rect"][1] + o["rect"][3])
        for o in pg["panels"]
        if o is not pn
    ]
    for it in items:
        if it.kind == "sfx":
            t.sfx += 1
            t.sfx_turned += bool(it.data.get("angle"))
        if it.body is None or own.contains(it.body):
            continue
        t.gutter_breaks += 1
        t.notes.append(f"{name} {pn['id']}: gutter break: {it.id}")
        if not live.buffer(0.01).contains(it.body) or any(
            it.body.intersection(o).area > MIN_AREA for o in others
        ):
            t.bad_breaks += 1
            t.problems.append(f"{name} {pn['id']}: break: {it.id} off the live area or in a panel")

    def flag(kind: str, msg: str) -> None:
        t.problems.append(f"{name} {pn['id']}: {kind}: {msg}")

    for it in items:
        for ln in it.data["lines"]:
            for r in ln["runs"]:
                t.min_size = min(t.min_size, r["font"]["size"])
    # crossings
    for a in items:
        if a.tail is None:
            continue
        for b in items:
            if b is a:
                continue
            for what, shp in (("body", b.body), ("tail", b.tail), ("text", b.text)):
                if shp is None:
                    continue
                if a.tail.intersection(shp).area > MIN_AREA:
                    t.crossings += 1
                    flag("crossing", f"tail of {a.id} x {what} of {b.id}")
                    break
    # overlaps
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if a.body is not None and b.body is not None:
                if a.body.intersection(b.body).area > MIN_AREA:
                    t.overlaps += 1
                    flag("overlap", f"{a.id} x {b.id}")
    # reading order
    ordered = [it for it in items if it.kind not in ORDER_EXEMPT]
    for i, e in enumerate(ordered):
        for r in ordered[i + 1 :]:
            if not _order_ok(e.rect, r.rect, reading):
                t.order_breaks += 1
                flag("order", f"{r.id} reads before {e.id}")
    # faces
    for it in items:
        if it.body is None:
            continue
        for n, (fb, _r) in faces.items():
            covered = it.body.intersection(fb).area / fb.area
            if it.body.contains(SPoint(inside[n])) or covered > 0.25:
                t.covered_faces += 1
                flag("face", f"{it.id} covers {n} ({covered:.0%})")
    # tails: attribution, length, angle, reach
    for it in items:
        if it.tail is None:
            continue
        t.tails += 1
        spk = it.data["speaker"]
        body_c = ((it.rect[0] + it.rect[2]) / 2, (it.rect[1] + it.rect[3]) / 2)
        pts = [p for poly in svg_polys(it.data["tail"]) for p in poly]
        tip = max(pts, key=lambda p: math.dist(p, body_c))
        base = min(pts, key=lambda p: math.dist(p, body_c))
        length = it.body.exterior.distance(SPoint(tip)) if hasattr(it.body, "exterior") else 0.0
        t.tail_len.append(length / ph)
        dx, dy = tip[0] - base[0], tip[1] - base[1]
        t.tail_ang.append(math.degrees(math.atan2(abs(dx), abs(dy) + 1e-9)))
        if length / ph > LONG_TAIL or t.tail_ang[-1] > SIDE_TAIL:
            t.notes.append(
                f"{name} {pn['id']}: tail: {it.id} length {length / ph:.2f} × panel height,"
                f" {t.tail_ang[-1]:.0f}° from vertical"
            )
        if spk in cast:
            own = math.dist(tip, cast[spk])
            others = [math.dist(tip, p) for n, p in cast.items() if n != spk]
            if others and min(others) < own - 1e-6:
                t.misattributed += 1
                flag("misattributed", f"{it.id} ({spk}) tip nearer another speaker")
            if spk in faces:
                fb, r = faces[spk]
                mouth = (cast[spk][0], cast[spk][1] + 0.5 * r)
                far = math.dist(tip, mouth) > 2.15 * r + 2.0
                into = fb.contains(SPoint(tip)) or it.tail.intersection(fb).area > 4 * MIN_AREA
                if far or into:
                    t.tip_far += 1
                    flag(
                        "tip",
                        f"{it.id} tip {'inside the head' if into else 'short of the mouth'}"
                        f" ({math.dist(tip, mouth) / (2.15 * r):.1f} head heights)",
                    )
    # unjoined same-speaker runs (in the panel's own order, left-out balloons included)
    for a, b in zip(every, every[1:], strict=False):
        if a.kind == b.kind and a.data["speaker"] and a.data["speaker"] == b.data["speaker"]:
            if a.kind in ("caption", "sfx", "note", "title"):
                continue
            t.runs += 1
            if a.tail is not None and b.tail is not None:
                t.unjoined += 1
                flag("unjoined", f"{a.id} + {b.id}")
    # text shape
    for it in items:
        if it.kind in ("sfx", "title", "note"):
            continue
        lines = [ln["text"].split() for ln in it.data["lines"]]
        nwords = sum(len(x) for x in lines)
        if lines:
            t.lines += len(lines)
            t.words_per_line += [len(x) for x in lines]
            t.weak_ends += sum(1 for x in lines[:-1] if x and x[-1].strip(",.!?") in WEAK_END)
        if nwords >= 4:
            t.widow_base += 1
            if len(lines) >= 2 and len(lines[-1]) == 1:
                t.widows += 1
                flag("widow", f"{it.id} ends on {lines[-1][0]!r}")
        if it.text is not None and it.body is not None and hasattr(it.body, "exterior"):
            t.padding.append(it.body.exterior.distance(it.text))
    for it in items:
        if it.kind in ("speech", "thought", "whisper", "shout", "electronic"):
            t.upper_base += 1
            if (it.rect[1] + it.rect[3]) / 2 < py + ph / 3:
                t.upper_third += 1


def _q(vals: list[float], q: float) -> float:
    if not vals:
        return 0.0
    s = sorted(vals)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]


def summary(t: Tally) -> dict[str, Any]:
    pct = lambda a, b: round(100 * a / b, 1) if b else 0.0  # noqa: E731
    return {
        "items": t.items,
        "crossings": t.crossings,
        "order_breaks": t.order_breaks,
        "overlaps": t.overlaps,
        "covered_faces": t.covered_faces,
        "misattributed": t.misattributed,
        "unjoined_runs": f"{t.unjoined} of {t.runs}",
        "one_word_last_lines_pct": pct(t.widows, t.widow_base),
        "lines_ending_a_an_the_of_to": t.weak_ends,
        "overflow": f"{t.overflow} ({pct(t.overflow, t.items)} %), {t.overflow_diags} diagnostics",
        "tips_off_the_mouth": f"{t.tip_far} of {t.tails}",
        "words_per_line_median": round(statistics.median(t.words_per_line), 2)
        if t.words_per_line
        else 0,
        "words_per_line_mean": round(statistics.fmean(t.words_per_line), 2)
        if t.words_per_line
        else 0,
        "tail_len_over_panel_h": [round(_q(t.tail_len, q), 3) for q in (0.5, 0.9, 1.0)],
        "tail_angle_deg": [round(_q(t.tail_ang, q), 1) for q in (0.5, 0.9, 1.0)],
        "padding_pt_min_median": [
            round(min(t.padding), 2) if t.padding else 0,
            round(_q(t.padding, 0.5), 2),
        ],
        "upper_third_pct": pct(t.upper_third, t.upper_base),
        "smallest_type_pt": round(t.min_size, 2),
        "gutter_breaks": f"{t.gutter_breaks}, {t.bad_breaks} off the live area or into a panel",
        "sfx_turned": f"{t.sfx_turned} of {t.sfx}",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--show", action="store_true", help="list every offending item")
    ap.add_argument(
        "--tails",
        action="store_true",
        help=f"list long tails (> {LONG_TAIL} × panel height), side tails (> {SIDE_TAIL}°) "
        "and balloons breaking their panel's border",
    )
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument(
        "--comicc",
        default=COMICC,
        help="the command to run (e.g. 'env PYTHONPATH=OLD/src .venv/bin/python -m comicc' "
        "to measure another checkout)",
    )
    args = ap.parse_args(argv)
    files = args.files or sorted(
        glob.glob(os.path.join(ROOT, "examples", "*.comic"))
        + glob.glob(os.path.join(ROOT, "docs", "samples", "*.comic"))
        + glob.glob(os.path.join(ROOT, "bench", "scenes", "*.comic"))
    )
    total = Tally()
    per: dict[str, dict[str, Any]] = {}
    for f in files:
        t = measure_file(f, shlex.split(args.comicc))
        per[os.path.relpath(f, ROOT)] = summary(t)
        total.add(t)
    out = summary(total)
    if args.json:
        print(json.dumps({"total": out, "files": per}, indent=1))
    else:
        print(f"{len(files)} scripts, {total.items} lettering items")
        for k, v in out.items():
            print(f"  {k:30} {v}")
    if args.show:
        for p in total.problems:
            print(p)
    if args.tails:
        for p in total.notes:
            print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
