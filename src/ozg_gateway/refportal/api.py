"""The gateway's REST API as the portal uses it (HTTP only, with the portal's key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class ApiProblem(Exception):
    """A problem+json answer: status, German detail and field errors with pointers."""

    status: int
    detail: str
    errors: list[dict[str, str]]


class GatewayApi:
    """Thin async client; every call raises :class:`ApiProblem` on a problem answer."""

    def __init__(
        self, base_url: str, key: str, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
            transport=transport,
        )

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a problem answer becomes :class:`ApiProblem`."""
        response = await self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise ApiProblem(
                response.status_code,
                str(body.get("detail") or body.get("title") or "Die Anfrage ist fehlgeschlagen."),
                list(body.get("errors") or []),
            )
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request whose answer is JSON."""
        return (await self.call(method, path, **kwargs)).json()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()
