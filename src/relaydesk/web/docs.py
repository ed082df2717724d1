"""The API documentation pages (/docs, /redoc, /openapi.json), served without any outside host.

RelayDesk must work air-gapped, so Swagger UI and ReDoc come from an installed package
(`fastapi-standalone-docs` ships their built files), not from a CDN. In production the
documentation is only for logged-in people and API tokens unless RELAYDESK_PUBLIC_DOCS says
otherwise: it maps every endpoint of the installation for whoever asks.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from relaydesk.container import Container
from relaydesk.deps import get_scope

ASSETS_URL = "/docs/assets"
# The only files the pages load; anything else under ASSETS_URL is 404.
ASSETS = {
    "swagger-ui-bundle.js": ("swagger", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger", "text/css; charset=utf-8"),
    "redoc.standalone.js": ("redoc", "text/javascript; charset=utf-8"),
    "favicon.png": ("fastapi", "image/png"),
}


def _assets_dir() -> Path:
    spec = importlib.util.find_spec("fastapi_standalone_docs")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the fastapi-standalone-docs package is missing: reinstall RelayDesk")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def _require_reader(request: Request) -> None:
    """404, not 401, for anonymous callers when the docs are private: nothing to discover here."""
    container: Container = request.app.state.container
    if container.settings.docs_public:
        return
    try:
        get_scope(request, container)
    except HTTPException as exc:
        raise HTTPException(status_code=404, detail="Not Found") from exc


def docs_router(app: FastAPI) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    assets = _assets_dir()
    title = f"{app.title} API"

    @router.get("/openapi.json")
    def openapi(request: Request) -> JSONResponse:
        _require_reader(request)
        return JSONResponse(app.openapi())

    @router.get("/docs")
    def swagger(request: Request) -> HTMLResponse:
        _require_reader(request)
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=title,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            # Swagger UI otherwise sends the document to an outside validator for its badge.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @router.get("/redoc")
    def redoc(request: Request) -> HTMLResponse:
        _require_reader(request)
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=title,
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    @router.get(ASSETS_URL + "/{name}")
    def asset(name: str) -> Response:
        # Public even when the docs are not: these are the published Swagger UI and ReDoc builds.
        found = ASSETS.get(name)
        if found is None:
            raise HTTPException(status_code=404, detail="Not Found")
        folder, media_type = found
        return FileResponse(
            assets / folder / name, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
        )

    return router
