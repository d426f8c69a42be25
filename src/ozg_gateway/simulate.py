"""``ozg-gateway simulate …``: each external system's simulator alone, on a port of its own.

For trying a connector configuration, or a client of one's own, against the same protocol the
tests and the demo use.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from ozg_gateway.cli_support import HostOpt, PortOpt, fail
from ozg_gateway.config import default_specs_dir

simulate_app = typer.Typer(help="Simulators of external systems.", no_args_is_help=True)


@simulate_app.command("epayment")
def simulate_epayment(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8090,
    username: Annotated[str | None, typer.Option(help="Require HTTP Basic with this user.")] = None,
    password: Annotated[str | None, typer.Option(help="Password for --username.")] = None,
    epaybl_secret: Annotated[
        str | None,
        typer.Option(help="Run the ePayBL simulator instead; notifications are hashed with it."),
    ] = None,
) -> None:
    """Run the XBezahldienste simulator (or, with --epaybl-secret, ePayBL) with its paypage."""
    from ozg_gateway.epayment.epaybl.simulator import create_epaybl_simulator
    from ozg_gateway.epayment.xbezahldienste.simulator import create_simulator

    base = f"http://{host}:{port}"
    if epaybl_secret:
        typer.echo(f"ePayBL simulator: {base}/epayment/fachverfahren/v1_0/mandanten/m1/")
        typer.echo("  bewirtschafter/b1 (mandant m1, bewirtschafter b1)")
        uvicorn.run(create_epaybl_simulator(secret=epaybl_secret), host=host, port=port)
        return
    typer.echo(
        f"XBezahldienste simulator: {base}/paymenttransaction/{{originatorId}}/{{endPointId}}"
    )
    typer.echo(
        f"status: {base}/status/{{originatorId}}/{{endPointId}}  paypage: {base}/paypage/{{id}}"
    )
    uvicorn.run(create_simulator(username=username, password=password), host=host, port=port)


@simulate_app.command("eid")
def simulate_eid(host: HostOpt = "127.0.0.1", port: PortOpt = 8091) -> None:
    """Run the eID-Server simulator alone; prints the key files to configure the gateway with."""
    from ozg_gateway.eid.simulator import create_eid_simulator, demo_keys

    folder = Path(tempfile.mkdtemp(prefix="ozg-eid-sim-"))
    server, gateway, files = demo_keys(folder)
    base = f"http://{host}:{port}"
    typer.echo(
        f"eID-Server simulator: {base}/eid  (scripted eID-Client: {base}/client?tcTokenURL=…)"
    )
    typer.echo(f"gateway signing key: {files['gateway_key']}  certificate: {files['gateway_cert']}")
    typer.echo(f"server certificate to trust: {files['server_cert']}")
    uvicorn.run(
        create_eid_simulator(server=server, client_certificate=gateway.certificate),
        host=host,
        port=port,
    )


@simulate_app.command("bundid")
def simulate_bundid(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8094,
    sp_entity_id: Annotated[
        str, typer.Option(help="The gateway's entityID (https, no port).")
    ] = "https://maintal.example/ozg-gateway",
) -> None:
    """Run a BundID-like identity provider alone; prints the key files for the gateway."""
    from ozg_gateway.eid.bundid.simulator import create_bundid_simulator, demo_keys

    keys = demo_keys(Path(tempfile.mkdtemp(prefix="ozg-bundid-sim-")))
    entity = f"http://{host}:{port}/idp"
    typer.echo(f"BundID simulator: http://{host}:{port}/sso  (idp_entity_id = {entity})")
    for name, path in keys.files.items():
        typer.echo(f"  {name}: {path}")
    uvicorn.run(
        create_bundid_simulator(
            idp=keys.idp,
            entity_id=entity,
            sp_signing=keys.signing.certificate,
            sp_encryption=keys.encryption.certificate,
            sp_entity_id=sp_entity_id,
        ),
        host=host,
        port=port,
    )


@simulate_app.command("xta")
def simulate_xta(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8092,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep mailboxes here (default: a temporary directory).")
    ] = None,
    accounts: Annotated[
        Path | None,
        typer.Option(
            help="TOML accounts file: only listed identities (optionally bound to a "
            "client certificate's SHA-256) are served."
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="Serve HTTPS with this certificate.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Private key of --tls-cert.")] = None,
    client_ca: Annotated[
        Path | None, typer.Option(help="Require client certificates issued by this CA (PEM).")
    ] = None,
    inline_answers: Annotated[
        bool, typer.Option(help="Answer with inline base64 instead of MTOM.")
    ] = False,
    specs_dir: Annotated[Path | None, typer.Option(help="Directory with xta/*.xsd.")] = None,
) -> None:
    """Run the XTA 2 V3 server simulator alone (three ports, strict XSD checks, mailboxes)."""
    import ssl

    from ozg_gateway.peercert import PeerCertProtocol
    from ozg_gateway.xta.simstore import XtaState, load_accounts
    from ozg_gateway.xta.simulator import create_xta_simulator

    specs = specs_dir or default_specs_dir()
    if specs is None or not (specs / "xta" / "XTA-Webservice-Globale-Elemente.xsd").is_file():
        raise fail("the XTA simulator validates against the XTA XSDs: pass --specs-dir")
    if bool(tls_cert) != bool(tls_key) or (client_ca and not tls_cert):
        raise fail("--tls-cert and --tls-key go together; --client-ca needs them")
    state = XtaState(
        data_dir or Path(tempfile.mkdtemp(prefix="ozg-xta-sim-")),
        accounts=load_accounts(accounts) if accounts else None,
    )
    app = create_xta_simulator(specs, state, mtom_responses=not inline_answers)
    base = f"{'https' if tls_cert else 'http'}://{host}:{port}"
    for name in ("management", "send", "msgbox"):
        typer.echo(f"XTA {name} port: {base}/{name}")
    typer.echo(f"mailboxes: {state.root}  overview: {base}/")
    tls: dict[str, Any] = {}
    if tls_cert:
        tls = {"ssl_certfile": str(tls_cert), "ssl_keyfile": str(tls_key)}
        if client_ca:
            tls |= {"ssl_ca_certs": str(client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    uvicorn.run(app, host=host, port=port, http=PeerCertProtocol, **tls)


@simulate_app.command("fitconnect")
def simulate_fitconnect(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8093,
    client_id: Annotated[str, typer.Option(help="OAuth2 client of the sender.")] = "sender",
    client_secret: Annotated[str, typer.Option(help="Its secret.")] = "sender-secret",  # noqa: S107 - a simulator
    specs_dir: Annotated[Path | None, typer.Option(help="Validate bodies against these.")] = None,
) -> None:
    """Run the FIT-Connect Submission API simulator with one destination that answers itself."""
    import uuid

    from ozg_gateway.connectors.fitconnect.simulator import (
        Destination,
        FitConnectState,
        create_fitconnect_simulator,
        simulator_key,
    )

    state = FitConnectState(clients={client_id: client_secret})
    destination = str(uuid.uuid4())
    state.destinations[destination] = Destination(destination, simulator_key("destination"))
    base = f"http://{host}:{port}"
    typer.echo(f"FIT-Connect Submission API: {base}  token URL: {base}/token")
    typer.echo(f"client_id: {client_id}  client_secret: {client_secret}")
    typer.echo(f"destination_id: {destination}  (accepts what decrypts and matches its hashes)")
    app_ = create_fitconnect_simulator(specs_dir or default_specs_dir(), state)
    uvicorn.run(app_, host=host, port=port)


@simulate_app.command("open311")
def simulate_open311(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8094,
    api_key: Annotated[str, typer.Option(help="The API key clients must send.")] = "open311-key",
) -> None:
    """Run the Open311 GeoReport v2 simulator (AEM service codes 001–005, 099)."""
    from ozg_gateway.connectors.open311.simulator import create_open311_simulator

    base = f"http://{host}:{port}"
    typer.echo(f"Open311 GeoReport v2: {base}/services.json  {base}/requests.json")
    typer.echo(f"api_key: {api_key}")
    uvicorn.run(create_open311_simulator(api_key=api_key), host=host, port=port)
