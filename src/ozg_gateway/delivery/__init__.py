"""Durable delivery: the outbox (enqueued with the case), worker, scheduling policy, circuit
breaker, transport-report tracking, inbound rounds, metrics and the admin operations."""
