"""Templates of the console, with the German formats as filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from ozg_gateway.api.console import labels
from ozg_gateway.api.console.auth import Operator
from ozg_gateway.api.deps import context_of

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(
    zeit=labels.local_time,
    dauer=labels.duration,
    euro=labels.euro,
)


@pass_context
def link(context: dict[str, Any], name: str, /, **params: Any) -> str:
    """The path of a named console route: relative, so the console works behind any proxy."""
    request: Request = context["request"]
    return str(request.app.url_path_for(name, **params))


templates.env.globals.update(labels=labels, word=labels.word, link=link)

NAVIGATION = (
    ("overview", "Übersicht"),
    ("deliveries", "Zustellungen"),
    ("problems", "Probleme"),
    ("inbound", "Eingang"),
    ("payments", "Zahlungen"),
    ("identifications", "Identifizierungen"),
    ("catalogue", "Katalog"),
    ("audit", "Protokoll"),
)


def page(
    request: Request,
    name: str,
    *,
    who: Operator | None,
    title: str,
    status_code: int = 200,
    live: bool = True,
    **values: Any,
) -> HTMLResponse:
    """A console page; ``values`` are the template's variables; ``live`` pages refresh."""
    ctx = context_of(request.app)
    return templates.TemplateResponse(
        request,
        f"{name}.html",
        {
            "who": who,
            "title": title,
            "page_name": name,
            "navigation": NAVIGATION,
            "refresh": int(ctx.settings.console.refresh_seconds) if live else 0,
            "municipality": ctx.catalog.municipality.name,
            **values,
        },
        status_code=status_code,
    )
