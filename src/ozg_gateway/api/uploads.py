"""Streaming multipart upload: parse, sniff, size-limit, hash and encrypt chunk by chunk.

The file never exists unencrypted on disk and never whole in memory. Expected parts:
``file`` (one file) and optionally ``purpose`` (short text, e.g. "nachweis").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

from ozg_gateway.api.schemas import clean_filename
from ozg_gateway.errors import FieldError, Problem, validation_problem
from ozg_gateway.store.blobs import PendingBlob

# Magic numbers of the allowed types; the declared Content-Type is not trusted.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
# The stored name's extension follows the content: `rechnung.html` holding a PDF is stored as
# `rechnung.pdf`, so no viewer downstream picks a program by a name the sender chose.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
}
_SNIFF_BYTES = 8
_MAX_TEXT_FIELD = 64
MULTIPART_OVERHEAD = 16 * 1024


def name_for(filename: str, content_type: str) -> str:
    """``filename`` with an extension that matches ``content_type``."""
    allowed = EXTENSIONS[content_type]
    stem, dot, ext = filename.rpartition(".")
    if dot and f".{ext.lower()}" in allowed:
        return filename
    return f"{stem if dot and stem else filename}{allowed[0]}"


def sniff(head: bytes) -> str | None:
    """Content type from the first bytes, or None if not an allowed kind."""
    for content_type, magics in SIGNATURES.items():
        if any(head.startswith(m) for m in magics):
            return content_type
    return None


_KIND_WORDS = {"application/pdf": "PDF", "image/jpeg": "JPEG-Bild", "image/png": "PNG-Bild"}


@dataclass
class UploadResult:
    """A completely received file (finished, not yet placed)."""

    blob: PendingBlob
    filename: str
    purpose: str | None
    content_type: str


@dataclass
class _State:
    blob: PendingBlob
    limit: int
    allowed: tuple[str, ...]
    headers: dict[bytes, bytes] = field(default_factory=dict)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    part: str | None = None  # "file", "purpose" or "ignore"
    files: int = 0
    filename: str | None = None
    purpose: bytearray | None = None
    head: bytearray = field(default_factory=bytearray)
    content_type: str | None = None
    ended: bool = False

    def on_end(self) -> None:
        self.ended = True

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        self.headers.clear()
        if name == "file" and b"filename" in options:
            self.files += 1
            if self.files > 1:
                raise validation_problem(
                    [FieldError("/file", "too_many_files", "Nur eine Datei pro Anfrage.")]
                )
            self.part = "file"
            self.filename = clean_filename(options[b"filename"].decode("utf-8", "replace"))
        elif name == "purpose":
            self.part = "purpose"
            self.purpose = bytearray()
        else:
            self.part = "ignore"

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part == "purpose" and self.purpose is not None:
            self.purpose += chunk
            if len(self.purpose) > _MAX_TEXT_FIELD:
                raise validation_problem(
                    [FieldError("/purpose", "string_too_long", "Zu lang (höchstens 64 Zeichen).")]
                )
        elif self.part == "file":
            self._file_data(chunk)

    def _file_data(self, chunk: bytes) -> None:
        if self.content_type is None:
            self.head += chunk
            if len(self.head) < _SNIFF_BYTES:
                return
            self._decide_type()
            chunk, self.head = bytes(self.head), bytearray()
        if self.blob.size + len(chunk) > self.limit:
            raise Problem(
                "payload-too-large",
                detail=f"Dateien dürfen höchstens {self.limit // (1024 * 1024)} MB groß sein.",
            )
        self.blob.write(chunk)

    def _decide_type(self) -> None:
        sniffed = sniff(bytes(self.head))
        if sniffed is None or sniffed not in self.allowed:
            raise Problem(
                "unsupported-media-type",
                detail="Der Inhalt ist keine erlaubte Datei (erlaubt: "
                f"{', '.join(_KIND_WORDS.get(t, t) for t in self.allowed)}).",
            )
        self.content_type = sniffed

    def on_part_end(self) -> None:
        if self.part == "file" and self.content_type is None:
            if not self.head:
                raise validation_problem([FieldError("/file", "empty_file", "Die Datei ist leer.")])
            self._decide_type()
            self.blob.write(bytes(self.head))
            self.head.clear()
        self.part = None


async def receive_upload(
    request: Request, blob: PendingBlob, *, limit: int, allowed: tuple[str, ...]
) -> UploadResult:
    """Stream the request body into ``blob``; raise a Problem (and leave cleanup to the caller)."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise Problem(
            "unsupported-media-type",
            detail="Bitte als multipart/form-data mit einem Teil „file“ senden.",
        )
    # The body as a whole is bounded by the request guard (limit + MULTIPART_OVERHEAD, checked
    # against Content-Length before the route runs); the file part is bounded below.
    state = _State(blob=blob, limit=limit, allowed=allowed)
    parser = MultipartParser(
        boundary,
        callbacks={
            "on_header_field": state.on_header_field,
            "on_header_value": state.on_header_value,
            "on_header_end": state.on_header_end,
            "on_headers_finished": state.on_headers_finished,
            "on_part_data": state.on_part_data,
            "on_part_end": state.on_part_end,
            "on_end": state.on_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise Problem("malformed-request", detail="Der Multipart-Inhalt ist fehlerhaft.") from exc
    if not state.ended:  # the closing boundary never came: the file may be cut off
        raise Problem(
            "malformed-request",
            detail="Die Übertragung ist unvollständig (Multipart-Ende fehlt); bitte erneut senden.",
        )
    if state.files == 0 or state.content_type is None or state.filename is None:
        raise validation_problem([FieldError("/file", "missing", "Pflichtfeld fehlt.")])
    blob.finish()
    purpose = state.purpose.decode("utf-8", "replace").strip() if state.purpose else None
    return UploadResult(
        blob=blob,
        filename=name_for(state.filename, state.content_type),
        purpose=purpose or None,
        content_type=state.content_type,
    )
