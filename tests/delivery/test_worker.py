"""Worker against a real receiver over HTTP: delivery, retries, dead letters, breaker."""

from __future__ import annotations

from sqlalchemy import func, select

from ozg_gateway.monitoring.health import HealthPoller
from ozg_gateway.store.models import Case, ConnectorState, Delivery, DeliveryAttempt
from tests.conftest import ADMIN_KEY, PORTAL_KEY
from tests.delivery.conftest import Env


def _deliveries(env: Env) -> list[Delivery]:
    with env.ctx.db.reading() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.created_at)))


def _state(env: Env, name: str) -> ConnectorState:
    with env.ctx.db.reading() as s:
        state = s.get(ConnectorState, name)
        assert state is not None
        return state


def test_case_is_delivered_signed_and_shown_on_the_timeline(env: Env) -> None:
    [case_id] = env.submit()
    assert env.work() == 1
    [d] = _deliveries(env)
    assert d.status == "delivered"
    assert d.remote_reference == "EING-000001"
    [received] = env.store.events.values()
    assert received.webhook_id == d.idempotency_key
    data = received.event["data"]
    assert data["case_id"] == case_id
    assert data["schema_version"] == "1.0"
    with env.ctx.db.reading() as s:
        case = s.get(Case, case_id)
        assert case is not None
        assert case.status == "delivered"
        sub_id = case.submission_id
    timeline = env.http.get(
        f"/v1/submissions/{sub_id}", headers={"Authorization": f"Bearer {PORTAL_KEY}"}
    ).json()["timeline"]
    assert timeline[-1]["status"] == "delivered"
    assert env.work() == 0  # nothing left


def test_pull_routes_are_not_pushed(env: Env) -> None:
    env.submit("personenstandsurkunde")
    assert env.work() == 0
    [d] = _deliveries(env)
    assert (d.connector, d.status) == ("standesamt", "held")  # also waits for its fee


def test_receiver_with_other_secrets_is_an_auth_error_retried_later(env: Env) -> None:
    env.receiver.stop()
    from ozg_gateway.connectors.webhook.simulator import create_receiver
    from tests.live import LiveServer

    wrong = LiveServer(create_receiver(["whsec_" + "QUFB" * 11]), env.receiver.port).start()
    try:
        env.submit()
        env.work()
    finally:
        wrong.stop()
    [d] = _deliveries(env)
    # 401 from a receiver with other secrets: authentication, retried later.
    assert d.status == "pending"
    assert d.attempts == 1
    with env.ctx.db.reading() as s:
        [attempt] = s.scalars(select(DeliveryAttempt)).all()
    assert (attempt.outcome, attempt.http_status) == ("auth", 401)


def test_receiver_rejection_is_dead_letter_without_retry(env: Env) -> None:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    from tests.live import LiveServer

    rejecting = FastAPI()
    calls: list[str] = []

    @rejecting.post("/{path:path}")
    async def reject(path: str) -> JSONResponse:
        calls.append(path)
        return JSONResponse({"error": "Pflichtfeld Aktenzeichen fehlt"}, status_code=422)

    env.receiver.stop()
    server = LiveServer(rejecting, env.receiver.port).start()
    try:
        env.submit()
        env.work()
        env.clock.advance(hours=1)  # long past any backoff: a rejection is not retried
        env.work()
    finally:
        server.stop()
    [d] = _deliveries(env)
    assert (d.status, d.attempts) == ("dead", 1)
    assert len(calls) == 1
    with env.ctx.db.reading() as s:
        [attempt] = s.scalars(select(DeliveryAttempt)).all()
    assert (attempt.outcome, attempt.http_status) == ("permanent", 422)


def test_outage_opens_breaker_then_probe_recovers(env: Env) -> None:
    env.receiver.stop()
    env.submit(n=5)
    # Each failing round retries after backoff; move the clock past it.
    for _ in range(3):
        env.work()
        env.clock.advance(seconds=5)
    state = _state(env, "aem-system")
    assert state.breaker == "open"
    attempts_before = sum(d.attempts for d in _deliveries(env))
    env.clock.advance(seconds=5)
    assert env.work() == 0  # open breaker: nothing claimed, no attempt burnt
    assert sum(d.attempts for d in _deliveries(env)) == attempts_before
    assert all(d.status == "pending" for d in _deliveries(env))

    env.receiver.start()
    env.clock.advance(seconds=31)  # cooldown over: one probe
    assert env.work() == 1
    assert _state(env, "aem-system").breaker == "closed"
    env.work(rounds=2)
    assert {d.status for d in _deliveries(env)} == {"delivered"}
    assert len(env.store.events) == 5


def test_max_attempts_make_dead_letters_and_replay_delivers(env: Env) -> None:
    env.ctx.settings = env.ctx.settings.model_copy(
        update={
            "delivery": env.ctx.settings.delivery.model_copy(
                update={"max_attempts": 2, "breaker_threshold": 100}
            )
        }
    )
    env.receiver.stop()
    env.submit()
    env.work()
    env.clock.advance(seconds=10)
    env.work()
    [d] = _deliveries(env)
    assert (d.status, d.attempts) == ("dead", 2)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    dead = env.http.get("/v1/admin/deliveries", params={"status": "dead"}, headers=admin).json()
    assert [x["id"] for x in dead["items"]] == [d.id]
    assert dead["items"][0]["case_number"].startswith("MTL-")  # what people search by
    detail = env.http.get(f"/v1/admin/deliveries/{d.id}", headers=admin).json()
    assert detail["case_number"] == dead["items"][0]["case_number"]
    assert [a["outcome"] for a in detail["attempts_log"]] == ["transient", "transient"]
    assert all("Erika" not in (a["error_detail"] or "") for a in detail["attempts_log"])

    env.receiver.start()
    replay = env.http.post("/v1/admin/deliveries/replay", json={"ids": [d.id]}, headers=admin)
    assert replay.json() == {"replayed": 1}
    env.work()
    [d] = _deliveries(env)
    assert d.status == "delivered"
    audit = env.http.get("/v1/admin/audit", params={"action": "delivery.replay"}, headers=admin)
    assert audit.json()[0]["target_id"] == d.id


def test_cancel(env: Env) -> None:
    env.receiver.stop()
    env.submit()
    [d] = _deliveries(env)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    r = env.http.post(f"/v1/admin/deliveries/{d.id}/cancel", headers=admin)
    assert r.json()["status"] == "cancelled"
    assert env.work() == 0
    again = env.http.post(f"/v1/admin/deliveries/{d.id}/cancel", headers=admin)
    assert again.status_code == 409


def test_health_poller_and_connector_overview(env: Env) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    env.run(HealthPoller(env.ctx, env.ctx.connectors).check_all())
    up = {c["name"]: c for c in env.http.get("/v1/admin/connectors", headers=admin).json()}
    assert up["aem-system"]["state"] == "up"
    assert up["aem-system"]["last_latency_ms"] is not None
    env.receiver.stop()
    env.submit()
    env.run(HealthPoller(env.ctx, env.ctx.connectors).check_all())
    down = {c["name"]: c for c in env.http.get("/v1/admin/connectors", headers=admin).json()}
    assert down["aem-system"]["state"] == "down"
    assert down["aem-system"]["queue_depth"] == 1
    assert down["aem-system"]["oldest_pending_seconds"] is not None
    assert down["standesamt"]["type"] == "pull"
    metrics = env.http.get("/metrics").text
    assert 'ozg_delivery_queue_depth{connector="aem-system"} 1.0' in metrics


def test_attempts_are_recorded(env: Env) -> None:
    env.submit(n=3)
    env.work()
    with env.ctx.db.reading() as s:
        n = s.scalar(select(func.count()).select_from(DeliveryAttempt))
        outcomes = set(s.scalars(select(DeliveryAttempt.outcome)))
    assert n == 3
    assert outcomes == {"delivered"}


def test_unavailable_and_recovered_are_logged_once_each(env: Env) -> None:
    import io
    import json

    from ozg_gateway.logging import configure_logging

    stream = io.StringIO()
    configure_logging(level="INFO", fmt="json", stream=stream)
    try:
        poller = HealthPoller(env.ctx, env.ctx.connectors)
        env.receiver.stop()
        for _ in range(3):
            env.run(poller.check_all())
        env.receiver.start()
        for _ in range(3):
            env.run(poller.check_all())
    finally:
        configure_logging(level="INFO", fmt="console")
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    mine = [e["event"] for e in events if e.get("connector") == "aem-system"]
    assert mine == ["connector unavailable", "connector recovered"]


def test_a_bug_in_a_connector_is_logged_once_spares_the_breaker_and_dead_letters(
    env: Env,
) -> None:
    import io

    from ozg_gateway.connectors.contract import DeliveryRequest
    from ozg_gateway.logging import configure_logging

    connector = env.ctx.connectors.instances["aem-system"]

    async def broken(request: DeliveryRequest) -> None:
        raise KeyError("aktenzeichen")  # a plain bug in connector code

    connector.deliver = broken  # type: ignore[method-assign,assignment]
    stream = io.StringIO()
    configure_logging(level="INFO", fmt="json", stream=stream)
    try:
        env.submit(n=2)
        for _ in range(5):
            env.work()
            env.clock.advance(hours=1)
    finally:
        configure_logging(level="INFO", fmt="console")
    deliveries = _deliveries(env)
    assert [(d.status, d.attempts) for d in deliveries] == [("dead", 3), ("dead", 3)]
    assert all("connector bug" in (d.last_error or "") for d in deliveries)
    state = _state(env, "aem-system")
    assert (state.breaker, state.consecutive_failures) == ("closed", 0)
    logged = [line for line in stream.getvalue().splitlines() if "connector bug" in line]
    assert len(logged) == 1  # once per connector and exception type, not per attempt
    assert "Traceback" in logged[0]
    assert "KeyError" in logged[0]
    with env.ctx.db.reading() as s:
        outcomes = set(s.scalars(select(DeliveryAttempt.outcome)))
    assert outcomes == {"bug"}
