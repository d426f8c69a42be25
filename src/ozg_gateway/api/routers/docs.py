"""API documentation pages (Swagger UI, ReDoc) with a CSP that names exactly what they load."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
_ASSETS = "https://cdn.jsdelivr.net"
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def with_csp(page: HTMLResponse) -> HTMLResponse:
    """Allow the page's own inline blocks by hash and its asset host; nothing else."""
    html = bytes(page.body).decode()
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, content in _INLINE.findall(html):
        digest = base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()
        hashes[kind].append(f"'sha256-{digest}'")
    page.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {_ASSETS} {' '.join(hashes['script'])}; "
        f"style-src {_ASSETS} {' '.join(hashes['style'])}; img-src 'self' data: {_ASSETS}; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return page


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Interactive API documentation."""
    return with_csp(get_swagger_ui_html(openapi_url="/openapi.json", title=request.app.title))


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """Reference documentation."""
    return with_csp(get_redoc_html(openapi_url="/openapi.json", title=request.app.title))
