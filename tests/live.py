"""Real HTTP servers on loopback for tests: an ASGI app under uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """Start, stop and restart an ASGI app on a fixed loopback port."""

    def __init__(self, app: Any, port: int | None = None, **ssl: Any) -> None:
        self.app = app
        self.port = port or free_port()
        self.ssl = ssl  # more uvicorn options: ssl_* for HTTPS and client certificates, http
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl.get("ssl_certfile") else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        options = {"lifespan": "off", **self.ssl}  # lifespan="on" runs the app's background jobs
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_config=None, **options
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = None
