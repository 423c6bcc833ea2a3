"""The studio's HTTP handlers (the API of docs/preview.md and the studio contract).

Reading handlers answer from the last good preview; the ones that change the
script go through :mod:`comicc.pipeline.edits` (one line changed, written
atomically, refused with 409 when the file changed on disk meanwhile); the
ones that paint run the rebuild in a worker thread and answer with the plan
first unless ``confirm`` is true. Every name taken from a URL or a body is
checked by :mod:`comicc.studio.security` and looked up in the book -- never
joined into a path.
"""

from __future__ import annotations

import json
import secrets
import threading
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from comicc.backends import is_paid
from comicc.paint import plan_panel
from comicc.pipeline import edits
from comicc.pipeline.explain import explain_json
from comicc.pipeline.explore import (
    ExploreError,
    ExplorePlan,
    contact_sheet,
    plan_explore,
    run_explore,
)
from comicc.pipeline.history import HistoryEntry, history, prompt_diff
from comicc.pipeline.options import BuildOptions
from comicc.studio.images import file_png, lettered_variant, request_image
from comicc.studio.render import ART_EXT, Preview, png_bytes, ref_of
from comicc.studio.security import cache_key, panel_ref, variant_number
from comicc.studio.state import Studio

MAX_VARIANTS = 16  # the most variants "paint more" asks for
MAX_BODY = 64 * 1024  # the largest JSON body a POST may send
MAX_EXPLORES = 8  # explore results kept in memory


def _toggle_if(text: str, line: int, enabled: bool, label: str | None) -> str:
    """``set_toggle``, refused (409) when ``label`` is given and ``line`` no
    longer holds that toggle: the script changed since the page read it (an
    edit in another editor moved the lines), so the click would switch the
    wrong line."""
    if label is not None:
        lines = text.splitlines()
        here = lines[line - 1] if 1 <= line <= len(lines) else ""
        if label.strip() not in here:
            raise Refused(
                409,
                f"line {line} no longer holds `{label}`: the script changed; reload the panel",
            )
    return edits.set_toggle(text, line, enabled)


class Refused(Exception):
    """A request the studio answers with ``status`` and a user-facing message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error(status: int, message: str) -> JSONResponse:
    """``{"error": message}`` with ``status``."""
    return JSONResponse({"error": message}, status_code=status)


def png(data: bytes | None) -> Response:
    """PNG bytes, or 404 when there is no such picture."""
    if data is None:
        return error(404, "no such image in this book")
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-cache"})


class Api:
    """The handlers of one studio session."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.explores: dict[str, ExplorePlan] = {}  # id -> a painted exploration
        self.history_files: dict[str, Path] = {}  # cache key -> art file a history listed
        self._explore_lock = threading.Lock()

    # ------------------------------------------------------------ helpers
    def made(self) -> Preview:
        made = self.studio.preview
        if made is None:
            raise Refused(404, "the book has not been built yet (see the diagnostics)")
        return made

    def panel_id(self, ref: Any) -> str:
        """The id of the panel ``ref`` names (``"1.2"``), which must be in the book."""
        pid = panel_ref(ref) if isinstance(ref, str) else None
        if pid is None:
            raise Refused(400, "a panel is written PAGE.PANEL, e.g. 1.2")
        if not self.made().plan.of_panel(pid):
            raise Refused(404, f"the book has no panel {ref}")
        return pid

    async def body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise Refused(400, "the request body is too large")
        try:
            doc = json.loads(raw or b"{}")
        except ValueError as e:
            raise Refused(400, "the request body is not JSON") from e
        if not isinstance(doc, dict):
            raise Refused(400, "the request body must be a JSON object")
        return doc

    def text(self) -> str:
        """The script as on disk (bytes kept: CRLF stays CRLF)."""
        try:
            return edits.read_script(self.studio.script)
        except (OSError, UnicodeDecodeError, edits.EditError) as e:
            raise Refused(409, f"cannot read {self.studio.script.name}: {e}") from e

    def write(self, new: str, old: str) -> None:
        try:
            edits.write_script(self.studio.script, new, old)
        except edits.EditError as e:
            raise Refused(409, str(e)) from e

    def edit(self, change: Any, *args: Any) -> str:
        """Apply ``change(text, *args)`` to the script and write it; the new text."""
        old = self.text()
        try:
            new: str = change(old, *args)
        except edits.EditError as e:
            raise Refused(400, str(e)) from e
        if new != old:
            self.write(new, old)
        return new

    # ------------------------------------------------------------ reading
    async def panel(self, request: Request) -> Response:
        pid = self.panel_id(request.path_params["ref"])
        return JSONResponse(await anyio.to_thread.run_sync(self.panel_doc, pid))

    def panel_doc(self, pid: str) -> dict[str, Any]:
        """``/api/panel/REF``: the panel's explain JSON, toggles (from the script
        as on disk), variants, history and overlay images."""
        made = self.made()
        ref = ref_of(pid)
        doc = explain_json(made.script, made.plan, [pid])
        toggles = [
            {
                "line": t.line,
                "label": t.label,
                "kind": t.kind,
                "enabled": t.enabled,
                "scope": t.scope,
            }
            for t in edits.toggles(self.text(), ref)
        ]
        variants = [
            {
                "n": i.variant,
                "image": f"/panel/{ref}/variant/{i.variant}.png",
                "picked": i.picked,
                "cached": i.cached,
            }
            for i in made.plan.of_panel(pid)
        ]
        history = []
        for entry in self._history(pid):
            self.history_files[entry.key] = entry.image
            history.append(
                {
                    "key": entry.key,
                    "image": f"/history/{entry.key}.png",
                    "prompt": entry.prompt,
                    "negative": entry.negative,
                    "seed": entry.seed,
                    "when": entry.when,
                    "current": entry.current,
                }
            )
        return {
            "ref": ref,
            "explain": doc["panels"][0],
            "plan": doc["plan"],
            "toggles": toggles,
            "variants": variants,
            "history": history,
            "mask": f"/panel/{ref}/mask.png",
            "init": f"/panel/{ref}/init.png",
        }

    def _history(self, pid: str) -> list[HistoryEntry]:
        return history(self.studio.script, ref_of(pid), cache_dir=self.studio.cache_dir)

    async def variant(self, request: Request) -> Response:
        pid = self.panel_id(request.path_params["ref"])
        n = variant_number(request.path_params["n"])
        if n is None:
            raise Refused(404, "a variant is a number")
        return png(await anyio.to_thread.run_sync(lettered_variant, self.made(), pid, n))

    async def mask(self, request: Request) -> Response:
        pid = self.panel_id(request.path_params["ref"])
        return png(await anyio.to_thread.run_sync(request_image, self.made(), pid, "mask"))

    async def init(self, request: Request) -> Response:
        pid = self.panel_id(request.path_params["ref"])
        return png(await anyio.to_thread.run_sync(request_image, self.made(), pid, "init"))

    async def history_image(self, request: Request) -> Response:
        key = cache_key(request.path_params["key"])
        path = self.history_files.get(key) if key else None
        if path is None:
            raise Refused(404, "not an image of this book's history")
        return png(await anyio.to_thread.run_sync(file_png, path))

    async def history_diff(self, request: Request) -> Response:
        pid = self.panel_id(request.query_params.get("panel", ""))
        a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
        entries = {e.key: e for e in await anyio.to_thread.run_sync(self._history, pid)}
        if a not in entries or b not in entries:
            raise Refused(404, "both keys must be images of this panel's history")
        diff = prompt_diff(entries[a].prompt, entries[b].prompt)
        return JSONResponse({"diff": [list(d) for d in diff]})

    # ------------------------------------------------------------ editing
    async def toggle(self, request: Request) -> Response:
        doc = await self.body(request)
        line, enabled = doc.get("line"), doc.get("enabled")
        if not isinstance(line, int) or isinstance(line, bool) or not isinstance(enabled, bool):
            raise Refused(400, 'send {"line": N, "enabled": true|false}')
        label = doc.get("label")
        if label is not None and not isinstance(label, str):
            raise Refused(400, '"label" is the toggle\'s text, e.g. "@noir"')
        new = await anyio.to_thread.run_sync(self.edit, _toggle_if, line, enabled, label)
        lines = new.splitlines()
        return JSONResponse({"ok": True, "line": line, "text": lines[line - 1]})

    async def pick(self, request: Request) -> Response:
        doc = await self.body(request)
        pid = self.panel_id(doc.get("panel"))
        n = doc.get("variant")
        count = len(self.made().plan.of_panel(pid))
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= count:
            raise Refused(400, f"the panel has variants 1 to {count}")
        pick = partial(edits.set_pick, path=self.studio.script)
        await anyio.to_thread.run_sync(self.edit, pick, ref_of(pid), n)
        return JSONResponse({"ok": True})

    async def variants(self, request: Request) -> Response:
        doc = await self.body(request)
        pid = self.panel_id(doc.get("panel"))
        count = doc.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_VARIANTS:
            raise Refused(400, f"the number of variants is from 1 to {MAX_VARIANTS}")
        plan = await anyio.to_thread.run_sync(self.more_plan, pid, count)
        if doc.get("confirm") is not True:
            return JSONResponse({"plan": plan})
        seen = doc.get("cost")  # the cost the writer was shown, when the page sends it
        if isinstance(seen, int | float) and not isinstance(seen, bool) and seen != plan["cost"]:
            raise Refused(409, f"the plan changed since it was shown (now {plan['cost']:g})")
        more = partial(edits.set_variants, path=self.studio.script)
        await anyio.to_thread.run_sync(self.edit, more, ref_of(pid), count)
        await anyio.to_thread.run_sync(self._paint, frozenset({pid}))
        return JSONResponse({"ok": True, "plan": plan, "status": self.studio.book_json()["status"]})

    def more_plan(self, pid: str, count: int) -> dict[str, Any]:
        """What ``variants: count`` on panel ``pid`` would paint: the variants past
        those it has that the cache does not hold, and their cost."""
        made = self.made()
        images = made.plan.of_panel(pid)
        first = images[0]
        caps = made.plan.capabilities[first.plan.backend]
        requests = 0
        for v in range(1, count + 1):
            have = next((i for i in images if i.variant == v), None)
            if have is not None:
                requests += 0 if have.cached else 1
                continue
            planned = plan_panel(first.panel, first.geom, caps, variant=v)
            if made.cache.lookup(planned.cache_key, ART_EXT, planned.box_size).art is None:
                requests += 1
        paid = is_paid(caps)
        return {
            "requests": requests,
            "cost": round(requests * caps.cost_per_image, 4) if paid else 0.0,
            "currency": caps.cost_unit if paid else "free",
        }

    def _paint(self, panels: frozenset[str] | None) -> None:
        self.studio.rebuild(confirm_paint=True, panels=panels)

    async def paint(self, request: Request) -> Response:
        doc = await self.body(request)
        pending = self.studio.book_json()["status"]["pending_paint"]
        if doc.get("confirm") is not True:
            return JSONResponse({"plan": pending})
        seen = doc.get("cost")  # the cost the writer was shown, when the page sends it
        now = pending["cost"] if pending else 0
        if isinstance(seen, int | float) and not isinstance(seen, bool) and seen != now:
            raise Refused(409, f"the plan changed since it was shown (now {now:g}): look again")
        await anyio.to_thread.run_sync(self._paint, None)
        return JSONResponse({"ok": True, "status": self.studio.book_json()["status"]})

    # ------------------------------------------------------------ explore
    async def explore(self, request: Request) -> Response:
        doc = await self.body(request)
        pid = self.panel_id(doc.get("panel"))
        toggles = doc.get("toggles")
        if not isinstance(toggles, list) or not all(isinstance(t, str) for t in toggles):
            raise Refused(400, 'send {"panel": "1.2", "toggles": ["@noir", ...]}')
        options = BuildOptions(cache_dir=self.studio.cache_dir, progress=False)

        def planned() -> ExplorePlan:
            return plan_explore(self.studio.script, ref_of(pid), toggles, options=options)

        try:
            plan = await anyio.to_thread.run_sync(planned)
        except (ExploreError, edits.EditError) as e:
            raise Refused(400, str(e)) from e
        summary = {
            "requests": plan.requests,
            "cost": plan.cost,
            "currency": plan.currency or "free",
            "cells": [
                {"label": c.label, "states": c.states, "cached": c.cached, "cost": c.cost}
                for c in plan.cells
            ],
        }
        if doc.get("confirm") is not True:
            return JSONResponse({"plan": summary})

        def painted() -> ExplorePlan:
            return run_explore(plan, progress=False, confirm=lambda shown: True)

        try:
            done = await anyio.to_thread.run_sync(painted)
        except ExploreError as e:
            raise Refused(400, str(e)) from e
        eid = secrets.token_hex(8)
        with self._explore_lock:
            if len(self.explores) >= MAX_EXPLORES:
                self.explores.pop(next(iter(self.explores)))
            self.explores[eid] = done
        cells = [
            {
                "label": c.label,
                "states": c.states,
                "image": f"/explore/{eid}/{i}.png" if c.image is not None else None,
                "cached": c.cached,
            }
            for i, c in enumerate(done.cells)
        ]
        return JSONResponse({"cells": cells, "sheet": f"/explore/{eid}/sheet.png", "plan": summary})

    async def explore_image(self, request: Request) -> Response:
        eid, which = request.path_params["id"], request.path_params["which"]
        done = self.explores.get(eid)
        if done is None:
            raise Refused(404, "no such explore result (the studio keeps the last few)")
        if which == "sheet":
            return png(await anyio.to_thread.run_sync(lambda: png_bytes(contact_sheet(done))))
        if not which.isdigit() or not 0 <= int(which) < len(done.cells):
            raise Refused(404, "no such cell")
        image = done.cells[int(which)].image
        return png(None if image is None else await anyio.to_thread.run_sync(file_png, image))

    async def explore_apply(self, request: Request) -> Response:
        doc = await self.body(request)
        pid = self.panel_id(doc.get("panel"))
        states = doc.get("states")
        if not isinstance(states, dict) or not all(
            isinstance(k, str) and isinstance(v, bool) for k, v in states.items()
        ):
            raise Refused(400, 'send {"panel": "1.2", "states": {"@noir": true, ...}}')
        await anyio.to_thread.run_sync(self.edit, edits.apply_states, ref_of(pid), states)
        return JSONResponse({"ok": True})
