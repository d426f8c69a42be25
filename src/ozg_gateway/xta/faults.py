"""XTA SOAP faults → error taxonomy, by exception type and errorCode.

Only technical problems (9030–9032) are worth retrying. Permission faults mean our identity or
client certificate is not allowed for the Author/Reader: configuration, not retried.
Everything else is permanent (the message or its parameters are wrong).
"""

from __future__ import annotations

from lxml import etree

from ozg_gateway.errors import (
    ConnectorConfigError,
    ConnectorError,
    PermanentError,
    TransientError,
)
from ozg_gateway.xta.messages import SOAP12, XTA


class InvalidMessageId(PermanentError):
    """9070: the XTA server does not know the message id."""


# (first code, last code) → class; unknown codes fall back to the exception type.
ERROR_CODES: list[tuple[int, int, type[ConnectorError]]] = [
    (9010, 9014, ConnectorConfigError),  # permission denied
    (9020, 9024, PermanentError),  # parameter not valid (9023: container too large)
    (9030, 9032, TransientError),  # technical problem: retry later
    (9050, 9052, PermanentError),  # schema violation
    (9060, 9060, PermanentError),  # virus found
    (9070, 9070, InvalidMessageId),
    (9080, 9081, PermanentError),  # sync/async mismatch
    (9100, 9101, PermanentError),  # cancel denied
]
EXCEPTION_TYPES: dict[str, type[ConnectorError]] = {
    "PermissionDeniedException": ConnectorConfigError,
    "ParameterIsNotValidException": PermanentError,
    "XTAWSTechnicalProblemException": TransientError,
    "MessageSchemaViolationException": PermanentError,
    "MessageVirusDetectionException": PermanentError,
    "InvalidMessageIDException": InvalidMessageId,
    "SyncAsyncException": PermanentError,
    "CancelDeniedException": PermanentError,
}


def class_for(exception_type: str | None, code: int | None) -> type[ConnectorError]:
    """The taxonomy class of an XTA fault."""
    if code is not None:
        for first, last, cls in ERROR_CODES:
            if first <= code <= last:
                return cls
    return EXCEPTION_TYPES.get(exception_type or "", PermanentError)


def parse_fault(xml: bytes) -> ConnectorError | None:
    """ConnectorError for a SOAP 1.2 fault response (None if it is not a fault)."""
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    fault = root.find(f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault")
    if fault is None:
        return None
    detail = fault.find(f"{{{SOAP12}}}Detail")
    exception = (
        next((c for c in detail if isinstance(c.tag, str)), None) if detail is not None else None
    )
    exception_type = etree.QName(exception).localname if exception is not None else None
    code_text = exception.findtext(f"{{{XTA}}}errorCode/code") if exception is not None else None
    if code_text is None and exception is not None:
        code_text = exception.findtext(".//code")
    code = int(code_text) if code_text and code_text.strip().isdigit() else None
    cls = class_for(exception_type, code)
    return cls(
        f"XTA fault {exception_type or 'unknown'} {code or ''}".strip(),
        code=str(code) if code else None,
    )
