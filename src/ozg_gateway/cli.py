"""Command line: ``ozg-gateway serve | worker | migrate | demo | clients | catalog | keys |
deliveries | connectors | …``."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import shutil
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, start_http_server

from ozg_gateway import demo as demo_setup
from ozg_gateway.background import background_jobs
from ozg_gateway.catalog import CatalogError, load_catalog
from ozg_gateway.cli_support import (
    ConfigOpt,
    HostOpt,
    PortOpt,
    context_from,
    fail,
    migrated_store,
    settings_from,
    store_from,
)
from ozg_gateway.config import (
    CONFIG_ENV,
    Settings,
    read_config_file,
)
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery.metrics import DeliveryMetrics
from ozg_gateway.delivery.worker import Worker
from ozg_gateway.errors import Problem
from ozg_gateway.logging import configure_logging, get_logger
from ozg_gateway.operate import connectors_app, deliveries_app
from ozg_gateway.runtime import system_clock, uuid_ids
from ozg_gateway.simulate import simulate_app
from ozg_gateway.store import clients as client_store
from ozg_gateway.store import migrate as migrations
from ozg_gateway.store.clients import Role
from ozg_gateway.store.rotation import rotate_keys

app = typer.Typer(help="ozg-gateway: OZG integration layer.", no_args_is_help=True)
clients_app = typer.Typer(help="API clients (portal, backoffice, admin).", no_args_is_help=True)
catalog_app = typer.Typer(help="Service catalogue.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys.", no_args_is_help=True)
forms_app = typer.Typer(help="PDF forms.", no_args_is_help=True)
payments_app = typer.Typer(help="Online payments.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(catalog_app, name="catalog")
app.add_typer(keys_app, name="keys")
app.add_typer(forms_app, name="forms")
app.add_typer(simulate_app, name="simulate")
app.add_typer(payments_app, name="payments")
app.add_typer(deliveries_app, name="deliveries")
app.add_typer(connectors_app, name="connectors")

log = get_logger("ozg_gateway.cli")


def _require_secrets(settings: Settings) -> None:
    problems = settings.secret_problems()
    if problems:
        raise fail("refusing to start:\n  " + "\n  ".join(problems))


def _preflight(ctx: GatewayContext) -> None:
    """Refuse an outdated schema; report spec gaps and broken connectors (others still run)."""
    if migrations.current_revision(ctx.db) != migrations.head_revision():
        raise fail("database schema is not current: run `ozg-gateway migrate`")
    missing = sorted(k for k, ok in ctx.settings.specs_features().items() if not ok)
    if missing:
        log.warning("specs directory incomplete; features disabled", missing=missing)
    for name, problems in ctx.connectors.errors.items():
        for problem in problems:
            typer.echo(f"connector {name} not started: {problem}", err=True)


def _serve(
    ctx: GatewayContext,
    host: str,
    port: int,
    *,
    with_worker: bool,
    app_hook: Callable[[FastAPI], None] | None = None,
) -> None:
    from ozg_gateway.api.app import create_app

    _preflight(ctx)
    log.info("starting", host=host, port=port, mode=ctx.settings.mode)
    api = create_app(ctx, with_worker=with_worker)
    if app_hook is not None:
        app_hook(api)
    uvicorn.run(api, host=host, port=port, log_config=None, access_log=False)


WithWorkerOpt = Annotated[
    bool, typer.Option("--with-worker", help="Also deliver cases and check connector health.")
]


@app.command()
def serve(
    config: ConfigOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    with_worker: WithWorkerOpt = False,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="API processes (several need PostgreSQL).")
    ] = 1,
) -> None:
    """Run the API server."""
    settings = settings_from(config)
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    _require_secrets(settings)
    if workers == 1:
        _serve(context_from(settings), host, port, with_worker=with_worker)
        return
    if settings.effective_database_url.startswith("sqlite"):
        raise fail("--workers above 1 needs PostgreSQL (database_url); SQLite has one writer")
    ctx = context_from(settings)
    _preflight(ctx)  # once, before the processes start
    ctx.close()
    from ozg_gateway.api.factory import WITH_WORKER_ENV

    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())
    os.environ[WITH_WORKER_ENV] = "1" if with_worker else "0"
    log.info("starting", host=host, port=port, mode=settings.mode, workers=workers)
    uvicorn.run(
        "ozg_gateway.api.factory:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )


@app.command()
def worker(
    config: ConfigOpt = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics of this worker on this port.")
    ] = None,
    worker_id: Annotated[str | None, typer.Option(help="Name in attempt records.")] = None,
) -> None:
    """Deliver due cases to push connectors and check connector health, until stopped."""
    settings = settings_from(config)
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    _require_secrets(settings)
    ctx = context_from(settings)
    _preflight(ctx)
    registry = CollectorRegistry()
    if metrics_port is not None:
        start_http_server(metrics_port, addr="127.0.0.1", registry=registry)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runner = Worker(ctx, ctx.connectors, worker_id=worker_id, metrics=DeliveryMetrics(registry))
        try:
            await asyncio.gather(*background_jobs(ctx, runner, stop))
        finally:
            await ctx.connectors.aclose()

    asyncio.run(main())
    ctx.close()


@app.command()
def migrate(config: ConfigOpt = None) -> None:
    """Create or upgrade the database schema."""
    store = store_from(settings_from(config))
    migrations.upgrade(store.db)
    typer.echo(f"database at revision {migrations.current_revision(store.db)}")
    store.close()


def _example_config() -> Path:
    found = demo_setup.example_config()
    if found is None:
        raise fail("examples/maintal/config.toml not found: pass --config")
    return found


@app.command()
def demo(
    config: ConfigOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    keep: Annotated[bool, typer.Option(help="Keep the temporary data directory.")] = False,
) -> None:
    """Start with the Maintal example, a temporary SQLite database and fixed demo keys."""
    data_dir = Path(tempfile.mkdtemp(prefix="ozg-gateway-demo-"))
    setup = demo_setup.prepare(
        config=config or _example_config(), data_dir=data_dir, base=f"http://{host}:{port}"
    )
    configure_logging(level=setup.settings.log_level, fmt="console")
    ctx = context_from(setup.settings)
    migrations.upgrade(ctx.db)
    demo_setup.seed_clients(ctx, setup)
    # uvicorn stops gracefully on SIGTERM and then raises the signal again; with the default
    # action that would end the process before the data directory is removed.
    previous = signal.signal(signal.SIGTERM, _exit_quietly)
    mail = None
    try:
        mail = demo_setup.start_mail(setup)
        typer.echo(demo_setup.banner(setup))  # last: everything it names is running
        _serve(ctx, host, port, with_worker=True, app_hook=lambda api: demo_setup.mount(api, setup))
    except KeyboardInterrupt:
        pass  # Ctrl+C is how a demo ends
    finally:
        signal.signal(signal.SIGTERM, previous)
        if mail is not None:
            mail.stop()
        ctx.close()
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            typer.echo(f"demo stopped; removed {data_dir}")


def _exit_quietly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


@clients_app.command("add")
def clients_add(
    name: str,
    role: Annotated[Role, typer.Option(help="portal, backoffice or admin")],
    offer: Annotated[
        list[str] | None, typer.Option(help="Limit a backoffice client to this offer (repeat).")
    ] = None,
    return_url: Annotated[
        list[str] | None,
        typer.Option(help="Allowed prefix of a portal's payment/eID return URLs (repeat)."),
    ] = None,
    status_url: Annotated[
        str | None, typer.Option(help="Where a portal receives signed status webhooks.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Create a client and print its key once."""
    settings = settings_from(config)
    if offer:
        if settings.catalog_file is None:
            raise fail("--offer needs catalog_file in the configuration")
        catalog = load_catalog(settings.catalog_file)
        unknown = [o for o in offer if catalog.get(o) is None]
        if unknown:
            raise fail(f"unknown offers: {', '.join(unknown)}")
    loopback = settings.mode == "demo"
    for prefix in return_url or []:
        problem = client_store.return_prefix_problem(prefix, allow_loopback_http=loopback)
        if problem:
            raise fail(f"--return-url {prefix!r}: {problem}")
    store = migrated_store(settings)
    try:
        with store.db.writing() as session:
            client, key = client_store.add_client(
                session,
                client_id=uuid_ids(),
                name=name,
                role=role,
                now=system_clock(),
                offers=offer,
                return_urls=return_url,
                allow_loopback_http=loopback,
                status_url=status_url,
            )
    except ValueError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"client {client.id} ({role.value}) created")
    typer.echo(f"key (shown once): {key}")


@clients_app.command("list")
def clients_list(config: ConfigOpt = None) -> None:
    """List clients (keys are never shown)."""
    store = migrated_store(settings_from(config))
    with store.db.reading() as session:
        for c in client_store.list_clients(session):
            state = "revoked" if c.revoked_at else "active"
            offers = ",".join(c.offers) if c.offers else "*"
            typer.echo(f"{c.id}\t{c.role}\t{state}\t{c.key_hint}…\t{offers}\t{c.name}")


@clients_app.command("revoke")
def clients_revoke(client_id: str, config: ConfigOpt = None) -> None:
    """Revoke a client's key."""
    store = migrated_store(settings_from(config))
    try:
        with store.db.writing() as session:
            client_store.revoke_client(session, client_id=client_id, now=system_clock())
    except Problem:
        raise fail(f"no client {client_id}") from None
    typer.echo(f"client {client_id} revoked")


@catalog_app.command("check")
def catalog_check(
    file: Path,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Also check routes against connectors.")
    ] = None,
) -> None:
    """Validate a catalogue file and explain every error with its location."""
    connectors = read_config_file(config).get("connectors", {}).keys() if config else None
    try:
        catalog = load_catalog(file, connectors=connectors)
    except CatalogError as exc:
        typer.echo(f"{file}: {len(exc.problems)} problem(s)", err=True)
        for problem in exc.problems:
            typer.echo(f"  - {problem}", err=True)
        raise typer.Exit(code=1) from None
    online = sum(1 for o in catalog.offers if o.accepts_online)
    typer.echo(f"{file}: ok, {len(catalog.offers)} offers ({online} accept online submissions)")


@forms_app.command("pdf")
def forms_pdf(
    offer_id: str,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Default: OFFER.pdf")
    ] = None,
    catalog_file: Annotated[
        Path | None, typer.Option("--catalog", help="Default: the Maintal example.")
    ] = None,
) -> None:
    """Write the fillable PDF form of an offer (generated from its form model)."""
    from ozg_gateway.forms.registry import FORM_MODELS
    from ozg_gateway.mappings.pdf.generate import build_form_pdf

    path = catalog_file or _example_config().parent / "catalog.toml"
    try:
        catalog = load_catalog(path)
    except CatalogError as exc:
        raise fail(str(exc)) from None
    offer = catalog.get(offer_id)
    if offer is None or not offer.form_model:
        raise fail(f"no online offer {offer_id!r} in {path}")
    target = output or Path(f"{offer_id}.pdf")
    model = FORM_MODELS[offer.form_model]
    target.write_bytes(build_form_pdf(offer, model, catalog.form_settings(offer.id)))
    typer.echo(f"wrote {target}")


@payments_app.command("reconcile")
def payments_reconcile(
    since: Annotated[str, typer.Option(help="ISO date: check attempts created since then.")],
    config: ConfigOpt = None,
) -> None:
    """Compare local payments with the provider; list every mismatch (exit 1 if any)."""
    from datetime import UTC, datetime

    from ozg_gateway.epayment.reconcile import reconcile

    ctx = context_from(settings_from(config))
    migrated_store(ctx.settings).close()
    start = datetime.fromisoformat(since).replace(tzinfo=UTC)
    report = reconcile(ctx, since=start)
    for line in report.lines():
        typer.echo(line)
    ctx.close()
    if report.mismatches:
        raise typer.Exit(code=1)


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random AES-256 key (base64) for encryption_keys."""
    typer.echo(base64.b64encode(secrets.token_bytes(32)).decode())


@keys_app.command("fitconnect")
def keys_fitconnect(
    out: Annotated[Path, typer.Option(help="Directory for the key files.")] = Path("."),
) -> None:
    """Make a FIT-Connect destination's encryption and signing keys (RSA 4,096, JWK files)."""
    import json
    import uuid

    from ozg_gateway.connectors.fitconnect.jose import new_key_pair

    out.mkdir(parents=True, exist_ok=True)
    existing = [p.name for p in out.glob("fit-*.jwk.json")]
    if existing:
        raise fail(f"{', '.join(sorted(existing))} exist in {out}: keys are never overwritten")
    for name, signing in (("fit-destination", False), ("fit-signing", True)):
        private, public = new_key_pair(str(uuid.uuid4()), signing=signing)
        secret_file = out / f"{name}.jwk.json"
        secret_file.touch(mode=0o600, exist_ok=False)
        secret_file.write_text(json.dumps(private))
        (out / f"{name}.public.jwk.json").write_text(json.dumps(public, indent=2))
        typer.echo(f"{name}: private {secret_file} (keep it secret), public {name}.public.jwk.json")
    typer.echo("Register both public keys with the destination; the private files go to inbound.")


@keys_app.command("rotate")
def keys_rotate(config: ConfigOpt = None) -> None:
    """Re-encrypt every record and blob with the active key."""
    store = migrated_store(settings_from(config))
    counts = rotate_keys(db=store.db, keyring=store.keyring, blobs=store.blobs)
    summary = ", ".join(f"{k}={v}" for k, v in counts.items())
    typer.echo(f"re-encrypted with key {store.keyring.active_key_id!r}: {summary}")


def main() -> None:
    """Entry point for ``python -m ozg_gateway``."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
