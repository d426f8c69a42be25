"""Durable delivery: enqueue with the case, claim, attempt, retry, dead-letter, circuit breaker."""
