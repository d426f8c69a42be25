"""Official schemas, loaded from the configured specs directory (never shipped in the repo).

Each feature names the files it needs; ``SpecMissing`` says plainly which file is absent, so the
gateway can run without the directory and report what does not work.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.protocols import Validator
from lxml import etree

from ozg_gateway.errors import ConfigurationError

XFALL_XSD = "xfall/x_fall-2.0.xsd"
KLARSCHIFF_CUSTOM_DATA_XSD = "xfall/custom_data.xsd"
FIT_CONNECT_METADATA = "fit-connect/metadata.schema.v1.0.0.json"
OPEN311_REQUEST = "open311/schema-validation/georeport-v2/request.json"
FIT_CONNECT_SUBMISSION_API = "fit-connect/submission-api.yaml"
FIT_CONNECT_ROUTING_API = "fit-connect/routing-api.yaml"


class SpecMissing(ConfigurationError):
    """A feature needs a file from the specs directory that is not there."""


def _path(specs_dir: Path | None, relative: str) -> Path:
    if specs_dir is None:
        raise SpecMissing(f"no specs directory configured; {relative} is needed")
    path = specs_dir / relative
    if not path.is_file():
        raise SpecMissing(f"{path} is missing (see the README: Specifications directory)")
    return path


@lru_cache(maxsize=16)
def xml_schema(specs_dir: Path | None, relative: str) -> etree.XMLSchema:
    """Compiled XSD (cached per file)."""
    return etree.XMLSchema(etree.parse(str(_path(specs_dir, relative))))


@lru_cache(maxsize=16)
def json_validator(specs_dir: Path | None, relative: str) -> Validator:
    """JSON Schema validator with format checks (cached per file)."""
    schema: dict[str, Any] = json.loads(_path(specs_dir, relative).read_text())
    draft = "2020-12" in str(schema.get("$schema", ""))
    cls: Any = Draft202012Validator if draft else Draft7Validator
    validator: Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def xml_errors(specs_dir: Path | None, relative: str, xml: bytes) -> list[str]:
    """XSD violations of a document (empty list: valid)."""
    schema = xml_schema(specs_dir, relative)
    if schema.validate(etree.fromstring(xml)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def json_errors(specs_dir: Path | None, relative: str, value: Any) -> list[str]:
    """JSON Schema violations (empty list: valid)."""
    validator = json_validator(specs_dir, relative)
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in validator.iter_errors(value)
    ]


@lru_cache(maxsize=4)
def openapi_document(specs_dir: Path | None, relative: str) -> dict[str, Any]:
    """An OpenAPI document (YAML) of the specs directory, parsed."""
    import yaml

    document: dict[str, Any] = yaml.safe_load(_path(specs_dir, relative).read_text())
    return document


@lru_cache(maxsize=32)
def openapi_validator(specs_dir: Path | None, relative: str, schema: str) -> Validator:
    """Validator for one component schema of an OpenAPI 3.0 document (refs resolved in it)."""
    document = openapi_document(specs_dir, relative)
    wrapper = {"$ref": f"#/components/schemas/{schema}", "components": document["components"]}
    validator: Validator = Draft202012Validator(
        wrapper, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return validator
