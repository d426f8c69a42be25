"""Streamed reading of MTOM/XOP bodies (``multipart/related``), requests and responses alike.

The XOP root (the SOAP envelope) is small and kept in memory; every other part goes chunk by
chunk into a sink the caller opens per Content-ID, so a 200 MB attachment never sits in RAM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

ROOT_LIMIT = 16 * 1024 * 1024  # an envelope with only xop:Include references stays far below


class MtomError(ValueError):
    """The body is not a readable multipart/related message."""


class PartSink(Protocol):
    """Where one binary part's bytes go."""

    def write(self, data: bytes) -> object:
        """Take the next chunk."""
        ...


def is_mtom(content_type: str) -> bool:
    """True for ``multipart/related`` (MTOM) bodies."""
    return content_type.lower().lstrip().startswith("multipart/related")


class MtomReader:
    """Feed chunks, then ``finish()``; ``root`` holds the envelope, ``types`` each part's type."""

    def __init__(self, content_type: str, open_part: Callable[[str, str], PartSink]) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/related" or not boundary:
            raise MtomError("not multipart/related with a boundary")
        self._start = options.get(b"start", b"").decode("latin-1").strip("<>") or None
        self._open = open_part
        self.root = bytearray()
        self.types: dict[str, str] = {}
        self._headers: dict[str, str] = {}
        self._field = b""
        self._value = b""
        self._sink: PartSink | None = None
        self._in_root = False
        self._seen_root = False
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
            },
        )

    def _part_begin(self) -> None:
        self._headers = {}
        self._sink = None
        self._in_root = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode("latin-1")
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        cid = self._headers.get("content-id", "").strip().strip("<>")
        ctype = self._headers.get("content-type", "application/octet-stream").strip()
        root = cid == self._start if self._start else not self._seen_root
        if root and not self._seen_root:
            self._in_root = self._seen_root = True
            return
        if not cid:
            raise MtomError("MIME part without Content-ID")
        self.types[cid] = ctype
        self._sink = self._open(cid, ctype)

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._in_root:
            if len(self.root) + end - start > ROOT_LIMIT:
                raise MtomError("XOP root part too large")
            self.root += data[start:end]
        elif self._sink is not None:
            self._sink.write(data[start:end])

    def feed(self, chunk: bytes) -> None:
        """Parse the next chunk of the body."""
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise MtomError(str(exc)) from exc

    def finish(self) -> bytes:
        """End of body: the root envelope's bytes."""
        try:
            self._parser.finalize()
        except MultipartParseError as exc:
            raise MtomError(str(exc)) from exc
        if not self._seen_root or not self.root:
            raise MtomError("no XOP root part")
        return bytes(self.root)
