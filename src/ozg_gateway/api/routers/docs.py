"""The landing page and the API documentation (Swagger UI, ReDoc) with assets served here.

The assets come from a packaged distribution (``fastapi-offline``), so the documentation works
without internet access; the CSP names exactly what the pages load.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ozg_gateway.api.deps import context_of

router = APIRouter(include_in_schema=False)
ASSETS = "/docs-assets"
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
_templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def assets() -> StaticFiles:
    """Swagger UI and ReDoc files of the installed ``fastapi-offline`` distribution."""
    return StaticFiles(directory=str(files("fastapi_offline") / "static"))


def with_csp(page: HTMLResponse) -> HTMLResponse:
    """Allow the page's own inline scripts by hash and our assets; nothing else.

    Styles may be inline: both renderers inject style elements at run time, and the pages
    show only the public API description.
    """
    html = bytes(page.body).decode()
    scripts = []
    for kind, content in _INLINE.findall(html):
        if kind == "script":
            digest = base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()
            scripts.append(f"'sha256-{digest}'")
    page.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self' {' '.join(scripts)}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        "worker-src blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return page


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Interactive API documentation."""
    return with_csp(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{request.app.title} – API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """Reference documentation."""
    return with_csp(
        get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{request.app.title} – API-Referenz",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
    )


@router.get("/", response_class=HTMLResponse)
def landing(request: Request) -> HTMLResponse:
    """What this server is, with links to the documentation, the catalogue and the demo."""
    ctx = context_of(request.app)
    return _templates.TemplateResponse(
        request,
        "landing.html",
        {
            "municipality": ctx.catalog.municipality.name,
            "offers": len(ctx.catalog.offers),
            "demo": ctx.settings.mode == "demo",
        },
    )
