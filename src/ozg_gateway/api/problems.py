"""Exception handlers: every error leaves the API as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ozg_gateway.errors import (
    FieldError,
    Problem,
    field_errors_from_pydantic,
    german_message,
    validation_problem,
)
from ozg_gateway.logging import get_logger

PROBLEM_JSON = "application/problem+json"
log = get_logger(__name__)

_HTTP_WORDS = {
    404: "Diese Adresse gibt es nicht.",
    405: "Diese Methode ist hier nicht erlaubt.",
    413: "Die Anfrage ist zu groß.",
    415: "Diese Art von Inhalt wird hier nicht angenommen.",
}
_STATUS_SLUGS = {
    400: "malformed-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    429: "too-many-requests",
    415: "unsupported-media-type",
    422: "validation-error",
    503: "unavailable",
}


def problem_response(
    problem: Problem, request: Request | None = None, *, instance: str | None = None
) -> JSONResponse:
    """Render a problem (``instance``: the request path)."""
    instance = request.url.path if request is not None else instance
    return JSONResponse(
        problem.body(instance=instance),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=dict(problem.headers),
    )


def _from_request_validation(exc: RequestValidationError) -> Problem:
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return Problem("malformed-request", detail="Der Inhalt der Anfrage ist kein gültiges JSON.")
    field_errors: list[FieldError] = []
    for err in errors:
        loc = list(err.get("loc", ()))
        where = loc[0] if loc else "body"
        if where in ("query", "path", "header"):
            name = str(loc[1]) if len(loc) > 1 else "?"
            kind = str(err.get("type"))
            words = german_message(kind, str(err.get("msg")), err.get("ctx"))
            field_errors.append(FieldError(f"#{where}:{name}", kind, words))
        else:
            field_errors.extend(field_errors_from_pydantic([{**err, "loc": loc}]))
    return validation_problem(field_errors)


def install_problem_handlers(app: FastAPI) -> None:
    """Register handlers for our problems, FastAPI validation, HTTP errors and crashes."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        # pages for people (the console) answer a problem with a page of their own
        for prefix, render in getattr(request.app.state, "problem_pages", ()):
            if request.url.path.startswith(prefix):
                return await render(request, exc)  # type: ignore[no-any-return]
        return problem_response(exc, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(_from_request_validation(exc), request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug = _STATUS_SLUGS.get(exc.status_code, "malformed-request")
        headers: dict[str, Any] = dict(exc.headers or {})
        # Starlette's own texts ("Not Found", "Method Not Allowed") are English
        detail = _HTTP_WORDS.get(exc.status_code)
        return problem_response(Problem(slug, detail=detail, headers=headers), request)

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc, path=request.url.path)
        return problem_response(Problem("internal-error"), request)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
