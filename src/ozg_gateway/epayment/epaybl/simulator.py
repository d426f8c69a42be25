"""An ePayBL REST connector for tests and the demo: Buchungslisten, Kassenzeichen, a paypage
that sends the signed notification."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ozg_gateway.epayment.epaybl.mapping import NOTIFICATION_FIELDS, notification_hash


def create_epaybl_simulator(
    *,
    secret: str,
    mandant: str = "m1",
    bewirtschafter: str = "b1",
    duplicate_notifications: bool = False,
) -> FastAPI:
    """ePayBL REST connector with a paypage; paying sends the signed notification.

    Sent notifications are kept in ``app.state.notifications`` (tests replay or tamper them);
    delivery to ``notifyUrl`` is best effort, as with the real service.
    """

    app = FastAPI(title="ePayBL simulator", docs_url=None, redoc_url=None, openapi_url=None)
    root = f"/epayment/fachverfahren/v1_0/mandanten/{mandant}/bewirtschafter/{bewirtschafter}"
    accounts: dict[str, dict[str, Any]] = {}
    app.state.accounts = accounts
    app.state.notifications = notifications = []
    ok = {"ergebnis": {"rc": "+0000", "text": "OK"}}

    @app.get(f"{root}/status")
    async def status() -> dict[str, Any]:
        return ok

    @app.get(f"{root}/zahlverfahren")
    async def methods() -> dict[str, Any]:
        return {**ok, "zahlverfahren": [{"code": "KREDITKARTE", "min": "0.01", "max": "10000.00"}]}

    @app.post(f"{root}/buchungslisten")
    async def create(request: Request) -> dict[str, Any]:
        body = await request.json()
        total = sum(Decimal(str(b["bruttobetrag"])) for b in body["buchungen"])
        if total != Decimal(str(body["betrag"])) or any(
            len(b["buchungstext"]) > 21 for b in body["buchungen"]
        ):
            return {"ergebnis": {"rc": "-0102", "text": "Buchungsdaten fehlerhaft"}}
        kz = f"KZ{len(accounts) + 1:010d}"
        accounts[kz] = {"body": body, "saldo": total, "paypage": "AKTIV", "total": total}
        base = str(request.base_url).rstrip("/")
        paypage = f"{base}/paypage/{kz}"
        return {
            **ok,
            "kassenzeichen": kz,
            "zahlvorgangsInfo": {"rechnungUrls": {"PAYPAGE": paypage}},
        }

    @app.get(f"{root}/kassenzeichen/{{kz}}")
    async def account(kz: str) -> dict[str, Any]:
        acc = accounts.get(kz)
        if acc is None:
            return {"ergebnis": {"rc": "-0404", "text": "unbekannt"}}
        return {
            **ok,
            "zusatzdaten": {
                "paypagestatus": acc["paypage"],
                "saldo": str(acc["saldo"]),
                "bezahlverfahren": acc.get("method"),
            },
        }

    @app.get("/paypage/{kz}", response_class=HTMLResponse)
    async def paypage(kz: str) -> HTMLResponse:
        acc = accounts.get(kz)
        if acc is None:
            return HTMLResponse("<h1>Unbekannt</h1>", status_code=404)
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>ePayBL Bezahlseite (Simulator)</title>"
            f"<h1>ePayBL (Simulator)</h1><p>Kassenzeichen {kz}: {acc['total']:.2f} EUR</p>"
            f"<form method=post action='{kz}/pay'><button>Bezahlen</button></form>"
            f"<form method=post action='{kz}/cancel'><button>Abbrechen</button></form>"
        )

    @app.post("/paypage/{kz}/{action}")
    async def decide(kz: str, action: str) -> Response:
        acc = accounts.get(kz)
        if acc is None or acc["paypage"] != "AKTIV":
            return HTMLResponse("<h1>Nicht möglich</h1>", status_code=409)
        urls = acc["body"]["fachverfahrendaten"]
        acc["paypage"] = "INAKTIV"
        if action == "pay":
            acc["saldo"], acc["method"] = Decimal("0"), "KREDITKARTE"
            fields = dict(
                zip(
                    NOTIFICATION_FIELDS,
                    (
                        mandant,
                        bewirtschafter,
                        f"zvg-{kz}",
                        kz,
                        "123456",
                        "zvp-1",
                        "KREDITKARTE",
                        "1",
                        "BEZAHLT",
                    ),
                    strict=True,
                )
            )
            fields["hash"] = notification_hash(fields, secret)
            notifications.append(fields)
            for _ in range(2 if duplicate_notifications else 1):
                try:
                    async with httpx.AsyncClient(timeout=2) as client:
                        await client.post(urls["notifyUrl"], data=fields)
                except httpx.HTTPError:
                    pass  # best effort: the gateway also polls
        return RedirectResponse(
            urls["successUrl" if action == "pay" else "cancelUrl"], status_code=303
        )

    return app
