"""The studio (``comicc preview``): the book live in a browser, with an
inspector per panel, snippet toggles, variants, history and explore.

``server`` runs it (uvicorn and the file watcher), ``app`` routes requests,
``api`` answers them, ``state`` keeps the last good preview, ``render`` makes
one (the build's stages, pages at screen resolution), ``images`` draws a
panel's variants, mask and init image, and ``security`` guards it all (Host
header, session token, strict names, security headers).
"""

from comicc.studio.server import StudioServer
from comicc.studio.state import Studio

__all__ = ["Studio", "StudioServer"]
