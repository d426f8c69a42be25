"""The demo's composition: Maintal example settings, fixed demo keys, simulators mounted.

Everything the demo needs travels in one :class:`DemoSetup` (no module globals), so the CLI
command only creates a data directory, calls these functions and serves.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from fastapi import FastAPI

from ozg_gateway.config import DEMO_ADMIN_KEY, Settings, demo_overrides, load_settings
from ozg_gateway.connectors.smtp.simulator import Mailbox, create_mail_viewer, start_plain_smtp
from ozg_gateway.context import GatewayContext
from ozg_gateway.eid.bundid.simulator import DemoKeys, create_bundid_simulator
from ozg_gateway.eid.bundid.simulator import demo_keys as bundid_demo_keys
from ozg_gateway.eid.wssec import SigningKey
from ozg_gateway.store import clients
from ozg_gateway.store.clients import Role

DEMO_KEYS = {Role.portal: "demo-portal-key", Role.backoffice: "demo-backoffice-key"}
DEMO_EPAY_USER, DEMO_EPAY_PASSWORD = "maintal-demo", "demo-epay-password"
DEMO_IDP_ENTITY = "https://demo.id.bund.de/idp"
DEMO_SP_ENTITY = "https://maintal.example/ozg-gateway"  # https, no port: BundID's rule
DEMO_STATUS_SECRET = "whsec_bWFpbnRhbC1kZW1vLXN0YXR1cy1zZWNyZXQtMDAwMDE="  # noqa: S105 - demo only


@dataclass(frozen=True)
class DemoSetup:
    """Settings of one demo run and the eID keys its simulator signs with."""

    settings: Settings
    base: str
    data_dir: Path
    eid_server: SigningKey
    eid_gateway: SigningKey
    smtp_port: int
    mailbox: Mailbox
    bundid: DemoKeys


def example_config() -> Path | None:
    """``examples/maintal/config.toml`` next to the working directory or the checkout."""
    here = Path(__file__).resolve()
    for base in (Path.cwd(), *here.parents):
        candidate = base / "examples" / "maintal" / "config.toml"
        if candidate.is_file():
            return candidate
    return None


def prepare(*, config: Path, data_dir: Path, base: str) -> DemoSetup:
    """Demo settings: the example configuration plus an eID-Server simulator with fresh keys."""
    from ozg_gateway.eid.simulator import demo_keys

    file_settings = load_settings(config, **demo_overrides(data_dir))
    eid_server, eid_gateway, eid_files = demo_keys(data_dir / "eid")
    smtp_port = _free_port()
    bundid = bundid_demo_keys(data_dir / "bundid")
    connectors: dict[str, Any] = {
        **file_settings.connectors,
        # Status e-mails go to an SMTP server the demo runs on loopback (shown at /demo/mail),
        # status webhooks to the demo portal's receiver (shown at /demo/portal-events).
        "mail": {
            "type": "smtp",
            "host": "127.0.0.1",
            "port": smtp_port,
            "starttls": False,
            "sender": "noreply@maintal.de",
            "sender_name": "Stadt Maintal",
        },
        "portal-status": {"type": "status-webhook", "secrets": [DEMO_STATUS_SECRET]},
        # BundID: the demo's identity provider (simulator) at /demo/bundid, fresh keys per run.
        "bundid": {
            "type": "bundid",
            "sso_url": "{public_base_url}/demo/bundid/sso",
            "idp_entity_id": DEMO_IDP_ENTITY,
            "idp_certificates": [bundid.files["idp_cert"]],
            "entity_id": DEMO_SP_ENTITY,
            "signing_key": bundid.files["signing_key"],
            "signing_certificate": bundid.files["signing_cert"],
            "encryption_key": bundid.files["encryption_key"],
            "encryption_certificate": bundid.files["encryption_cert"],
            "organization_display_name": "Stadt Maintal",
            "online_service_id": "BMI-A-06435019-0001",
        },
        "eid-server": {
            "type": "eid",
            "url": "{public_base_url}/demo/eid/eid",
            "signing_key": eid_files["gateway_key"],
            "signing_certificate": eid_files["gateway_cert"],
            "server_certificate": eid_files["server_cert"],
        },
    }
    settings = load_settings(
        config,
        **demo_overrides(data_dir),
        public_base_url=base,
        connectors=connectors,
        eid_server="eid-server",
        bundid="bundid",
        mail_notifier="mail",
        status_notifier="portal-status",
    )
    return DemoSetup(
        settings, base, data_dir, eid_server, eid_gateway, smtp_port, Mailbox(), bundid
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_mail(setup: DemoSetup) -> Controller:
    """The demo's SMTP server (loopback, no TLS); stop it when the demo ends."""
    return start_plain_smtp(port=setup.smtp_port, box=setup.mailbox)


def seed_clients(ctx: GatewayContext, setup: DemoSetup) -> None:
    """The demo's portal and back-office clients with their fixed keys."""
    with ctx.db.writing() as session:
        for role, key in DEMO_KEYS.items():
            clients.add_client(
                session,
                client_id=f"demo-{role.value}",
                name=f"Demo {role.value}",
                role=role,
                now=ctx.clock(),
                key=key,
                return_urls=[f"{setup.base}/"] if role == Role.portal else None,
                allow_loopback_http=True,
                status_url=f"{setup.base}/demo/portal-events/webhook"
                if role == Role.portal
                else None,
            )


def banner(setup: DemoSetup) -> str:
    """What the demo prints: where everything is, and one key per role."""
    base = setup.base
    xta_line = (
        f"  XTA server:   {base}/demo/xta/  (simulator; Kita cases go to civento's mailbox)\n"
        if setup.settings.specs_features()["xta_simulator"]
        else "  XTA server:   not started (the simulator needs the specs directory)\n"
    )
    keys = "".join(f"{role.value} key: {key}\n" for role, key in DEMO_KEYS.items())
    return (
        "\nozg-gateway demo (Stadt Maintal)\n"
        f"  API docs:     {base}/docs\n"
        f"  catalogue:    {base}/v1/services\n"
        f"  portal:       {base}/demo/portal/  (Digitales Rathaus: the reference portal)\n"
        f"  back office:  {base}/demo/backoffice/  (demo receiver: watch cases arrive)\n"
        f"  paypage:      {base}/demo/epay/  (XBezahldienste simulator, opened by payments)\n"
        f"  eID-Client:   {base}/demo/eid/client?tcTokenURL=…  (scripted, instead of AusweisApp)\n"
        f"  BundID:       {base}/demo/bundid/  (identity provider simulator, SAML 2.0)\n"
        f"  status hooks: {base}/demo/portal-events/  (the portal's signed status webhooks)\n"
        f"  mail:         {base}/demo/mail/  (status e-mails to applicants, via SMTP)\n"
        + xta_line
        + f"  console:      {base}/admin/  (operations console: sign in with the admin key)\n"
        f"  connectors:   {base}/v1/admin/connectors  (admin key)\n"
        f"  ready:        {base}/readyz\n"
        f"  data dir:     {setup.data_dir}\n\n"
        f"{keys}admin key: {DEMO_ADMIN_KEY}\n"
    )


def mount(api: FastAPI, setup: DemoSetup) -> None:
    """Mount the demo back office and the simulators of payment, eID and XTA."""
    from ozg_gateway.connectors.webhook.simulator import create_receiver
    from ozg_gateway.eid.simulator import create_eid_simulator
    from ozg_gateway.epayment.xbezahldienste.simulator import create_simulator

    settings = setup.settings
    secrets: list[str] = []
    for raw in settings.connectors.values():
        if raw.get("type") == "webhook" and "/demo/backoffice/" in str(raw.get("url")):
            secrets.extend(raw.get("secrets", []))
    api.mount("/demo/backoffice", create_receiver(sorted(set(secrets))))
    api.mount("/demo/portal-events", create_receiver([DEMO_STATUS_SECRET]))
    api.mount("/demo/mail", create_mail_viewer(setup.mailbox))
    api.mount(
        "/demo/bundid",
        create_bundid_simulator(
            idp=setup.bundid.idp,
            entity_id=DEMO_IDP_ENTITY,
            sp_signing=setup.bundid.signing.certificate,
            sp_encryption=setup.bundid.encryption.certificate,
            sp_entity_id=DEMO_SP_ENTITY,
            specs_dir=settings.specs_dir,
        ),
    )
    api.mount("/demo/epay", create_simulator(username=DEMO_EPAY_USER, password=DEMO_EPAY_PASSWORD))
    api.mount(
        "/demo/eid",
        create_eid_simulator(
            server=setup.eid_server, client_certificate=setup.eid_gateway.certificate
        ),
    )
    from ozg_gateway.refportal import create_portal

    api.mount(
        "/demo/portal",
        create_portal(
            api_url=setup.base,
            portal_key=DEMO_KEYS[Role.portal],
            public_url=f"{setup.base}/demo/portal",
            eid_client_url=f"{setup.base}/demo/eid/client",
        ),
    )
    if settings.specs_features()["xta_simulator"] and settings.specs_dir is not None:
        from ozg_gateway.xta.simstore import XtaState
        from ozg_gateway.xta.simulator import create_xta_simulator

        state = XtaState(settings.data_dir / "xta-simulator")
        api.mount("/demo/xta", create_xta_simulator(settings.specs_dir, state))
