"""The admin console: German, server-rendered pages under ``/admin/`` with local assets."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ozg_gateway.api.console import actions, pages
from ozg_gateway.api.console.auth import PATH, LoginLimiter, LoginRequired, operator
from ozg_gateway.api.console.render import HERE, page
from ozg_gateway.context import GatewayContext
from ozg_gateway.errors import Problem


def install(app: FastAPI, ctx: GatewayContext) -> None:
    """Mount the console's pages, actions and assets on ``app``."""
    app.state.console_login_limiter = LoginLimiter(ctx.settings.limits.rate.storage_uri)
    app.include_router(actions.router)
    app.include_router(pages.router)
    app.mount(PATH + "/static", StaticFiles(directory=HERE / "static"), name="console-static")

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = f"{request.app.url_path_for('login')}?{urlencode({'weiter': exc.next_url})}"
        return RedirectResponse(target, status_code=303)

    app.add_exception_handler(LoginRequired, login_required)
    app.state.problem_pages = [(PATH + "/", problem_page)]


async def problem_page(request: Request, problem: Problem) -> Response:
    """A problem on a console page, as a page (the browser is no API client)."""
    try:
        who = await operator(request)
    except LoginRequired:
        who = None
    return page(
        request,
        "problem",
        who=who,
        title="Das hat nicht geklappt",
        live=False,
        detail=problem.detail or GERMAN_TITLES.get(problem.slug, "Die Anfrage ist fehlgeschlagen."),
        status_code=problem.status,
    )


GERMAN_TITLES = {
    "not-found": "Diesen Eintrag gibt es nicht (mehr).",
    "conflict": "Das ist im jetzigen Zustand nicht möglich. Bitte die Seite neu laden.",
    "forbidden": "Das ist nicht erlaubt.",
}
