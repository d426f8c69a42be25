"""Euro cents inside, Decimal euros at the provider edge; never float."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")


def to_euros(cents: int) -> Decimal:
    """Cents as a Decimal with two places."""
    return (Decimal(cents) / 100).quantize(CENT)


def to_cents(value: str | int | Decimal) -> int:
    """Provider euros (JSON number or string) as cents; ValueError on anything else."""
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    return int(amount * 100)


def dumps(value: Any) -> str:
    """JSON with Decimal amounts written as exact numbers (``12.00``), not floats or strings."""
    tokens: dict[str, str] = {}

    def swap(node: Any) -> Any:
        if isinstance(node, Decimal):
            token = f"\u0000dec{len(tokens)}\u0000"
            tokens[token] = format(node, "f")
            return token
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    text = json.dumps(swap(value), ensure_ascii=False)
    for token, number in tokens.items():
        text = text.replace(json.dumps(token), number)
    return text
