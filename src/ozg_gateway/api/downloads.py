"""Stored files leave the gateway one way: streamed, decrypted on the fly, with their digest."""

from __future__ import annotations

import base64
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from ozg_gateway.context import GatewayContext


def file_response(
    ctx: GatewayContext, *, ref: str, filename: str, content_type: str, size: int, sha256: str
) -> StreamingResponse:
    """A blob as a download; `Repr-Digest` (RFC 9530) carries the SHA-256."""
    digest = base64.b64encode(bytes.fromhex(sha256)).decode()
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_")
    return StreamingResponse(
        iterate_in_threadpool(ctx.blobs.read(ref)),
        media_type=content_type,
        headers={
            "Content-Length": str(size),
            "Repr-Digest": f"sha-256=:{digest}:",
            "X-Content-SHA256": sha256,
            # RFC 6266: an ASCII fallback and the real (German) name.
            "Content-Disposition": f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(filename)}",
        },
    )
