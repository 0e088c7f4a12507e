"""The web UI: static HTML, ES modules and CSS served by the gateway (no build step).

``/`` and every ``/ui/...`` page path answer the same ``index.html`` (the modules route
on ``location.pathname``); the files themselves are under ``/ui/static/``. The UI talks
only to the public REST API and WebSocket feeds, with the API key the user signs in with.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"

#: Only our own scripts and styles; audio plays from blob: URLs; feeds are same-origin.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self' ws: wss:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class _RevalidatedStatic(StaticFiles):
    """Static files that browsers revalidate (ETag) so a new release is picked up at once."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=_PAGE_HEADERS)


def mount_web(app: FastAPI) -> None:
    """Serve the UI: ``/`` and ``/ui/...`` pages, assets under ``/ui/static``."""
    app.mount("/ui/static", _RevalidatedStatic(directory=STATIC), name="ui-static")

    @app.get("/", include_in_schema=False)
    async def root() -> FileResponse:
        return _index()

    @app.get("/ui", include_in_schema=False)
    @app.get("/ui/{page:path}", include_in_schema=False)
    async def page(page: str = "") -> FileResponse:
        return _index()
