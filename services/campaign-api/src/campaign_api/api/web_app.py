"""The dashboard (web/, built by Vite into web/dist) served by the API under /app/, same origin as the API.

Client-side routes (/app/campaigns/12) have no file of their own: any path without a file extension that matches no
file answers index.html, and the React router takes over. A missing asset (/app/assets/gone.js) stays a 404 in the
API's error shape. Nothing is mounted when the build directory does not exist, so the API runs without a front end.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

MOUNT_PATH = "/app"
INDEX = "index.html"
# index.html names the hashed bundles of the current build: never cache it, so a deploy is seen at the next load
INDEX_HEADERS = {"Cache-Control": "no-cache"}
IMMUTABLE = "public, max-age=31536000, immutable"


class SinglePageApp(StaticFiles):
    """StaticFiles with a fallback to index.html for client-side routes, and caching fit for hashed bundles."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file at path; index.html for a route-like path that names no file."""
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or PurePosixPath(path).suffix:
                raise
            response = await super().get_response(INDEX, scope)
        if path.startswith("assets/"):
            response.headers["Cache-Control"] = IMMUTABLE
        elif response.media_type == "text/html":
            response.headers.update(INDEX_HEADERS)
        return response


def mount_web_app(app: FastAPI, dist_dir: Path | None) -> bool:
    """Serve the built dashboard under /app/ when dist_dir holds a build; return whether it was mounted."""
    if dist_dir is None or not (dist_dir / INDEX).is_file():
        return False

    async def to_app() -> RedirectResponse:
        return RedirectResponse(f"{MOUNT_PATH}/", status_code=308)

    app.add_api_route(MOUNT_PATH, to_app, methods=["GET"], include_in_schema=False)
    app.mount(MOUNT_PATH, SinglePageApp(directory=dist_dir, html=True), name="web-app")
    return True
