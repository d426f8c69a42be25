"""What the large-transfer benches (xta.py, fitconnect.py) share: the plain baseline routes,
memory readings from /proc, a best-of timer, the source file, the two-process run."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 1024 * 1024
ROUNDS = 3  # each step runs this often; the best time counts (disk and page-cache noise)


def proc_kb(pid: int | str, field: str) -> int:
    """A field of /proc/<pid>/status in kB (VmRSS now, VmHWM the peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def chunks(path: Path) -> Iterator[bytes]:
    """The file in pieces of CHUNK bytes."""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def baseline_routes(root: str, *, upload_method: str) -> list[Any]:
    """Plain streamed ``/upload`` (body to a file) and ``/download`` (that file back)."""
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    baseline_file = Path(root) / "baseline.bin"

    async def upload(request: Request) -> Response:
        with baseline_file.open("wb") as out:
            async for chunk in request.stream():
                out.write(chunk)
        return Response(b"ok")

    async def download(_request: Request) -> StreamingResponse:
        return StreamingResponse(chunks(baseline_file), media_type="application/octet-stream")

    return [
        Route("/upload", upload, methods=[upload_method]),
        Route("/download", download),
    ]


class FileSink:
    """A file that is written piece by piece (what the gateway's pending blob offers)."""

    def __init__(self, path: Path) -> None:
        self.handle: BinaryIO = path.open("wb")

    def write(self, data: bytes) -> None:
        """Append ``data``."""
        self.handle.write(data)


class Timer:
    """Best of ROUNDS runs per step."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    def best(self, key: str, step: Callable[[], Any]) -> Any:
        """Run ``step`` ROUNDS times; keep the shortest time; return the last result."""
        result = None
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            result = step()
            elapsed = time.perf_counter() - t0
            self.times[key] = min(self.times.get(key, elapsed), elapsed)
        return result


def run(
    *,
    mb: int,
    digest: str,
    server: Callable[..., None],
    server_args: tuple[Any, ...],
    client: Callable[..., None],
    client_args: tuple[Any, ...],
    probe: str,
) -> tuple[dict[str, Any], int, str]:
    """A source file of ``mb`` MiB, the server process, the client process; returns the
    client's result, the server's peak RSS growth (kB) and the source's hex ``digest``."""
    import httpx

    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="transfer-bench-") as root:
        source = Path(root) / "attachment.bin"
        sha = hashlib.new(digest)
        with source.open("wb") as handle:
            block = os.urandom(CHUNK)
            for i in range(mb):
                data = block[i % 7 :] + block[: i % 7]
                sha.update(data)
                handle.write(data)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        ready = ctx.Event()
        process = ctx.Process(target=server, args=(port, root, *server_args, ready), daemon=True)
        process.start()
        ready.wait(30)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}{probe}", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        server_before = proc_kb(process.pid or 0, "VmRSS")
        results = ctx.Queue()
        worker = ctx.Process(target=client, args=(base, str(source), root, *client_args, results))
        worker.start()
        result: dict[str, Any] = results.get(timeout=1800)
        worker.join()
        server_growth = proc_kb(process.pid or 0, "VmHWM") - server_before
        process.terminate()
    return result, server_growth, sha.hexdigest()
