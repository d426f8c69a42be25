"""FIT-Connect with a large attachment: memory of both sides and throughput against plain httpx.

    .venv/bin/python bench/fitconnect.py [--mb 200]

One server process serves the FIT-Connect simulator (under /fc) and a plain baseline (/upload
writes the request body to a file, /download streams a file back). A client process

1. uploads the attachment with a plain streamed httpx PUT (baseline),
2. sends it as the gateway does (``transfer.upload``: read, SHA-512, encrypt to JWE with
   RSA-OAEP-256 + A256GCM and PUT, in one streamed pass) to an announced submission,
3. downloads it with a plain streamed httpx GET (baseline),
4. receives it as the gateway does (``transfer.download``: GET, decrypt, SHA-512 and write,
   streamed) into a file.

Printed: MiB/s of each step (best of three), the ratios send/upload and receive/download
(target >= 0.5), and the peak RSS growth of client (the gateway's side) and server (the
simulator) during the transfers (target < 64 MB each): VmHWM after the run minus VmRSS before.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transfer_common import (  # noqa: E402
    CHUNK,
    FileSink,
    Timer,
    baseline_routes,
    chunks,
    proc_kb,
    run,
)

DESTINATION = "d7f2b7c4-7d1e-4c55-9a3e-5b0c2f1e0b10"
SERVICE = "urn:de:fim:leika:leistung:99010001001000"
CLIENT, SECRET = "bench-client", "bench-secret"


def _server(port: int, root: str, destination_jwk: dict[str, Any], ready: Any) -> None:
    import uvicorn
    from joserfc.jwk import RSAKey
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from ozg_gateway.config import default_specs_dir
    from ozg_gateway.connectors.fitconnect.simulator import (
        Destination,
        FitConnectState,
        create_fitconnect_simulator,
    )

    state = FitConnectState(clients={CLIENT: SECRET}, storage=Path(root) / "sim")
    key = RSAKey.import_key(destination_jwk)
    state.destinations[DESTINATION] = Destination(DESTINATION, key)
    sim = create_fitconnect_simulator(default_specs_dir(), state)
    app = Starlette(routes=[*baseline_routes(root, upload_method="PUT"), Mount("/fc", sim)])
    ready.set()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", http="httptools")


def _client(base: str, source: str, root: str, destination_jwk: dict[str, Any], out: Any) -> None:
    import httpx
    from joserfc.jwk import RSAKey

    from ozg_gateway.connectors.contract import AttachmentRef, ConnectorEnv
    from ozg_gateway.connectors.fitconnect import transfer
    from ozg_gateway.connectors.fitconnect.client import FitConnectClient
    from ozg_gateway.connectors.oauth import OAuth2
    from ozg_gateway.http import Timeouts

    path = Path(source)
    size = path.stat().st_size
    private = RSAKey.import_key(destination_jwk)
    public = RSAKey.import_key({**private.as_dict(private=False), "kid": private.kid})
    auth = OAuth2(token_url=f"{base}/fc/token", client_id=CLIENT, client_secret=SECRET)  # type: ignore[arg-type]
    client = FitConnectClient(
        "bench",
        api_url=f"{base}/fc",
        auth=auth,
        env=ConnectorEnv(base, Path(root), None),
        timeouts=Timeouts(connect=5, read=600, write=600),
        tls=None,
    )
    plain = httpx.Client(timeout=600)
    loop = asyncio.new_event_loop()  # the worker's loop: attachments are async streams
    threading.Thread(target=loop.run_forever, daemon=True).start()

    async def read_file() -> AsyncIterator[bytes]:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    client.info()  # warm up both connections before measuring memory
    plain.get(f"{base}/fc/v1/info")
    rss_before = proc_kb(os.getpid(), "VmRSS")
    timer = Timer()

    def upload() -> None:
        plain.put(f"{base}/upload", content=chunks(path)).raise_for_status()

    sent: list[str] = []

    def send() -> str:
        created = client.create_submission(
            {
                "destinationId": DESTINATION,
                "announcedAttachments": ["a1b2c3d4-0000-4000-8000-000000000001"],
                "serviceType": {"name": "Bench", "identifier": SERVICE},
            }
        )
        sent.append(str(created["submissionId"]))
        ref = AttachmentRef(
            "a1b2c3d4-0000-4000-8000-000000000001",
            "big.bin",
            "application/octet-stream",
            size,
            "",
            read_file,
        )
        return transfer.upload(client, sent[-1], ref, public, loop)

    def download() -> None:
        with plain.stream("GET", f"{base}/download") as response:
            blob = FileSink(Path(root) / "plain-download.bin")
            for chunk in response.iter_bytes():
                blob.write(chunk)
            blob.handle.close()

    def receive() -> str:
        blob = FileSink(Path(root) / "received.bin")
        digest = transfer.download(
            client, sent[-1], "a1b2c3d4-0000-4000-8000-000000000001", private, blob
        )
        blob.handle.close()
        return digest

    timer.best("upload", upload)
    sent_digest = timer.best("send", send)
    timer.best("download", download)
    received_digest = timer.best("receive", receive)
    out.put(
        {
            "times": timer.times,
            "size": size,
            "growth_kb": proc_kb(os.getpid(), "VmHWM") - rss_before,
            "intact": sent_digest == received_digest,
            "digest": received_digest,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    from joserfc.jwk import RSAKey

    destination = RSAKey.generate_key(4096, parameters={"kid": "bench-destination-key"})
    jwk = destination.as_dict(private=True)
    result, server_growth, digest = run(
        mb=args.mb,
        digest="sha512",
        server=_server,
        server_args=(jwk,),
        client=_client,
        client_args=(jwk,),
        probe="/fc/v1/info",
    )

    mb = result["size"] / 2**20
    t = result["times"]
    rate = {k: mb / v for k, v in t.items()}
    intact = result["intact"] and result["digest"] == digest
    print(f"attachment: {mb:.0f} MiB, received intact (SHA-512): {intact}")
    for key in ("upload", "send", "download", "receive"):
        print(f"  {key:9s} {rate[key]:8.1f} MiB/s  ({t[key]:.2f} s)")
    print(f"send    / plain upload   ratio: {rate['send'] / rate['upload']:.2f}  (target >= 0.5)")
    print(
        f"receive / plain download ratio: {rate['receive'] / rate['download']:.2f}  (target >= 0.5)"
    )
    print(f"peak RSS growth gateway side: {result['growth_kb'] / 1024:.1f} MiB  (target < 64 MB)")
    print(f"peak RSS growth simulator:    {server_growth / 1024:.1f} MiB  (target < 64 MB)")


if __name__ == "__main__":
    main()
