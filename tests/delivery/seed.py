"""Insert many routed cases quickly (process tests and the delivery benchmark)."""

from __future__ import annotations

from typing import Any

from ozg_gateway.catalog.models import Offer
from ozg_gateway.context import GatewayContext
from ozg_gateway.delivery import outbox
from ozg_gateway.mappings.case_document import build_case_document
from ozg_gateway.store import submissions as subs
from ozg_gateway.store.models import Case

ROUTE = "aem-system"


def seed_cases(ctx: GatewayContext, n: int, *, route: str = ROUTE) -> list[dict[str, Any]]:
    """``n`` AEM cases with one delivery each to ``route``, in batches; return the documents."""
    offer = ctx.catalog.get("aem-meldung")
    assert isinstance(offer, Offer)
    docs = []
    for start in range(0, n, 500):
        with ctx.db.writing() as session:
            for i in range(start, min(n, start + 500)):
                now = ctx.clock()
                case_id = ctx.ids()
                doc = build_case_document(
                    case_id=case_id,
                    case_number=f"MTL-2026-{i:08d}",
                    offer=offer,
                    source="portal",
                    client_id=None,
                    submission_id=None,
                    submitted_at=now,
                    applicant={"family_name": "Mustermann", "email": "m@example.org"},
                    form={"beschreibung": "Laterne defekt " * 8, "i": i},
                    attachments=[],
                )
                docs.append(doc)
                case = Case(
                    id=case_id,
                    case_number=doc["case_number"],
                    submission_id=None,
                    service_id=offer.id,
                    source="portal",
                    status="received",
                    payload_sealed=ctx.keyring.seal_json(doc, aad=subs.case_aad(case_id)),
                    created_at=now,
                    updated_at=now,
                )
                session.add(case)
                outbox.enqueue(case=case, routes=[route], new_id=ctx.ids, now=now)
    return docs
