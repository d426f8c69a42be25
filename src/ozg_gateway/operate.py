"""Operator commands: ``deliveries list|show|replay|cancel`` and ``connectors check``.

The same operations as the console, for a shell or a script; changes are audited with the
actor ``cli`` and the operating-system user.
"""

from __future__ import annotations

import asyncio
import getpass
from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from ozg_gateway.cli_support import ConfigOpt, context_from, fail, migrated_store, settings_from
from ozg_gateway.delivery import admin as outbox_admin
from ozg_gateway.errors import Problem
from ozg_gateway.logging import configure_logging
from ozg_gateway.monitoring.probe import ProbeResult, probe
from ozg_gateway.runtime import system_clock
from ozg_gateway.store import audit
from ozg_gateway.store.models import Case

deliveries_app = typer.Typer(help="Deliveries and dead letters.", no_args_is_help=True)
connectors_app = typer.Typer(help="Connector instances.", no_args_is_help=True)


def _stamp(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "strftime") else "-"


@deliveries_app.command("list")
def deliveries_list(
    config: ConfigOpt = None,
    status: Annotated[str | None, typer.Option(help="pending, dead, delivered, …")] = None,
    connector: Annotated[str | None, typer.Option(help="Connector instance.")] = None,
    offer: Annotated[str | None, typer.Option(help="Offer id, e.g. kita-anmeldung.")] = None,
    case_number: Annotated[str | None, typer.Option(help="(Part of) a case number.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Newest deliveries first, with case number, connector, status and attempts."""
    store = migrated_store(settings_from(config))
    with store.db.reading() as session:
        rows = outbox_admin.browse(
            session,
            status=status,
            connector=connector,
            service_id=offer,
            case_number=case_number,
            limit=limit,
        )
    store.close()
    typer.echo(f"{'ID':36}  {'CASE':20}  {'CONNECTOR':20}  {'STATUS':10}  TRIES  UPDATED (UTC)")
    for r in rows:
        d = r.delivery
        typer.echo(
            f"{d.id:36}  {r.case_number:20}  {d.connector:20}  {d.status:10}  "
            f"{d.attempts:5}  {_stamp(d.updated_at)}"
        )
    typer.echo(f"{len(rows)} deliveries")


@deliveries_app.command("show")
def deliveries_show(delivery_id: str, config: ConfigOpt = None) -> None:
    """One delivery with every attempt (errors are redacted)."""
    store = migrated_store(settings_from(config))
    try:
        with store.db.reading() as session:
            delivery, attempts = outbox_admin.get_delivery(session, delivery_id)
            case = session.get(Case, delivery.case_id)
            fields = {
                "id": delivery.id,
                "case": case.case_number if case else delivery.case_id,
                "connector": delivery.connector,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "created": _stamp(delivery.created_at),
                "delivered": _stamp(delivery.delivered_at),
                "remote reference": delivery.remote_reference or "-",
                "transport report": delivery.tracking or "-",
                "last error": delivery.last_error or "-",
            }
            log = [
                f"  {_stamp(a.started_at)}  {a.duration_ms:6} ms  {a.outcome:10}  "
                f"{a.http_status or a.error_type or '':24}  {a.error_detail or ''}"
                for a in attempts
            ]
    except Problem:
        raise fail(f"no delivery {delivery_id}") from None
    finally:
        store.close()
    for key, value in fields.items():
        typer.echo(f"{key:17} {value}")
    typer.echo("attempts:")
    for line in log or ["  none yet"]:
        typer.echo(line)


def _audit(session: Session, now: datetime, action: str, delivery_id: str) -> None:
    """An audit entry for the operating-system user who ran the command."""
    try:
        actor = f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        actor = "cli"
    audit.record(
        session,
        at=now,
        actor=actor,
        actor_role="admin",
        action=action,
        target_type="delivery",
        target_id=delivery_id,
    )


@deliveries_app.command("replay")
def deliveries_replay(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Delivery ids; none: every dead one.")
    ] = None,
    config: ConfigOpt = None,
    connector: Annotated[str | None, typer.Option(help="Only this connector's.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Put dead letters back into the queue: shows how many first and asks."""
    store = migrated_store(settings_from(config))
    with store.db.reading() as session:
        dead = outbox_admin.browse(session, status="dead", connector=connector, limit=100_000)
    chosen = [r.delivery.id for r in dead if not ids or r.delivery.id in ids]
    if not chosen:
        store.close()
        typer.echo("no dead letters match")
        return
    if not yes and not typer.confirm(f"replay {len(chosen)} dead letter(s)?"):
        store.close()
        raise typer.Exit(1)
    now = system_clock()
    with store.db.writing() as session:
        done = outbox_admin.replay(session, ids=chosen, connector=None, status="dead", now=now)
        for delivery_id in done:
            _audit(session, now, "delivery.replay", delivery_id)
    store.close()
    typer.echo(f"{len(done)} replayed")


@deliveries_app.command("cancel")
def deliveries_cancel(delivery_id: str, config: ConfigOpt = None) -> None:
    """Stop a delivery that has not reached its receiver."""
    store = migrated_store(settings_from(config))
    now = system_clock()
    try:
        with store.db.writing() as session:
            outbox_admin.cancel(session, delivery_id=delivery_id, now=now)
            _audit(session, now, "delivery.cancel", delivery_id)
    except Problem as exc:
        raise fail(exc.detail or f"no delivery {delivery_id}") from None
    finally:
        store.close()
    typer.echo(f"delivery {delivery_id} cancelled")


def _print(result: ProbeResult) -> None:
    mark = "ok  " if result.ok else "FAIL"
    took = f" ({result.latency_ms:g} ms)" if result.latency_ms is not None else ""
    typer.echo(f"[{mark}] {result.name} ({result.type or '?'}){took}: {result.summary}")
    if result.detail:
        typer.echo(f"       technisch: {result.detail}")
    for warning in result.warnings:
        typer.echo(f"       Warnung: {warning}")


@connectors_app.command("check")
def connectors_check(
    name: Annotated[str | None, typer.Argument(help="One instance; none: all.")] = None,
    config: ConfigOpt = None,
    timeout: Annotated[float, typer.Option(help="Seconds per check.")] = 10.0,
) -> None:
    """Probe TLS, trust, credentials, reachability and the remote side before cases flow."""
    settings = settings_from(config)
    configure_logging(level="ERROR", fmt="console")
    ctx = context_from(settings)
    names = [name] if name else sorted(settings.connectors)
    if name and name not in settings.connectors:
        ctx.close()
        raise fail(f"Kein Connector {name!r} in der Konfiguration.")

    async def run() -> list[ProbeResult]:
        try:
            return [
                await probe(ctx.connectors, n, timeout=timeout, now=system_clock()) for n in names
            ]
        finally:
            await ctx.connectors.aclose()

    results = asyncio.run(run())
    ctx.close()
    for result in results:
        _print(result)
    failed = sum(not r.ok for r in results)
    if failed:
        typer.echo(f"{failed} von {len(results)} Connector(en) brauchen Aufmerksamkeit.", err=True)
        raise typer.Exit(1)
