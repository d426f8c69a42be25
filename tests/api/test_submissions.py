"""Portal intake end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from ozg_gateway.context import GatewayContext
from ozg_gateway.store.models import Attachment, AuditEntry, Case, Submission
from tests.conftest import OTHER_PORTAL_KEY, Api
from tests.factories import JPEG_BYTES, PDF_BYTES, PNG_BYTES, aem_submission

PROBLEM = "application/problem+json"


def _counts(ctx: GatewayContext) -> tuple[int, int, int]:
    with ctx.db.reading() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(m)) for m in (Submission, Attachment, Case)
        )


def _create(api: Api, **overrides: object) -> str:
    r = api.http.post("/v1/submissions", json=aem_submission(**overrides), headers=api.portal)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_create_attach_submit_track(api: Api, ctx: GatewayContext) -> None:
    r = api.http.post("/v1/submissions", json=aem_submission(), headers=api.portal)
    assert r.status_code == 201
    sub = r.json()
    assert r.headers["location"] == f"/v1/submissions/{sub['id']}"
    assert sub["status"] == "draft"
    assert "form_data" not in sub  # personal data is not echoed

    up = api.http.post(
        f"/v1/submissions/{sub['id']}/attachments",
        files={"file": ("foto.png", PNG_BYTES, "application/octet-stream")},
        data={"purpose": "foto"},
        headers=api.portal,
    )
    assert up.status_code == 201, up.text
    att = up.json()
    assert att["content_type"] == "image/png"  # sniffed, not the declared type
    assert att["sha256"] == hashlib.sha256(PNG_BYTES).hexdigest()
    assert att["size"] == len(PNG_BYTES)
    assert att["purpose"] == "foto"

    done = api.http.post(f"/v1/submissions/{sub['id']}/submit", headers=api.portal)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "submitted"
    assert body["case"]["case_number"].startswith("MTL-2026-")
    assert [e["status"] for e in body["timeline"]] == ["created", "attachment_added", "submitted"]

    tracked = api.http.get(f"/v1/submissions/{sub['id']}", headers=api.portal).json()
    assert tracked == body

    with ctx.db.reading() as s:
        case = s.scalar(select(Case))
        assert case is not None
    doc = api.http.get(f"/v1/cases/{case.id}", headers=api.as_("test-backoffice-key")).json()
    assert doc["document"]["form"]["kategorie"] == "beleuchtung"
    assert doc["document"]["attachments"][0]["sha256"] == att["sha256"]
    assert doc["document"]["service"]["office"]["ags"] == "06435019"


def test_submit_in_one_call(api: Api) -> None:
    r = api.http.post("/v1/submissions", json=aem_submission(submit=True), headers=api.portal)
    assert r.status_code == 201
    assert r.json()["status"] == "submitted"
    assert r.json()["case"]["status"] == "received"


def test_portal_sees_only_its_own(api: Api) -> None:
    sid = _create(api)
    other = api.as_(OTHER_PORTAL_KEY)
    for response in (
        api.http.get(f"/v1/submissions/{sid}", headers=other),
        api.http.post(f"/v1/submissions/{sid}/submit", headers=other),
        api.http.post(
            f"/v1/submissions/{sid}/attachments",
            files={"file": ("a.pdf", PDF_BYTES)},
            headers=other,
        ),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM


def test_duplicate_submit_is_conflict_and_changes_nothing(api: Api, ctx: GatewayContext) -> None:
    sid = _create(api)
    assert api.http.post(f"/v1/submissions/{sid}/submit", headers=api.portal).status_code == 200
    again = api.http.post(f"/v1/submissions/{sid}/submit", headers=api.portal)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/conflict"
    assert _counts(ctx) == (1, 0, 1)
    late = api.http.post(
        f"/v1/submissions/{sid}/attachments",
        files={"file": ("a.pdf", PDF_BYTES)},
        headers=api.portal,
    )
    assert late.status_code == 409


def test_idempotency_key_replays_and_rejects_other_body(api: Api, ctx: GatewayContext) -> None:
    headers = {**api.portal, "Idempotency-Key": "k-1"}
    first = api.http.post("/v1/submissions", json=aem_submission(), headers=headers)
    second = api.http.post("/v1/submissions", json=aem_submission(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    other = api.http.post(
        "/v1/submissions", json=aem_submission(service_id="kita-anmeldung"), headers=headers
    )
    assert other.status_code == 409
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert _counts(ctx)[0] == 1
    # Keys are per client: another portal may use the same key.
    mine = api.http.post(
        "/v1/submissions",
        json=aem_submission(),
        headers={**api.as_(OTHER_PORTAL_KEY), "Idempotency-Key": "k-1"},
    )
    assert mine.status_code == 201
    assert mine.json()["id"] != first.json()["id"]


def test_idempotent_upload_and_submit(api: Api, ctx: GatewayContext) -> None:
    sid = _create(api)
    headers = {**api.portal, "Idempotency-Key": "up-1"}
    url = f"/v1/submissions/{sid}/attachments"
    a = api.http.post(url, files={"file": ("a.pdf", PDF_BYTES)}, headers=headers)
    b = api.http.post(url, files={"file": ("a.pdf", PDF_BYTES)}, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json() == b.json()
    c = api.http.post(url, files={"file": ("b.jpg", JPEG_BYTES)}, headers=headers)
    assert c.status_code == 409
    assert _counts(ctx)[1] == 1
    blob_files = [p for p in (ctx.settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert len(blob_files) == 1  # the replayed duplicate left no bytes behind

    sh = {**api.portal, "Idempotency-Key": "submit-1"}
    s1 = api.http.post(f"/v1/submissions/{sid}/submit", headers=sh)
    s2 = api.http.post(f"/v1/submissions/{sid}/submit", headers=sh)
    assert s1.status_code == s2.status_code == 200
    assert s1.json()["case"] == s2.json()["case"]


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        ({"service_id": "nope", "form_data": {"a": 1}}, 422, "/service_id"),
        ({"service_id": "hundesteuer-anmeldung", "form_data": {"a": 1}}, 422, "/service_id"),
        ({"service_id": "aem-meldung", "form_data": "text"}, 422, "/form_data"),
        ({"service_id": 7, "form_data": {}}, 422, "/service_id"),
        ({"form_data": {"a": 1}}, 422, "/service_id"),
        (
            {
                "service_id": "kita-anmeldung",
                "form_data": {"a": 1},
                "applicant": {"family_name": ""},
            },
            422,
            "/applicant/family_name",
        ),
        (
            {
                "service_id": "kita-anmeldung",
                "form_data": {"a": 1},
                "applicant": {"family_name": "X", "email": "no-mail"},
            },
            422,
            "/applicant/email",
        ),
        ({"service_id": "aem-meldung", "form_data": {"a": 1}, "surprise": 1}, 422, "/surprise"),
        ({"service_id": "kita-anmeldung", "form_data": {}, "submit": True}, 422, "/form_data/kind"),
        (
            {"service_id": "kita-anmeldung", "form_data": {"a": 1}, "submit": True},
            422,
            "/applicant",
        ),
    ],
)
def test_bad_input_is_problem_with_pointer(
    api: Api, ctx: GatewayContext, body: dict[str, object], status: int, pointer: str
) -> None:
    r = api.http.post("/v1/submissions", json=body, headers=api.portal)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["status"] == status
    assert pointer in [e["pointer"] for e in problem["errors"]]
    assert all(e["detail"] for e in problem["errors"])
    assert "no-mail" not in r.text  # offending values are never echoed
    assert _counts(ctx) == (0, 0, 0)


def test_malformed_json_and_wrong_content_type(api: Api, ctx: GatewayContext) -> None:
    bad = api.http.post(
        "/v1/submissions",
        content=b'{"service_id": ',
        headers={**api.portal, "Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    assert bad.json()["type"] == "/problems/malformed-request"
    assert _counts(ctx) == (0, 0, 0)


def test_upload_limits_and_sniffing(api: Api, ctx: GatewayContext) -> None:
    small = ctx.settings.model_copy(update={"max_attachment_bytes": 1000})
    ctx.settings = small
    sid = _create(api)
    url = f"/v1/submissions/{sid}/attachments"
    too_big = api.http.post(
        url, files={"file": ("big.pdf", PDF_BYTES + b"0" * 2000)}, headers=api.portal
    )
    assert too_big.status_code == 413
    exe = api.http.post(
        url,
        files={"file": ("x.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf")},
        headers=api.portal,
    )
    assert exe.status_code == 415
    empty = api.http.post(url, files={"file": ("e.pdf", b"")}, headers=api.portal)
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["pointer"] == "/file"
    no_file = api.http.post(url, files={"purpose": (None, "x")}, headers=api.portal)
    assert no_file.status_code == 422
    not_multipart = api.http.post(url, json={"file": "x"}, headers=api.portal)
    assert not_multipart.status_code == 415
    assert _counts(ctx) == (1, 0, 0)
    leftovers = [p for p in (ctx.settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert leftovers == []


def test_attachment_count_limit_and_delete(api: Api, ctx: GatewayContext) -> None:
    ctx.settings = ctx.settings.model_copy(update={"max_attachments_per_submission": 1})
    sid = _create(api)
    url = f"/v1/submissions/{sid}/attachments"
    first = api.http.post(url, files={"file": ("a.pdf", PDF_BYTES)}, headers=api.portal)
    assert (
        api.http.post(url, files={"file": ("b.pdf", PDF_BYTES)}, headers=api.portal).status_code
        == 409
    )
    gone = api.http.delete(f"{url}/{first.json()['id']}", headers=api.portal)
    assert gone.status_code == 204
    assert [p for p in (ctx.settings.data_dir / "blobs").rglob("*") if p.is_file()] == []
    assert (
        api.http.post(url, files={"file": ("b.pdf", PDF_BYTES)}, headers=api.portal).status_code
        == 201
    )


def test_patch_draft(api: Api) -> None:
    sid = _create(api)
    r = api.http.patch(
        f"/v1/submissions/{sid}", json={"form_data": {"art": "Anregung"}}, headers=api.portal
    )
    assert r.status_code == 200
    assert r.json()["timeline"][-1]["status"] == "updated"


def test_personal_data_encrypted_at_rest(api: Api, ctx: GatewayContext) -> None:
    sid = _create(api)
    api.http.post(
        f"/v1/submissions/{sid}/attachments",
        files={"file": ("Quaxenbrink_Ausweis.pdf", PDF_BYTES + b"Quaxenbrink")},
        headers=api.portal,
    )
    api.http.post(f"/v1/submissions/{sid}/submit", headers=api.portal)
    with ctx.db.reading() as s:
        raw = b"".join(
            bytes(v)
            for model in (Submission, Attachment, Case)
            for row in s.scalars(select(model))
            for v in vars(row).values()
            if isinstance(v, bytes)
        )
    assert raw
    assert b"Quaxenbrink" not in raw
    assert b"example.org" not in raw
    for path in (ctx.settings.data_dir / "blobs").rglob("*"):
        if path.is_file():
            assert b"Quaxenbrink" not in path.read_bytes()


def test_audit_trail_has_no_personal_data(api: Api, ctx: GatewayContext) -> None:
    _create(api, submit=True)
    r = api.http.get("/v1/admin/audit", headers=api.as_("test-admin-key-0123456789abcdef"))
    assert r.status_code == 200
    actions = [e["action"] for e in r.json()]
    assert actions == ["submission.submit", "submission.create"]
    assert "Quaxenbrink" not in r.text
    with ctx.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 2


def test_racing_retries_with_one_key_take_effect_once(ctx: GatewayContext) -> None:
    import threading

    from ozg_gateway.api.idempotency import run_idempotent
    from ozg_gateway.store import submissions as store

    barrier = threading.Barrier(4)
    results: list[int] = []

    def effect(session: object) -> tuple[int, object]:
        barrier.wait(timeout=5) if not ctx.db.is_sqlite else None
        sub = store.create_submission(
            session,  # type: ignore[arg-type]
            keyring=ctx.keyring,
            submission_id=ctx.ids(),
            client_id="portal-1",
            service_id="aem-meldung",
            form_data={"a": 1},
            applicant=None,
            now=ctx.clock(),
        )
        return 201, {"id": sub.id}

    def call() -> None:
        response = run_idempotent(
            ctx, client_id="portal-1", key="race", fingerprint="f", effect=effect
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [201] * 4
    assert _counts(ctx)[0] == 1


def test_four_problems_come_in_one_answer(api: Api, ctx: GatewayContext) -> None:
    body = aem_submission(ctx.today())
    body["form_data"]["kategorie"] = "gibt-es-nicht"  # a rule over the catalogue
    body["form_data"]["position"] = {"lat": 52.52, "lon": 13.40}  # a rule: not in Maintal
    body["form_data"]["beschreibung"] = "<script>x</script>"  # a field
    body["applicant"] = {"family_name": "Muster", "email": "keine-adresse"}  # the applicant
    body["submit"] = True
    r = api.http.post("/v1/submissions", json=body, headers=api.portal)
    assert r.status_code == 422, r.text
    problem = r.json()
    found = {e["pointer"]: e["detail"] for e in problem["errors"]}
    assert set(found) == {
        "/form_data/kategorie",
        "/form_data/position",
        "/form_data/beschreibung",
        "/applicant/email",
    }
    assert found["/applicant/email"] == "Keine gültige E-Mail-Adresse."
    assert found["/form_data/position"] == "Der Ort liegt außerhalb des Stadtgebiets."
    assert "strassenschaden" not in r.text  # labels, never ids
    assert problem["title"] == "Angaben unvollständig oder fehlerhaft"
    assert _counts(ctx) == (0, 0, 0)
