"""Durable delivery: the outbox (enqueued with the case), worker, scheduling policy, circuit
breaker, transport-report tracking, metrics and the admin operations."""
