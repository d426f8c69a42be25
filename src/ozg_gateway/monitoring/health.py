"""Background health checks per connector instance; logs "unavailable" and "recovered" once."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from ozg_gateway.connectors.registry import Connectors
from ozg_gateway.connectors.translate import translate
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import breaker
from ozg_gateway.errors import ConnectorError, TransientError
from ozg_gateway.logging import get_logger
from ozg_gateway.redaction import scrub
from ozg_gateway.runtime import wait_or_stop
from ozg_gateway.store.models import ConnectorState

log = get_logger("ozg_gateway.health")
RECENT = 10


@dataclass(frozen=True)
class CheckResult:
    """One health check."""

    ok: bool
    latency_ms: float
    error: str | None


class HealthPoller:
    """Runs ``check()`` on every instance each interval and stores the results."""

    def __init__(self, ctx: GatewayContext, connectors: Connectors) -> None:
        self.ctx = ctx
        self.connectors = connectors
        self.settings = ctx.settings.delivery

    async def run(self, stop: asyncio.Event, *, first_after: float = 2.0) -> None:
        """Check until ``stop`` is set; the first check waits until the server is listening."""
        await wait_or_stop(stop, first_after)
        while not stop.is_set():
            try:
                await self.check_all()
            except Exception as exc:  # a broken poll must not end the process
                log.error("health poll failed", exc_info=exc)
            await wait_or_stop(stop, self.settings.health_interval_seconds)

    async def check_all(self) -> dict[str, CheckResult]:
        """Check every instance concurrently and store the results."""
        names = list(self.connectors.instances)
        results = await asyncio.gather(*(self._check(n) for n in names))
        checked = dict(zip(names, results, strict=True))
        await asyncio.to_thread(self._store, checked)
        return checked

    async def _check(self, name: str) -> CheckResult:
        timeout = self.settings.health_timeout_seconds
        t0 = time.perf_counter()
        error: ConnectorError | None = None
        try:
            await asyncio.wait_for(self.connectors.instances[name].check(timeout=timeout), timeout)
        except TimeoutError:
            error = TransientError(f"no answer within {timeout:g} s")
        except Exception as exc:  # noqa: BLE001 - every failure goes through the one table
            error = translate(exc)
        latency = (time.perf_counter() - t0) * 1000
        return CheckResult(
            error is None, round(latency, 1), scrub(str(error))[:300] if error else None
        )

    def _store(self, results: dict[str, CheckResult]) -> None:
        now = self.ctx.clock()
        with self.ctx.db.writing() as session:
            breaker.ensure_states(session, names=results, now=now)
            for name, result in results.items():
                state = session.get(ConnectorState, name)
                if state is None:
                    continue
                was_ok = state.last_check_ok
                state.last_check_at = now
                state.last_check_ok = result.ok
                state.last_latency_ms = result.latency_ms
                state.last_error = result.error
                recent = list(state.recent_checks or [])
                recent.append(
                    {"at": now.isoformat(), "ok": result.ok, "latency_ms": result.latency_ms}
                )
                state.recent_checks = recent[-RECENT:]
                state.updated_at = now
                if was_ok is not False and not result.ok:
                    log.warning("connector unavailable", connector=name, error_type=result.error)
                elif was_ok is False and result.ok:
                    log.info("connector recovered", connector=name)
