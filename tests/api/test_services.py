"""Catalogue API."""

from __future__ import annotations

from tests.conftest import Api, FrozenClock


def test_list_and_filter(api: Api) -> None:
    all_items = api.http.get("/v1/services").json()
    assert all_items["municipality"]["ags"] == "06435019"
    ids = [s["id"] for s in all_items["items"]]
    assert {"kita-anmeldung", "personenstandsurkunde", "hallenbelegung", "aem-meldung"} <= set(ids)
    pdf = api.http.get("/v1/services", params={"channel": "pdf"}).json()["items"]
    assert len(pdf) >= 2
    assert all(not s["accepts_online_submissions"] and s["pdf_form_url"] for s in pdf)
    new = api.http.get("/v1/services", params={"new": "true"}).json()["items"]
    assert {s["id"] for s in new} == {"hallenbelegung", "aem-meldung"}


def test_new_flag_follows_clock_and_window(api: Api, clock: FrozenClock) -> None:
    clock.advance(days=365)
    assert api.http.get("/v1/services", params={"new": "true"}).json()["items"] == []


def test_detail_has_form_schema_and_fee(api: Api) -> None:
    r = api.http.get("/v1/services/personenstandsurkunde")
    assert r.status_code == 200
    body = r.json()
    assert body["fee"] == {
        "amount_cents": 1200,
        "additional_copy_cents": 600,
        "currency": "EUR",
        "pay_before_delivery": True,
    }
    assert body["eid"] == {
        "mode": "required",
        "min_level": "substantial",
        "methods": ["eid-server", "bundid"],
        "description": "Vor dem Einreichen mit dem Online-Ausweis oder über BundID "
        "identifizieren (Vertrauensniveau substanziell).",
    }
    assert body["channel"] == "hybrid"
    assert body["form_schema"]["type"] == "object"
    assert body["applicant_schema"]["properties"]["family_name"]["title"] == "Familienname"
    kita = api.http.get("/v1/services/kita-anmeldung").json()
    assert kita["form_settings"]["einrichtungen"][0]["id"] == "kita-sonnenblume"
    wish = kita["form_schema"]["properties"]["wunscheinrichtungen"]["items"]
    assert wish["properties"]["einrichtung_id"]["oneOf"][0] == {
        "const": "kita-sonnenblume",
        "title": "Kita Sonnenblume",
    }
    assert [a["title"] for a in kita["attachment_purposes"]] == [
        "Nachweis der Tätigkeit",
        "Nachweis der Dringlichkeit",
        "Nachweis über den Masernschutz",
    ]
    assert kita["attachment_purposes"][0]["content_types"] == [
        "application/pdf",
        "image/jpeg",
        "image/png",
    ]
    halls = api.http.get("/v1/services/hallenbelegung").json()["form_schema"]["properties"]
    assert halls["hallenteil"]["x-choices-by"]["field"] == "halle_id"
    assert halls["hallenteil"]["x-choices-by"]["options"]["halle-sued"][1] == {
        "const": "haelfte-a",
        "title": "Hallenhälfte A",
    }
    assert api.http.get("/v1/services/hundesteuer-anmeldung").json()["form_schema"] is None


def test_unknown_service_and_bad_filter(api: Api) -> None:
    missing = api.http.get("/v1/services/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == "Das Angebot wurde nicht gefunden."
    bad = api.http.get("/v1/services", params={"channel": "fax"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "#query:channel"
    assert bad.json()["title"] == "Angaben unvollständig oder fehlerhaft"
    assert bad.json()["errors"][0]["detail"].startswith("Ungültiger Wert")
    nowhere = api.http.get("/v1/nowhere")
    assert nowhere.json()["detail"] == "Diese Adresse gibt es nicht."
    wrong = api.http.delete("/v1/services")
    assert wrong.json()["detail"] == "Diese Methode ist hier nicht erlaubt."
