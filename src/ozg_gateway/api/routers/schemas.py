"""Versioned JSON Schemas of what back-office systems receive."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ozg_gateway.errors import not_found
from ozg_gateway.mappings.case_document import CASE_SCHEMA_VERSION, SCHEMAS

router = APIRouter(prefix="/v1/schemas", tags=["Back office"])


@router.get("/{name}", operation_id="getSchema", summary="JSON Schema: case-document or case-event")
def get_schema(name: str) -> dict[str, Any]:
    """`case-event` is the webhook body; `case-document` its `data` and the pull API's case."""
    model = SCHEMAS.get(name)
    if model is None:
        raise not_found("Das Schema")
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:ozg-gateway:schema:{name}:{CASE_SCHEMA_VERSION}"
    return schema
