"""The delivery worker: claim a batch, deliver concurrently, record every attempt.

Results of a batch are written in one transaction. If the process dies before that, the
claims expire and the deliveries are sent again with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import or_, select

from ozg_gateway.connectors.contract import AttachmentRef, DeliveryRequest, DeliveryResult
from ozg_gateway.connectors.registry import Connectors
from ozg_gateway.connectors.translate import translate
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import breaker, outbox, schedule
from ozg_gateway.delivery.metrics import DeliveryMetrics
from ozg_gateway.delivery.policy import decide
from ozg_gateway.errors import ConnectorError, TransientError
from ozg_gateway.logging import get_logger
from ozg_gateway.redaction import scrub
from ozg_gateway.runtime import wait_or_stop
from ozg_gateway.store import submissions as subs
from ozg_gateway.store.models import Attachment, Case

log = get_logger("ozg_gateway.worker")


def default_worker_id() -> str:
    """Host and pid: unique per process, readable in attempt records."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class _Outcome:
    claimed: outbox.Claimed
    started_at: datetime
    duration: float
    result: DeliveryResult | None
    error: ConnectorError | None


class Worker:
    """Delivers due outbox rows to push connectors."""

    def __init__(
        self,
        ctx: GatewayContext,
        connectors: Connectors,
        *,
        worker_id: str | None = None,
        metrics: DeliveryMetrics | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.ctx = ctx
        self.connectors = connectors
        self.worker_id = worker_id or default_worker_id()
        self.metrics = metrics
        self.settings = ctx.settings.delivery
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._semaphore = asyncio.Semaphore(self.settings.concurrency)
        self._states_ensured = False
        self._breakers: dict[str, tuple[str, int]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, in ``lanes`` concurrent loops; sleep only when idle."""
        log.info("worker started", count=len(self.connectors.pushing()))
        await asyncio.gather(*(self._lane(stop) for _ in range(self.settings.lanes)))

    async def drain(self) -> int:
        """Deliver until nothing is due (tests, benchmarks); return the number of attempts."""

        async def lane() -> int:
            total = 0
            while done := await self.run_once():
                total += done
            return total

        return sum(await asyncio.gather(*(lane() for _ in range(self.settings.lanes))))

    async def _lane(self, stop: asyncio.Event) -> None:
        # Several lanes overlap one batch's database work with another batch's HTTP calls;
        # claims are atomic, so lanes never share a delivery.
        while not stop.is_set():
            try:
                done = await self.run_once()
            except Exception as exc:  # keep the worker alive; the next loop retries
                log.error("worker loop failed", exc_info=exc)
                done = 0
            if done == 0:
                await wait_or_stop(stop, self.settings.poll_interval_seconds)

    async def run_once(self) -> int:
        """Claim, deliver and record one batch; return how many deliveries were attempted."""
        claimed = await asyncio.to_thread(self._claim)
        if not claimed:
            return 0
        requests = await asyncio.to_thread(self._load, claimed)
        outcomes = await asyncio.gather(*(self._attempt(c, requests[c.id]) for c in claimed))
        await asyncio.to_thread(self._record, outcomes)
        return len(claimed)

    # -- claim ------------------------------------------------------------------------------
    def _claim(self) -> list[outbox.Claimed]:
        now = self.ctx.clock()
        names = self.connectors.pushing()
        lease = self.settings.claim_lease_seconds
        with self.ctx.db.writing() as session:
            if not self._states_ensured:
                breaker.ensure_states(session, names=names, now=now)
                self._states_ensured = True
            states = breaker.breaker_states(session)
            self._breakers = states
            free = [n for n in names if states.get(n, (breaker.CLOSED, 0))[0] == breaker.CLOSED]
            claimed = outbox.claim(
                session,
                worker_id=self.worker_id,
                connectors=free,
                limit=self.settings.batch_size,
                now=now,
                lease_seconds=lease,
            )
            for name in (n for n in names if n not in free):
                if breaker.try_acquire_probe(session, name=name, now=now, lease_seconds=lease):
                    probe = outbox.claim(
                        session,
                        worker_id=self.worker_id,
                        connectors=[name],
                        limit=1,
                        now=now,
                        lease_seconds=lease,
                    )
                    if not probe:
                        breaker.release_probe(session, name=name, now=now)
                    claimed += probe
        return claimed

    # -- load -------------------------------------------------------------------------------
    def _load(self, claimed: list[outbox.Claimed]) -> dict[str, DeliveryRequest]:
        requests: dict[str, DeliveryRequest] = {}
        with self.ctx.db.reading() as session:
            case_ids = {c.case_id for c in claimed}
            cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))}
            docs = {cid: subs.open_case(self.ctx.keyring, case) for cid, case in cases.items()}
            by_case: dict[str, list[Attachment]] = {}
            case_of = {c.submission_id: c.id for c in cases.values() if c.submission_id}
            for att in session.scalars(
                select(Attachment)
                .where(
                    or_(
                        Attachment.submission_id.in_(list(case_of)),
                        Attachment.case_id.in_(case_ids),  # inbound cases own their files
                    )
                )
                .order_by(Attachment.created_at, Attachment.id)
            ):
                owner = att.case_id or case_of[att.submission_id or ""]
                by_case.setdefault(owner, []).append(att)
            refs = {cid: self._attachments(by_case.get(cid, [])) for cid in cases}
        for c in claimed:
            requests[c.id] = DeliveryRequest(
                delivery_id=c.id,
                idempotency_key=c.idempotency_key,
                attempt=c.attempts + 1,
                case_id=c.case_id,
                case_number=docs[c.case_id]["case_number"],
                service_id=docs[c.case_id]["service"]["id"],
                document=docs[c.case_id],
                attachments=refs[c.case_id],
                progress=dict(c.progress or {}),
                remember=self._rememberer(c.id),
            )
        return requests

    def _rememberer(self, delivery_id: str) -> Callable[[BaseModel], Awaitable[None]]:
        def write(progress: BaseModel) -> None:
            with self.ctx.db.writing() as session:
                kept = outbox.remember_progress(
                    session,
                    delivery_id=delivery_id,
                    worker_id=self.worker_id,
                    progress=progress.model_dump(mode="json", exclude_none=True),
                    now=self.ctx.clock(),
                )
            if not kept:  # another worker took the delivery over: stop before sending
                raise TransientError("delivery claim lost before its progress was saved")

        async def remember(progress: BaseModel) -> None:
            await asyncio.to_thread(write, progress)

        return remember

    def _attachments(self, rows: list[Attachment]) -> tuple[AttachmentRef, ...]:
        return tuple(
            AttachmentRef(
                id=a.id,
                filename=subs.open_filename(self.ctx.keyring, a),
                content_type=a.content_type,
                size=a.size,
                sha256=a.sha256,
                open=self._opener(a.blob_ref),
            )
            for a in rows
        )

    def _opener(self, ref: str) -> Callable[[], AsyncIterator[bytes]]:
        blobs = self.ctx.blobs

        async def stream() -> AsyncIterator[bytes]:
            chunks: Iterator[bytes] = blobs.read(ref)
            sentinel = b""
            while True:
                chunk = await asyncio.to_thread(next, chunks, sentinel)
                if chunk is sentinel:
                    return
                yield chunk

        return stream

    # -- attempt ----------------------------------------------------------------------------
    async def _attempt(self, claimed: outbox.Claimed, request: DeliveryRequest) -> _Outcome:
        connector = self.connectors.route(claimed.connector)
        started_at = self.ctx.clock()
        t0 = time.perf_counter()
        result: DeliveryResult | None = None
        error: ConnectorError | None = None
        # A call must end well before the claim expires, or another worker would send again.
        budget = self.settings.claim_lease_seconds * 0.75
        async with self._semaphore:
            try:
                result = await asyncio.wait_for(connector.deliver(request), budget)
            except TimeoutError:
                error = TransientError(f"no answer within {budget:g} s")
            except Exception as exc:  # noqa: BLE001 - every failure goes through the one table
                error = translate(exc)
                if error.kind == "bug":
                    self._report_bug(claimed.connector, exc)
        return _Outcome(claimed, started_at, time.perf_counter() - t0, result, error)

    def _report_bug(self, connector: str, exc: BaseException) -> None:
        """Log a connector bug with its traceback once per connector and exception type."""
        key = (connector, type(exc).__name__)
        if key in self.connectors.bugs_reported:
            return
        self.connectors.bugs_reported.add(key)
        log.error(
            "connector bug: an exception no table row explains",
            connector=connector,
            error_type=type(exc).__name__,
            traceback_of=exc,
        )

    # -- record -----------------------------------------------------------------------------
    def _record(self, outcomes: list[_Outcome]) -> None:
        now = self.ctx.clock()
        records = [
            outbox.AttemptRecord(
                claimed=o.claimed,
                started_at=o.started_at,
                duration_ms=int(o.duration * 1000),
                decision=(
                    decision := decide(
                        error=o.error,
                        attempts=o.claimed.attempts + 1,
                        created_at=o.claimed.created_at,
                        now=now,
                        settings=self.settings,
                        rng=self._rng,
                    )
                ),
                outcome="delivered" if o.error is None else o.error.kind,
                error_type=type(o.error).__name__ if o.error else None,
                error_detail=_detail(o.error, decision.reason),
                http_status=o.error.status if o.error else None,
                remote_reference=o.result.remote_reference if o.result else None,
                track=bool(o.result and o.result.track),
            )
            for o in outcomes
        ]
        # Only outcomes that say something about the receiver move the breaker.
        signals: dict[str, list[bool]] = {}
        for o in outcomes:
            if o.error is None or (o.error.retryable and not o.error.says_nothing_about_receiver):
                signals.setdefault(o.claimed.connector, []).append(o.error is None)
        transitions = []
        with self.ctx.db.writing() as session:
            outbox.record_batch(
                session,
                worker_id=self.worker_id,
                records=records,
                now=now,
                first_report_at=schedule.first_report_check(now, self.settings),
            )
            for name, oks in signals.items():
                if all(oks) and self._breakers.get(name) == (breaker.CLOSED, 0):
                    continue  # healthy and staying healthy: nothing to write
                change = breaker.record(
                    session, name=name, outcomes=oks, now=now, settings=self.settings
                )
                if change:
                    transitions.append((name, change))
        if self.metrics:
            for o, rec in zip(outcomes, records, strict=True):
                self.metrics.attempts.labels(o.claimed.connector, rec.outcome).inc()
                self.metrics.latency.labels(o.claimed.connector).observe(o.duration)
        for name, change in transitions:
            log.warning("circuit breaker changed", connector=name, outcome=change)


def _detail(error: ConnectorError | None, reason: str | None) -> str | None:
    if error is None:
        return None
    text = scrub(str(error))
    return (f"{text}; {reason}" if reason else text)[:300]
