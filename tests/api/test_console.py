"""Admin console over HTTP: sessions, CSRF, audit, every page, no personal data."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from ozg_gateway.store.models import AuditEntry, ConsoleSession
from tests.conftest import ADMIN_KEY, BACKOFFICE_KEY, PORTAL_KEY, Api, FrozenClock
from tests.factories import form

PAGES = (
    "/admin/",
    "/admin/zustellungen",
    "/admin/probleme",
    "/admin/eingang",
    "/admin/zahlungen",
    "/admin/identifizierungen",
    "/admin/katalog",
    "/admin/protokoll",
)


def _login(http: TestClient, key: str = ADMIN_KEY) -> str:
    r = http.post("/admin/anmelden", data={"key": key, "weiter": "/admin/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(r.headers["set-cookie"])


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def test_pages_need_a_session_and_send_the_browser_to_the_login(api: Api) -> None:
    for path in PAGES:
        r = api.http.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/admin/anmelden?weiter=%2Fadmin%2F")
    login = api.http.get("/admin/anmelden")
    assert login.status_code == 200
    assert 'lang="de"' in login.text
    assert "Administrator-Schlüssel" in login.text


def test_only_admin_keys_open_a_session_with_a_strict_cookie(api: Api) -> None:
    for key in (PORTAL_KEY, BACKOFFICE_KEY, "wrong"):
        r = api.http.post("/admin/anmelden", data={"key": key}, follow_redirects=False)
        assert r.status_code == 401
        assert "gehört zu keinem Administrator" in r.text
    cookie = _login(api.http)
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/admin" in cookie
    assert "Secure" not in cookie  # served over http in tests; https sets Secure


def test_every_page_renders_for_a_signed_in_admin_without_personal_data(api: Api) -> None:
    r = api.http.post(
        "/v1/submissions",
        json={
            "service_id": "aem-meldung",
            "form_data": form("aem-meldung"),
            "applicant": {"family_name": "Zwetschgenbaum", "email": "zwetschge@example.org"},
            "submit": True,
        },
        headers=api.portal,
    )
    assert r.status_code == 201, r.text
    _login(api.http)
    for path in PAGES:
        page = api.http.get(path)
        assert page.status_code == 200, (path, page.text)
        assert "Zwetschgenbaum" not in page.text
        assert "zwetschge@" not in page.text
        assert '<script src="http' not in page.text  # local assets only
    deliveries = api.http.get(
        "/admin/zustellungen", params={"vorgang": r.json()["case"]["case_number"]}
    )
    assert r.json()["case"]["case_number"] in deliveries.text
    detail_link = re.search(r'href="(/admin/zustellungen/[^"]+)"', deliveries.text)
    assert detail_link
    detail = api.http.get(detail_link.group(1))
    assert detail.status_code == 200
    assert "Versuche" in detail.text
    assert api.http.get("/admin/static/console.css").status_code == 200


def test_state_changes_need_the_csrf_token_and_are_audited(api: Api, ctx: object) -> None:
    _login(api.http)
    refused = api.http.post("/admin/abmelden", data={})
    assert refused.status_code == 403
    assert "Formular ist abgelaufen" in refused.text
    foreign = api.http.post(
        "/admin/abmelden",
        data={"csrf": _csrf(api.http.get("/admin/").text)},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    out = api.http.post(
        "/admin/abmelden",
        data={"csrf": _csrf(api.http.get("/admin/").text)},
        follow_redirects=False,
    )
    assert out.status_code == 303
    assert api.http.get("/admin/", follow_redirects=False).status_code == 303  # the session ended
    with ctx.db.reading() as session:  # type: ignore[attr-defined]
        actions = [e.action for e in session.query(AuditEntry).order_by(AuditEntry.id)]
        assert actions[-2:] == ["console.login", "console.logout"]
        assert all(
            e.actor == "admin"
            for e in session.query(AuditEntry).filter(AuditEntry.action.like("console.%"))
        )


def test_sessions_end_after_the_idle_time(api: Api, clock: FrozenClock, ctx: object) -> None:
    _login(api.http)
    assert api.http.get("/admin/", follow_redirects=False).status_code == 200
    clock.advance(minutes=29)
    assert api.http.get("/admin/", follow_redirects=False).status_code == 200  # renewed
    clock.advance(minutes=31)
    assert api.http.get("/admin/", follow_redirects=False).status_code == 303
    with ctx.db.reading() as session:  # type: ignore[attr-defined]
        (row,) = session.query(ConsoleSession).all()
        assert row.ended_at is not None
        assert len(row.token_hash) == 64  # only the hash is stored


def test_sessions_end_after_the_absolute_lifetime(api: Api, clock: FrozenClock) -> None:
    _login(api.http)
    for _ in range(17):  # active every 29 minutes, for more than 8 hours
        clock.advance(minutes=29)
        last = api.http.get("/admin/", follow_redirects=False)
    assert last.status_code == 303


def test_login_redirects_only_inside_the_console(api: Api) -> None:
    r = api.http.post(
        "/admin/anmelden",
        data={"key": ADMIN_KEY, "weiter": "https://evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/admin/"
