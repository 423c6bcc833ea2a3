"""What makes a panel repaint: the cache key covers everything that changes
the pixels (prompt, seed, size, mask geometry, backend settings) and nothing
else (not the balloon text)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from comicc.backends.draft import DraftBackend
from comicc.paint.plan import plan_panel
from support import ROOT
from support.build import book_of, checked_text

SCRIPT = """title: Keys
seed: 7
character HAMMY: a chubby golden hamster
snippet ink: clean inks, flat colors
snippet moon: cold blue moonlight

PAGE 1
layout: 1/2

PANEL 1
A dark kitchen. HAMMY peers over the counter.
prompt:
  - @moon
1. CAPTION: Midnight.
2. HAMMY (WHISPER): There it is.

PANEL 2
Close on HAMMY.
prompt: @ink
3. HAMMY: Tonight it's mine.

PANEL 3
A flashlight in the doorway.
4. SFX: CLICK
"""


def keys(text: str) -> dict[str, str]:
    res = checked_text(text)
    book = book_of(res)
    geoms = {g.id: g for page in book.pages for g in page.panels}
    caps = DraftBackend.capabilities
    return {p.id: plan_panel(p, geoms[p.id], caps).cache_key for p in res.script.panels}


def test_keys_are_the_same_in_a_fresh_process():
    """A key is a hash of the request's content, nothing of the process that
    computed it: another interpreter, with another hash seed, gets the same keys."""
    code = "import json, test_cache_keys as t; print(json.dumps(t.keys(t.SCRIPT)))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT / "tests")]),
            "PYTHONHASHSEED": "12345",
        },
    )
    here = keys(SCRIPT)
    assert json.loads(done.stdout) == here
    assert sorted(here) == ["p1.1", "p1.2", "p1.3"] and len(set(here.values())) == 3


def test_fixing_a_typo_repaints_nothing():
    typo = SCRIPT.replace("There it is.", "Tehre it is.").replace("Midnight.", "Midngiht.")
    assert keys(typo) == keys(SCRIPT)


def test_same_balloon_geometry_means_same_keys_whatever_the_text():
    """Any text change that leaves the reserved shapes alone keeps every key."""
    base_geo = reserves(SCRIPT)
    base = keys(SCRIPT)
    edits = [
        ("There it is.", "There it was."),
        ("Midnight.", "Midnite."),
        ("Tonight it's mine.", "Tonite it's mine!"),
        ("There it is.", "Here it is."),
        ("CLICK", "KLIK"),
    ]
    same_shape = []
    for old, new in edits:
        text = SCRIPT.replace(old, new)
        if reserves(text) == base_geo:
            same_shape.append((old, new))
            assert keys(text) == base, (old, new)
        else:
            assert keys(text) != base, (old, new)
    # balloon sizes move in steps, so small edits often keep the shape
    assert same_shape == [
        ("There it is.", "There it was."),
        ("Tonight it's mine.", "Tonite it's mine!"),
        ("CLICK", "KLIK"),
    ]


def reserves(text: str):
    book = book_of(checked_text(text))
    return [
        [(b.id, tuple(p.to_svg() for p in b.reserve)) for b in g.balloons]
        for page in book.pages
        for g in page.panels
    ]


def test_changing_a_snippet_repaints_exactly_the_panels_using_it():
    before = keys(SCRIPT)
    after = keys(
        SCRIPT.replace("snippet moon: cold blue moonlight", "snippet moon: warm orange moonlight")
    )
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"p1.1"}
    after = keys(SCRIPT.replace("snippet ink: clean inks, flat colors", "snippet ink: heavy inks"))
    assert {k for k in before if before[k] != after[k]} == {"p1.2"}


def test_changing_the_seed_or_a_description_repaints():
    before = keys(SCRIPT)
    reseeded = keys(SCRIPT.replace("seed: 7", "seed: 8"))
    assert reseeded.keys() == before.keys()
    assert all(reseeded[k] != before[k] for k in before)
    after = keys(SCRIPT.replace("A flashlight in the doorway.", "A torch in the doorway."))
    assert {k for k in before if before[k] != after[k]} == {"p1.3"}


def test_a_longer_text_that_grows_its_balloon_repaints_that_panel():
    before = keys(SCRIPT)
    longer = "Tonight it's mine, all forty pounds of aged gouda, every last crumb of it."
    after = keys(SCRIPT.replace("Tonight it's mine.", longer))
    assert after["p1.2"] != before["p1.2"]
    assert after["p1.1"] == before["p1.1"] and after["p1.3"] == before["p1.3"]


def test_where_the_service_runs_is_not_what_it_paints():
    """url/timeout say how to reach a service; changing them repaints nothing,
    while a setting that changes the pixels (steps) does."""
    from comicc.backends.automatic1111 import Automatic1111Backend

    def a1111_keys(extra: str) -> dict[str, str]:
        text = SCRIPT.replace("seed: 7\n", "seed: 7\nbackend: automatic1111\n" + extra)
        res = checked_text(text)
        book = book_of(res)
        geoms = {g.id: g for page in book.pages for g in page.panels}
        caps = Automatic1111Backend.capabilities
        return {p.id: plan_panel(p, geoms[p.id], caps).cache_key for p in res.script.panels}

    base = a1111_keys("automatic1111.url: http://127.0.0.1:7860\n")
    assert (
        a1111_keys("automatic1111.url: http://10.0.0.2:7860\nautomatic1111.timeout: 300\n") == base
    )
    steps = a1111_keys("automatic1111.url: http://127.0.0.1:7860\nautomatic1111.steps: 40\n")
    assert all(steps[k] != base[k] for k in base)


def test_the_lock_file_keeps_a_balloon_while_its_text_still_fits():
    """With last build's balloon sizes (the lock file), a text edit that still
    fits keeps every key, even where the text's natural size changed; text
    that no longer fits gets a bigger balloon and repaints its panel only."""
    from comicc.diagnostics import Sink
    from comicc.pipeline import layout

    def keys_with(text, keep):
        res = checked_text(text)
        book = layout(res.script, res.theme, Sink(), keep=keep)
        assert book is not None
        geoms = {g.id: g for page in book.pages for g in page.panels}
        return (
            {
                p.id: plan_panel(p, geoms[p.id], DraftBackend.capabilities).cache_key
                for p in res.script.panels
            },
            {b.id: (b.rect.w, b.rect.h) for g in geoms.values() for b in g.balloons},
        )

    base, sizes = keys_with(SCRIPT, None)
    shorter = SCRIPT.replace("Tonight it's mine.", "Tonight it's ours.")
    assert keys_with(shorter, sizes)[0] == base
    edited = SCRIPT.replace("There it is.", "There 'tis.").replace(
        "Midnight.", "Midnite."
    )  # a bit shorter
    natural, _ = keys_with(edited, None)
    kept, _ = keys_with(edited, sizes)
    assert natural["p1.1"] != base["p1.1"]  # without the lock the balloons would have grown
    assert kept == base
    longer = SCRIPT.replace(
        "Tonight it's mine.", "Tonight it's mine, all forty pounds of aged gouda, every crumb."
    )
    grown, _ = keys_with(longer, sizes)
    assert (
        grown["p1.2"] != base["p1.2"]
        and grown["p1.1"] == base["p1.1"]
        and grown["p1.3"] == base["p1.3"]
    )
