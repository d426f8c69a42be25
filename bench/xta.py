"""XTA with a large attachment: memory of both sides and throughput against plain httpx.

    .venv/bin/python bench/xta.py [--mb 200]

One server process serves the XTA simulator (under /xta) and a plain baseline (/upload writes
the request body to a file, /download streams a file back). A client process

1. uploads the attachment with a plain streamed httpx POST (baseline),
2. sends it with ``XtaClient.send_message`` (createMessageId + sendMessage, streamed MTOM),
3. downloads it with a plain streamed httpx GET (baseline),
4. fetches it with ``XtaClient.fetch_message`` (getMessage, streamed MTOM answer) into a file.

Printed: MiB/s of each step (best of three), the ratios send/upload and fetch/download
(target >= 0.5), and the peak RSS growth of client and server during the transfers (target
< 64 MB each): VmHWM after the run minus VmRSS before it, read from /proc.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfer_common import (  # noqa: E402
    FileSink,
    Timer,
    baseline_routes,
    chunks,
    proc_kb,
    run,
)

READER = "demo:bench-reader"


def _server(port: int, root: str, ready: Any) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from ozg_gateway.config import default_specs_dir
    from ozg_gateway.xta.simstore import XtaState
    from ozg_gateway.xta.simulator import create_xta_simulator

    specs = default_specs_dir()
    assert specs is not None, "needs ../shared/specs"
    sim = create_xta_simulator(specs, XtaState(Path(root) / "sim"))
    app = Starlette(routes=[*baseline_routes(root, upload_method="POST"), Mount("/xta", sim)])
    ready.set()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", http="httptools")


class _HashingSink(FileSink):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.sha.update(data)
        super().write(data)


def _client(base: str, source: str, root: str, out: Any) -> None:
    import httpx

    from ozg_gateway.connectors.contract import ConnectorEnv
    from ozg_gateway.xta.client import XtaClient
    from ozg_gateway.xta.container import Part
    from ozg_gateway.xta.mapping import Outgoing
    from ozg_gateway.xta.messages import Code, PartyId
    from ozg_gateway.xta.settings import XtaSettings

    path = Path(source)
    size = path.stat().st_size
    settings = XtaSettings(
        management_url=f"{base}/xta/management",
        send_url=f"{base}/xta/send",
        msgbox_url=f"{base}/xta/msgbox",
        author="demo:bench-author",
    )
    client = XtaClient("bench", settings, ConnectorEnv(base, Path(root), None))
    plain = httpx.Client(timeout=600)
    client.check_account_active()  # warm up both connections before measuring memory
    plain.get(f"{base}/xta/")
    rss_before = proc_kb(os.getpid(), "VmRSS")
    timer = Timer()

    def upload() -> None:
        plain.post(f"{base}/upload", content=chunks(path)).raise_for_status()

    def send() -> str:
        message_id = client.create_message_id()
        client.send_message(
            Outgoing(
                message_id=message_id,
                reader=PartyId(READER),
                service="urn:bench",
                business_scenario=Code(
                    "XFALL_DATA", "urn:de:xta:codeliste:business.scenario", "3.6"
                ),
                message_type=Code("MainApplication", "urn:de:payloadSchema:elementName", "1.0"),
                payload_schema="urn:bench",
                message=Part("m@bench", "application/xml", [b"<a/>"], filename="a.xml", size=4),
                attachments=(
                    Part("big@bench", "application/octet-stream", chunks(path), "big.bin", size),
                ),
                now=datetime.now(UTC),
            )
        )
        return message_id

    def download() -> None:
        with plain.stream("GET", f"{base}/download") as response:
            sink = _HashingSink(Path(root) / "plain-download.bin")
            for chunk in response.iter_bytes():
                sink.write(chunk)
            sink.handle.close()

    def fetch() -> str:
        sinks: list[_HashingSink] = []

        def new_sink() -> _HashingSink:
            sinks.append(_HashingSink(Path(root) / f"fetched-{len(sinks)}.bin"))
            return sinks[-1]

        _meta, items = client.fetch_message(PartyId(READER), message_id, new_sink)
        for s in sinks:
            s.handle.close()
        return str(items[-1].sink.sha.hexdigest())

    timer.best("upload", upload)
    message_id = timer.best("send", send)
    timer.best("download", download)
    digest = timer.best("fetch", fetch)
    out.put(
        {
            "times": timer.times,
            "size": size,
            "growth_kb": proc_kb(os.getpid(), "VmHWM") - rss_before,
            "digest": digest,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    result, server_growth, digest = run(
        mb=args.mb,
        digest="sha256",
        server=_server,
        server_args=(),
        client=_client,
        client_args=(),
        probe="/xta/",
    )

    mb = result["size"] / 2**20
    t = result["times"]
    rate = {k: mb / v for k, v in t.items()}
    print(f"attachment: {mb:.0f} MiB, received intact: {result['digest'] == digest}")
    for key in ("upload", "send", "download", "fetch"):
        print(f"  {key:9s} {rate[key]:8.1f} MiB/s  ({t[key]:.2f} s)")
    print(f"send  / plain upload   ratio: {rate['send'] / rate['upload']:.2f}  (target >= 0.5)")
    print(f"fetch / plain download ratio: {rate['fetch'] / rate['download']:.2f}  (target >= 0.5)")
    print(f"peak RSS growth client: {result['growth_kb'] / 1024:.1f} MiB  (target < 64 MB)")
    print(f"peak RSS growth server: {server_growth / 1024:.1f} MiB  (target < 64 MB)")


if __name__ == "__main__":
    main()
