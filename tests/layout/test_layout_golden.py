"""Golden tests: the layout of every example, summarised (panel boxes,
balloon boxes, tail tips, lettering lines and positions, rounded to 0.1 pt)
so that a layout change shows up as a small, reviewable diff.

Regenerate after an intended change and review the diff:
    COMICC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/layout/test_layout_golden.py
"""

from __future__ import annotations

import json
import os

import pytest

from support import DATA, ROOT  # noqa: E402
from support.build import EXAMPLES, book_of, checked

GOLDEN = DATA / "golden"


def _r(v: float) -> float:
    return round(v, 1)


def summary(book) -> dict:
    pages = []
    for page in book.pages:
        panels = []
        for panel in page.panels:
            balloons = []
            for balloon in panel.balloons:
                box = balloon.rect
                tip = None
                if balloon.tail is not None:
                    pts = list(balloon.tail.points())
                    far = max(
                        pts,
                        key=lambda p: (p[0] - box.center[0]) ** 2 + (p[1] - box.center[1]) ** 2,
                    )
                    tip = [_r(far[0]), _r(far[1])]
                balloons.append(
                    {
                        "id": balloon.id,
                        "kind": balloon.kind,
                        "box": [_r(v) for v in (box.x, box.y, box.w, box.h)],
                        "tail_tip": tip,
                        "overflow": _r(balloon.overflow),
                        "lines": [
                            [ln.text, _r(ln.runs[0].x), _r(ln.runs[0].baseline)]
                            for ln in balloon.lines
                            if ln.runs
                        ],
                    }
                )
            panels.append(
                {
                    "id": panel.id,
                    "box": [
                        _r(v) for v in (panel.rect.x, panel.rect.y, panel.rect.w, panel.rect.h)
                    ],
                    "balloons": balloons,
                }
            )
        pages.append(
            {
                "numbers": list(page.numbers),
                "size": [_r(page.width), _r(page.height)],
                "panels": panels,
            }
        )
    return {"reading": book.reading, "pages": pages}


def dump(doc: dict) -> str:
    """One balloon per line, so a diff shows exactly which balloon moved."""

    def j(v):
        return json.dumps(v, ensure_ascii=False)

    out = ["{", f' "reading": {j(doc["reading"])},', ' "pages": [']
    for pi, page in enumerate(doc["pages"]):
        out.append(f'  {{"numbers": {j(page["numbers"])}, "size": {j(page["size"])}, "panels": [')
        for ni, panel in enumerate(page["panels"]):
            out.append(f'   {{"id": {j(panel["id"])}, "box": {j(panel["box"])}, "balloons": [')
            for bi, balloon in enumerate(panel["balloons"]):
                out.append("    " + j(balloon) + ("," if bi < len(panel["balloons"]) - 1 else ""))
            out.append("   ]}" + ("," if ni < len(page["panels"]) - 1 else ""))
        out.append("  ]}" + ("," if pi < len(doc["pages"]) - 1 else ""))
    out += [" ]", "}"]
    return "\n".join(out) + "\n"


# the lettering scenes of issue 11 (bench/scenes: dialogue, three speakers, off-panel voices,
# every kind, tall / letterbox / 9-panel grid, rtl manga), samples and the examples
SCENES = sorted((ROOT / "bench" / "scenes").glob("*.comic"))
SAMPLES = sorted((ROOT / "docs" / "samples").glob("*.comic"))
GOLDEN_SCRIPTS = EXAMPLES + SAMPLES + SCENES


def _golden_name(path) -> str:
    if path in SCENES:
        return f"scene-{path.stem}"
    if path in SAMPLES:
        return f"sample-{path.stem}"
    return path.stem


@pytest.mark.parametrize("example", GOLDEN_SCRIPTS, ids=_golden_name)
def test_layout_matches_golden(example):
    res, _ = checked(example)
    got = summary(book_of(res))
    path = GOLDEN / f"{_golden_name(example)}.layout.json"
    text = dump(got)
    if os.environ.get("COMICC_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file; run with COMICC_UPDATE_GOLDEN=1 and review {path}"
    want = json.loads(path.read_text(encoding="utf-8"))
    assert got == want, "layout changed: regenerate with COMICC_UPDATE_GOLDEN=1 and review the diff"
