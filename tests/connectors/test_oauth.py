"""The token cache against token endpoints a simulator does not misbehave like (respx)."""

from __future__ import annotations

import httpx
import pytest
import respx

from ozg_gateway.connectors.oauth import OAuth2, TokenCache
from ozg_gateway.errors import ConnectorAuthError, TransientError

TOKEN_URL = "https://idp.example/token"


def _cache() -> TokenCache:
    settings = OAuth2(token_url=TOKEN_URL, client_id="c", client_secret="s")
    return TokenCache(settings, httpx.Client())


@respx.mock
def test_a_brief_5xx_of_the_token_endpoint_is_retried_in_process() -> None:
    route = respx.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(200, json={"access_token": "t1", "expires_in": 300}),
        ]
    )
    assert _cache().bearer() == "t1"
    assert route.call_count == 2


@respx.mock
def test_a_token_endpoint_that_stays_down_is_transient_not_an_auth_error() -> None:
    route = respx.post(TOKEN_URL).mock(return_value=httpx.Response(502))
    with pytest.raises(TransientError):
        _cache().bearer()
    assert route.call_count == 3  # bounded


@respx.mock
def test_refused_credentials_are_an_auth_error_at_once() -> None:
    route = respx.post(TOKEN_URL).mock(return_value=httpx.Response(401))
    with pytest.raises(ConnectorAuthError):
        _cache().bearer()
    assert route.call_count == 1


@respx.mock
@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, content=b"<html>maintenance</html>"),
        httpx.Response(200, json={"token_type": "Bearer"}),
        httpx.Response(200, json=["not", "an", "object"]),
    ],
)
def test_malformed_token_answers_are_transient(answer: httpx.Response) -> None:
    respx.post(TOKEN_URL).mock(return_value=answer)
    with pytest.raises(TransientError):
        _cache().bearer()


@respx.mock
def test_a_connection_reset_mid_answer_is_transient() -> None:
    respx.post(TOKEN_URL).mock(side_effect=httpx.ReadError("connection reset by peer"))
    with pytest.raises(TransientError):
        _cache().bearer()
