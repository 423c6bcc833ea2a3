"""The studio's web application: the routes, the page, the event stream.

:func:`create_app` wires a :class:`~comicc.studio.state.Studio` to a
Starlette app wrapped in the :class:`~comicc.studio.security.Guard` (Host
check, token on every POST, security headers). Templates and static files
ship inside the package (``studio/templates``, ``studio/static``); nothing is
fetched from elsewhere, so the studio works offline.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from comicc.studio.api import Api, Refused, error
from comicc.studio.security import Guard, variant_number
from comicc.studio.state import Studio

PING_SECONDS = 15.0  # an event stream's keep-alive comment

Handler = Callable[[Request], Awaitable[Response]]


def _guarded(handler: Handler) -> Handler:
    """``handler`` with a :class:`Refused` turned into its JSON error answer."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as e:
            return error(e.status, str(e))

    return run


def create_app(
    studio: Studio, *, token: str, hosts: frozenset[str], any_ip: int | None = None
) -> Guard:
    """The studio's ASGI app for ``studio``; ``token``: the session's token;
    ``hosts``: the Host header values it answers (:func:`~comicc.studio.security.allowed_hosts`);
    ``any_ip``: see :class:`~comicc.studio.security.Guard`."""
    api = Api(studio)
    templates = jinja2.Environment(
        loader=jinja2.PackageLoader("comicc.studio", "templates"),
        autoescape=True,
    )

    async def index(request: Request) -> Response:
        book = studio.book_json()
        html = templates.get_template("index.html").render(
            token=token, title=book["title"], script_name=book["script"], version=book["version"]
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def book(request: Request) -> Response:
        return JSONResponse(studio.book_json())

    async def page(request: Request) -> Response:
        name = request.path_params["name"]
        number = variant_number(name[:-4]) if name.endswith(".png") else None
        view = studio.page(number) if number is not None else None
        if view is None:
            return error(404, "the book has no such page")
        # `?v=` names the page's content: the same v is the same picture
        fresh = request.query_params.get("v") == view.key
        cache = "max-age=86400, immutable" if fresh else "no-cache"
        return Response(view.png, media_type="image/png", headers={"Cache-Control": cache})

    async def events(request: Request) -> Response:
        return StreamingResponse(
            _event_stream(studio, request),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    routes = [
        Route("/", index),
        Route("/api/book", book),
        Route("/api/events", events),
        Route("/page/{name}", _guarded(page)),
        Route("/api/panel/{ref}", _guarded(api.panel)),
        Route("/panel/{ref}/variant/{n}.png", _guarded(api.variant)),
        Route("/panel/{ref}/mask.png", _guarded(api.mask)),
        Route("/panel/{ref}/init.png", _guarded(api.init)),
        Route("/history/{key}.png", _guarded(api.history_image)),
        Route("/api/history/diff", _guarded(api.history_diff)),
        Route("/api/toggle", _guarded(api.toggle), methods=["POST"]),
        Route("/api/pick", _guarded(api.pick), methods=["POST"]),
        Route("/api/variants", _guarded(api.variants), methods=["POST"]),
        Route("/api/paint", _guarded(api.paint), methods=["POST"]),
        Route("/api/explore", _guarded(api.explore), methods=["POST"]),
        Route("/api/explore/apply", _guarded(api.explore_apply), methods=["POST"]),
        Route("/explore/{id}/{which}.png", _guarded(api.explore_image)),
        Mount("/static", StaticFiles(packages=[("comicc.studio", "static")], check_dir=False)),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found_json})
    return Guard(app, token=token, hosts=hosts, any_ip=any_ip)


async def _not_found_json(request: Request, exc: Exception) -> Response:
    return error(404, "not found")


async def _event_stream(studio: Studio, request: Request) -> AsyncIterator[str]:
    """``event: building`` when a rebuild starts, ``event: book`` after it,
    ``: ping`` every :data:`PING_SECONDS`; ends when the client leaves or the
    studio closes."""
    queue = studio.subscribe()
    try:
        hello = {"version": studio.version, "changed_pages": []}
        yield f"event: book\ndata: {json.dumps(hello)}\n\n"
        while True:
            event = None
            with anyio.move_on_after(PING_SECONDS) as waited:
                event = await queue.get()
                if event is None:
                    return
            if waited.cancelled_caught:
                if await request.is_disconnected():
                    return
                yield ": ping\n\n"
                continue
            assert event is not None
            if event.building:
                yield f"event: building\ndata: {json.dumps({'version': event.version})}\n\n"
                continue
            data = {"version": event.version, "changed_pages": list(event.changed_pages)}
            yield f"event: book\ndata: {json.dumps(data)}\n\n"
    finally:
        studio.unsubscribe(queue)
