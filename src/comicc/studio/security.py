"""The studio's guards: who may talk to it and which names it serves.

``comicc preview`` listens on loopback, but a page on any web site the writer
visits can still make the browser send requests to ``127.0.0.1`` -- and, with
DNS rebinding, read the answers. So every request is checked here before any
route runs:

- the ``Host`` header must name the studio itself (``127.0.0.1:PORT``,
  ``localhost:PORT``, ``[::1]:PORT`` or the ``--host`` given), else 403: a
  rebinding attacker's page sends its own host name;
- every POST (everything that changes a file or paints) must carry the
  per-session token in ``X-Comicc-Token`` (compared in constant time), else
  403: the token is only in the studio's own page, which another origin cannot
  read;
- every answer gets ``X-Content-Type-Options: nosniff``, a restrictive
  Content-Security-Policy (no inline scripts, images only from the studio or
  ``data:``), ``Referrer-Policy: no-referrer`` and, for the API,
  ``Cache-Control: no-store``.

The names a URL may carry are checked by :func:`panel_ref`, :func:`variant_number`
and :func:`cache_key`: a user's string is matched against a strict pattern and
only ever used to look things up in the book, never joined into a path.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_HEADER = "x-comicc-token"
CSP = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_REF = re.compile(r"([1-9][0-9]{0,3})\.([1-9][0-9]{0,3})")
_KEY = re.compile(r"[0-9a-f]{8,128}")
_NUMBER = re.compile(r"[1-9][0-9]{0,3}")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def new_token() -> str:
    """A fresh per-session token (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(32)


def allowed_hosts(port: int, host: str | None = None) -> frozenset[str]:
    """The ``Host`` header values the studio answers: the loopback names with
    ``port``, and ``host`` (``--host``) with it when one was given."""
    names = set(LOOPBACK)
    if host:
        names.add(f"[{host}]" if ":" in host and not host.startswith("[") else host)
    return frozenset(f"{name}:{port}".lower() for name in names)


def host_allowed(header: str | None, allowed: Iterable[str], *, any_ip: int | None = None) -> bool:
    """Whether a ``Host`` header names the studio (case-insensitive, exact).
    ``any_ip``: a port; then any IP address literal with that port is allowed
    too (``--host 0.0.0.0``: reached by whatever address the machine has --
    DNS rebinding needs a host *name*, which stays refused)."""
    if header is None:
        return False
    value = header.strip().lower()
    if value in set(allowed):
        return True
    if any_ip is None:
        return False
    name, _, port = value.rpartition(":")
    if port != str(any_ip):
        return False
    try:
        ipaddress.ip_address(name[1:-1] if name.startswith("[") and name.endswith("]") else name)
    except ValueError:
        return False
    return True


def token_matches(given: str | None, token: str) -> bool:
    """Whether ``given`` is the session token (constant-time compare)."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


def panel_ref(text: str) -> str | None:
    """``"1.2"`` -> the panel id ``"p1.2"``; None for anything that is not
    exactly PAGE.PANEL (two numbers of up to four digits)."""
    m = _REF.fullmatch(text)
    return None if m is None else f"p{int(m.group(1))}.{int(m.group(2))}"


def variant_number(text: str) -> int | None:
    """``"2"`` -> 2; None for anything but a positive number of up to four digits."""
    return int(text) if _NUMBER.fullmatch(text) else None


def cache_key(text: str) -> str | None:
    """A cache key as the art cache names entries (lower-case hex); None otherwise."""
    return text if _KEY.fullmatch(text) else None


class Guard:
    """ASGI middleware: the Host check, the token check on unsafe methods and
    the security headers on every answer (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, *, token: str, hosts: Iterable[str], any_ip: int | None = None
    ) -> None:
        self.app = app
        self.token = token
        self.hosts = frozenset(h.lower() for h in hosts)
        self.any_ip = any_ip  # a port: any IP literal Host with it is allowed (see host_allowed)

    def set_hosts(self, hosts: Iterable[str]) -> None:
        """Replace the allowed ``Host`` values (once the port is known)."""
        self.hosts = frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if not host_allowed(headers.get("host"), self.hosts, any_ip=self.any_ip):
            await _refuse(send, 403, "this address is not the studio's (wrong Host header)")
            return
        if scope["method"] in UNSAFE_METHODS and not token_matches(
            headers.get(TOKEN_HEADER), self.token
        ):
            await _refuse(send, 403, "missing or wrong X-Comicc-Token: reload the studio page")
            return
        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                ours = _OURS | {b"cache-control"} if api else _OURS
                raw = [(k, v) for k, v in raw if k.lower() not in ours]
                raw += _security_headers(no_store=api)
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)


_OURS = {
    b"x-content-type-options",
    b"content-security-policy",
    b"referrer-policy",
    b"x-frame-options",
}


def _security_headers(no_store: bool) -> list[tuple[bytes, bytes]]:
    out = [
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", CSP.encode()),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    ]
    if no_store:
        out.append((b"cache-control", b"no-store"))
    return out


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *_security_headers(no_store=True),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
