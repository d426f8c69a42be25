"""The simulator holds itself to the API files: every JSON answer it gives is validated against
the response schema that submission-api.yaml or routing-api.yaml declares for that operation
and status. An answer that does not conform becomes a 500 naming the violation, so a test
run (or the demo) shows it instead of teaching the gateway a dialect.

A pure ASGI middleware: only JSON answers are held back (they are small); attachments
(``application/jose``, up to 500 MB) stream through untouched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ozg_gateway.specs import (
    FIT_CONNECT_ROUTING_API,
    FIT_CONNECT_SUBMISSION_API,
    SpecMissing,
    openapi_document,
)

_JSON = ("application/json", "application/problem+json")


@dataclass(frozen=True)
class _Operation:
    pattern: re.Pattern[str]
    method: str
    responses: dict[str, Any]
    components: dict[str, Any]
    document: str


def _operations(specs_dir: Path | None) -> list[_Operation]:
    out = []
    # The routing API's server URL ends in /v1; its paths do not.
    for relative, prefix in ((FIT_CONNECT_SUBMISSION_API, ""), (FIT_CONNECT_ROUTING_API, "/v1")):
        document = openapi_document(specs_dir, relative)
        for path, operations in document["paths"].items():
            pattern, _, _ = compile_path(prefix + path)
            for method, operation in operations.items():
                if isinstance(operation, dict) and "responses" in operation:
                    out.append(
                        _Operation(
                            pattern,
                            method.upper(),
                            operation["responses"],
                            document.get("components", {}),
                            Path(relative).name,
                        )
                    )
    return out


class AnswerCheck:
    """Finds what is wrong with an answer, per the API files (None: conforms, or undeclared)."""

    def __init__(self, specs_dir: Path | None) -> None:
        self.operations = _operations(specs_dir)

    def problem(
        self, method: str, path: str, status: int, content_type: str, body: bytes
    ) -> str | None:
        """The first violation of an answer, located, or None."""
        operation = next(
            (o for o in self.operations if o.method == method and o.pattern.match(path)), None
        )
        if operation is None:
            return None  # the simulator's own helpers (/token, /simulate/…)
        declared = operation.responses.get(str(status)) or operation.responses.get("default")
        if declared is None:
            return f"{operation.document}: {method} {path} does not declare status {status}"
        media = content_type.split(";")[0].strip()
        content = declared.get("content") or {}
        if media not in content:
            return f"{operation.document}: {method} {path} {status} is not declared as {media}"
        schema = content[media].get("schema")
        if schema is None:
            return None
        try:
            value = json.loads(body)
        except ValueError:
            return f"{method} {path} {status}: the body is not JSON"
        validator = Draft202012Validator(
            {**schema, "components": operation.components},
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        error = best_match(validator.iter_errors(value))  # the deepest, for anyOf/oneOf
        if error is None:
            return None
        where = "/".join(map(str, error.absolute_path)) or "(root)"
        return f"{operation.document}: {method} {path} {status} at {where}: {error.message}"


class ConformingAnswers:
    """ASGI middleware: JSON answers that violate the API files become a 500 saying why."""

    def __init__(self, app: ASGIApp, specs_dir: Path | None) -> None:
        self.app = app
        try:
            self.check: AnswerCheck | None = AnswerCheck(specs_dir)
        except SpecMissing:
            self.check = None  # checked where the API files are available (tests, demo)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.check is None:
            await self.app(scope, receive, send)
            return
        check = self.check
        start: Message | None = None
        body: list[bytes] = []

        async def held(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                media = headers.get(b"content-type", b"").decode().split(";")[0]
                if media not in _JSON:
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            content = b"".join(body)
            headers = dict(start.get("headers") or [])
            violation = check.problem(
                scope["method"],
                scope["path"],
                start["status"],
                headers.get(b"content-type", b"").decode(),
                content,
            )
            if violation is not None:
                content = json.dumps(
                    {
                        "type": "about:blank",
                        "title": "Simulator answer violates the API file",
                        "status": 500,
                        "detail": violation,
                    }
                ).encode()
                start = {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(content)).encode()),
                    ],
                }
            await send(start)
            await send({"type": "http.response.body", "body": content})

        await self.app(scope, receive, held)
