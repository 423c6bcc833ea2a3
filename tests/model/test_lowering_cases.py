"""Fixture cases for the lowering: what each panel is painted from.

Every ``tests/data/prompts/<case>.comic`` is checked through the pipeline (so
the theme's prompt template and negative prompt take part) and compared with
``<case>.expected.json``: per panel the final prompt, the negative prompt, the
pieces the prompt was assembled from and the resolved render settings.

After an intended change, rewrite the expected files and review the diff::

    COMICC_UPDATE_FIXTURES=1 .venv/bin/python -m pytest tests/model/test_lowering_cases.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from comicc.diagnostics import Sink
from comicc.model import ir
from comicc.pipeline import check
from support import DATA

CASES = sorted((DATA / "prompts").glob("*.comic"))
UPDATE = os.environ.get("COMICC_UPDATE_FIXTURES") == "1"


def _settings(settings: ir.RenderSettings) -> dict[str, object]:
    return {
        "backend": settings.backend,
        "model": settings.model,
        "seed": settings.seed,
        "variants": settings.variants,
        "pick": settings.pick,
        "dpi": settings.dpi,
        "mask": {
            "keep_margin": str(settings.mask.keep_margin),
            "feather": str(settings.mask.feather),
            "balloons": settings.mask.balloons,
        },
        "backend_settings": dict(settings.backend_settings),
    }


def lowered(script: ir.Script) -> dict[str, object]:
    """The parts of a lowered script these cases pin, as plain JSON data."""
    return {
        "book": {
            "theme": script.theme,
            "format": script.page_format,
            "reading": script.reading,
        },
        "panels": {
            panel.id: {
                "prompt": panel.prompt.text,
                "negative": panel.prompt.negative,
                "parts": list(panel.prompt.parts),
                "cast": [[c.name, c.x, c.y] for c in panel.cast],
                "settings": _settings(panel.settings),
            }
            for panel in script.panels
        },
    }


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_lowering_case(path: Path):
    sink = Sink()
    res = check(path, sink)
    assert sink.diagnostics == [], [(d.code, d.message) for d in sink.diagnostics]
    assert res is not None and res.script is not None
    got = lowered(res.script)
    expected_path = path.with_suffix(".expected.json")
    if UPDATE:
        expected_path.write_text(
            json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    assert expected_path.exists(), f"run with COMICC_UPDATE_FIXTURES=1 to create {expected_path}"
    assert got == json.loads(expected_path.read_text(encoding="utf-8"))


def test_every_case_has_its_expected_file():
    assert len(CASES) >= 6
    expected = {p.name.removesuffix(".expected.json") for p in (DATA / "prompts").glob("*.json")}
    assert expected == {p.stem for p in CASES}
