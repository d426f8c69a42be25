"""The pages of the reference portal: catalogue, form, files, identification, fee, status.

The order of steps is the one every portal on the gateway follows: create a draft (form and
applicant), upload files, identify when the offer asks for it (redeem the one-time code with
the draft's id), submit, pay the fee when it must be paid before the office gets the case,
then show status and receipt.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile

from ozg_gateway.refportal import forms
from ozg_gateway.refportal.api import ApiProblem, GatewayApi

HERE = Path(__file__).parent
CHANNELS = {"online": "Online-Antrag", "pdf": "PDF-Formular", "hybrid": "Online oder als PDF"}


def create_portal(
    *, api_url: str, portal_key: str, public_url: str, eid_client_url: str
) -> FastAPI:
    """The portal app; mount it at the path of ``public_url`` (e.g. ``/demo/portal``).

    ``api_url``: the gateway's API (server to server); ``public_url``: where browsers reach
    this portal (return addresses); ``eid_client_url``: the eID-Client to start with a TC
    Token URL (the AusweisApp's ``http://127.0.0.1:24727/eID-Client`` in real life).
    """
    app = FastAPI(title="Digitales Rathaus", docs_url=None, redoc_url=None, openapi_url=None)
    api = GatewayApi(api_url, portal_key)
    templates = Jinja2Templates(directory=HERE / "templates")
    base = public_url.rstrip("/")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request, f"{name}.html", {"base": base, **values}, status_code=status
        )

    def trouble(request: Request, problem: ApiProblem) -> HTMLResponse:
        return page(request, "problem", status=problem.status, problem=problem)

    @app.get("/", response_class=HTMLResponse)
    async def catalogue(request: Request) -> HTMLResponse:
        listing = await api.json("GET", "/v1/services")
        return page(
            request,
            "catalogue",
            title="Leistungen",
            municipality=listing["municipality"]["name"],
            offers=listing["items"],
            channels=CHANNELS,
        )

    async def render_form(
        request: Request,
        service: Mapping[str, Any],
        *,
        values: Mapping[str, str],
        errors: list[dict[str, str]],
        draft: str = "",
        status: int = 200,
    ) -> HTMLResponse:
        named = forms.errors_by_name(errors)
        form = forms.build(
            service["form_schema"], "form", "Ihre Angaben", values=values, errors=named
        )
        contact = forms.build(
            service["applicant_schema"],
            "applicant",
            "Ihre Kontaktdaten",
            values=values,
            errors=named,
        )
        shown = forms.leaves(contact) + forms.leaves(form)
        known = {item.name for item in shown}
        other = [text for name, text in named.items() if name not in known]
        return page(
            request,
            "form",
            status=status,
            title=service["title"],
            service=service,
            form=form,
            contact=contact,
            summary=shown,
            other_errors=other,
            draft=draft,
        )

    @app.get("/antrag/{service_id}", response_class=HTMLResponse)
    async def form_page(request: Request, service_id: str) -> HTMLResponse:
        try:
            service = await api.json("GET", f"/v1/services/{service_id}")
        except ApiProblem as problem:
            return trouble(request, problem)
        return await render_form(request, service, values={}, errors=[])

    @app.post("/antrag/{service_id}", response_model=None)
    async def send_form(request: Request, service_id: str) -> Response:
        service = await api.json("GET", f"/v1/services/{service_id}")
        posted = await request.form()
        fields = {k: v for k, v in posted.items() if isinstance(v, str)}
        files = {k: v for k, v in posted.items() if isinstance(v, UploadFile) and v.filename}
        form_data = forms.parse(service["form_schema"], "form", fields) or {}
        applicant = forms.parse(service["applicant_schema"], "applicant", fields) or None
        draft = fields.get("draft", "")
        try:
            if draft:
                body = {"form_data": form_data, "applicant": applicant}
                await api.call("PATCH", f"/v1/submissions/{draft}", json=body)
            else:
                body = {"service_id": service_id, "form_data": form_data, "applicant": applicant}
                draft = (await api.json("POST", "/v1/submissions", json=body))["id"]
            for purpose, upload in files.items():
                await api.call(
                    "POST",
                    f"/v1/submissions/{draft}/attachments",
                    files={"file": (upload.filename, await upload.read(), upload.content_type)},
                    data={"purpose": purpose.removeprefix("datei.")},
                )
        except ApiProblem as problem:
            return await render_form(
                request, service, values=fields, errors=problem.errors, draft=draft, status=422
            )
        return await proceed(request, service, draft, values=fields)

    async def proceed(
        request: Request, service: Mapping[str, Any], draft: str, *, values: Mapping[str, str]
    ) -> Response:
        """Identify if needed, submit, pay if needed, then the status page."""
        state = await api.json("GET", f"/v1/submissions/{draft}")
        if state["status"] == "draft":
            if state["identification"]["status"] == "missing":
                return RedirectResponse(f"{base}/identifizierung/{draft}", status_code=303)
            try:
                state = await api.json("POST", f"/v1/submissions/{draft}/submit")
            except ApiProblem as problem:
                if not service.get("form_schema") or not values:
                    return trouble(request, problem)
                return await render_form(
                    request, service, values=values, errors=problem.errors, draft=draft, status=422
                )
        unpaid = state["fee"]["status"] in ("due", "open", "failed", "canceled", "expired")
        if unpaid and state["fee"]["pay_before_delivery"]:
            return RedirectResponse(f"{base}/bezahlen/{draft}", status_code=303)
        return RedirectResponse(f"{base}/vorgang/{draft}", status_code=303)

    @app.get("/identifizierung/{draft}", response_class=HTMLResponse)
    async def identify_page(request: Request, draft: str) -> HTMLResponse:
        state = await api.json("GET", f"/v1/submissions/{draft}")
        service = await api.json("GET", f"/v1/services/{state['service_id']}")
        return page(request, "identify", title="Identifizierung", service=service, draft=draft)

    @app.post("/identifizierung/{draft}", response_model=None)
    async def identify(request: Request, draft: str) -> Response:
        state = await api.json("GET", f"/v1/submissions/{draft}")
        method = str((await request.form()).get("method") or "eid-server")
        try:
            started = await api.json(
                "POST",
                "/v1/identifications",
                json={
                    "service_id": state["service_id"],
                    "return_url": f"{base}/identifiziert/{draft}",
                    "method": method if method in ("eid-server", "bundid") else "eid-server",
                },
            )
        except ApiProblem as problem:
            return trouble(request, problem)
        if started["method"] == "bundid":  # the gateway's page posts on to BundID
            return RedirectResponse(started["login_url"], status_code=303)
        target = f"{eid_client_url}?{urlencode({'tcTokenURL': started['tc_token_url']})}"
        return RedirectResponse(target, status_code=303)

    @app.get("/identifiziert/{draft}", response_model=None)
    async def identified(request: Request, draft: str) -> Response:
        params = request.query_params
        if params.get("error") or not params.get("code"):
            state = await api.json("GET", f"/v1/submissions/{draft}")
            service = await api.json("GET", f"/v1/services/{state['service_id']}")
            return page(
                request,
                "identify",
                status=400,
                title="Identifizierung",
                draft=draft,
                service=service,
                failed=True,
            )
        try:
            await api.call(
                "POST",
                f"/v1/identifications/{params['identification']}/redeem",
                json={"code": params["code"], "submission_id": draft},
            )
        except ApiProblem as problem:
            return trouble(request, problem)
        state = await api.json("GET", f"/v1/submissions/{draft}")
        service = await api.json("GET", f"/v1/services/{state['service_id']}")
        return await proceed(request, service, draft, values={})

    @app.get("/bezahlen/{sid}", response_class=HTMLResponse)
    async def pay_page(request: Request, sid: str) -> HTMLResponse:
        state = await api.json("GET", f"/v1/submissions/{sid}")
        return page(request, "pay", title="Gebühr bezahlen", state=state)

    @app.post("/bezahlen/{sid}", response_model=None)
    async def pay(request: Request, sid: str) -> Response:
        try:
            payment = await api.json(
                "POST",
                f"/v1/submissions/{sid}/payment",
                json={"return_url": f"{base}/vorgang/{sid}"},
            )
        except ApiProblem as problem:
            return trouble(request, problem)
        return RedirectResponse(payment["paypage_url"], status_code=303)

    @app.get("/vorgang/{sid}", response_class=HTMLResponse)
    async def status(request: Request, sid: str) -> HTMLResponse:
        try:
            state = await api.json("GET", f"/v1/submissions/{sid}")
        except ApiProblem as problem:
            return trouble(request, problem)
        service = await api.json("GET", f"/v1/services/{state['service_id']}")
        return page(request, "status", title="Ihr Antrag", state=state, service=service)

    @app.get("/vorgang/{sid}/eingangsbestaetigung.pdf", response_model=None)
    async def receipt(request: Request, sid: str) -> Response:
        try:
            pdf = await api.call("GET", f"/v1/submissions/{sid}/receipt.pdf")
        except ApiProblem as problem:
            return trouble(request, problem)
        return Response(pdf.content, media_type="application/pdf")

    @app.get("/vorgang/{sid}/dokument/{number}", response_model=None)
    async def office_document(request: Request, sid: str, number: int) -> Response:
        """A notice the office sent with a status step, fetched with the portal's key."""
        try:
            pdf = await api.call("GET", f"/v1/submissions/{sid}/documents/{number}")
        except ApiProblem as problem:
            return trouble(request, problem)
        disposition = pdf.headers.get("content-disposition", "attachment")
        return Response(
            pdf.content,
            media_type="application/pdf",
            headers={"Content-Disposition": disposition},
        )

    @app.get("/pdf/{service_id}", response_class=HTMLResponse)
    async def pdf_page(request: Request, service_id: str) -> HTMLResponse:
        service = await api.json("GET", f"/v1/services/{service_id}")
        return page(request, "pdf", title=service["title"], service=service, errors=[])

    @app.get("/pdf/{service_id}/formular.pdf", response_model=None)
    async def pdf_download(service_id: str) -> Response:
        pdf = await api.call("GET", f"/v1/services/{service_id}/form.pdf")
        return Response(
            pdf.content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{service_id}.pdf"'},
        )

    @app.post("/pdf/{service_id}", response_model=None)
    async def pdf_upload(request: Request, service_id: str) -> Response:
        service = await api.json("GET", f"/v1/services/{service_id}")
        posted = await request.form()
        upload = posted.get("datei")
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors = [{"detail": "Bitte das ausgefüllte PDF auswählen."}]
            return page(
                request, "pdf", status=422, title=service["title"], service=service, errors=errors
            )
        try:
            draft = await api.json(
                "POST",
                "/v1/submissions/pdf",
                params={"draft": "true"},
                files={"file": (upload.filename, await upload.read(), "application/pdf")},
            )
        except ApiProblem as problem:
            errors = problem.errors or [{"detail": problem.detail}]
            return page(
                request, "pdf", status=422, title=service["title"], service=service, errors=errors
            )
        return await proceed(request, service, draft["id"], values={})

    return app
