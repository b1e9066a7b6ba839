"""`cob demo`, `cob server`, `cob worker`, `cob codec-server` and `cob payers serve`: the parts
that run until Ctrl-C (the embedded Temporal server, a worker, the codec server, the payer
simulator), alone or all together."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer

from cli.terminal import console, errors, run

payers_app = typer.Typer(no_args_is_help=True, help="The payer simulator")

EXAMPLES = Path("examples")


def demo(
    keep: bool = typer.Option(False, "--keep", help="leave the server and UI up until Ctrl-C"),
    examples: Path = typer.Option(EXAMPLES, help="folder of encounter JSON files"),
    port: int = typer.Option(7233, help="Temporal frontend port"),
    ui_port: int = typer.Option(8233, help="Temporal UI port"),
    codec_port: int = typer.Option(8081, help="codec server port (a free one if taken)"),
) -> None:
    """Start Temporal, the payer simulator and a worker; run every example encounter."""
    from cli.demo import run_demo

    code = run(run_demo(examples, keep, console, port, ui_port, codec_port))
    raise typer.Exit(code)


def server(
    port: int = typer.Option(7233),
    ui_port: int = typer.Option(8233),
    codec_port: int = typer.Option(8081, help="codec server port (a free one if taken)"),
) -> None:
    """Run the embedded Temporal dev server alone (and the codec server its UI reads
    payloads through), until Ctrl-C."""
    from ledger.db import cob_home
    from workers.codec import key_source_line, keyring_from_environment
    from workers.codec_server import start_beside_ui
    from workers.devserver import DevServer

    async def serve() -> None:
        console.print(key_source_line(keyring_from_environment()), soft_wrap=True)
        codec = start_beside_ui(codec_port, f"http://127.0.0.1:{ui_port}")
        dev = DevServer(cob_home() / "temporal", port, ui_port, codec_endpoint=codec.url)
        try:
            await dev.start()
            console.print(
                f"Temporal at {dev.address}, UI at {dev.ui_url}, codec server at {codec.url}; "
                "Ctrl-C stops it"
            )
            await asyncio.Event().wait()
        finally:
            dev.stop()
            codec.stop()

    run(serve())


def api(
    port: int = typer.Option(8400, help="the port of the API (and the console)"),
    host: str = typer.Option("127.0.0.1", help="bind address"),
) -> None:
    """Serve the billing team's HTTP API (OpenAPI at /docs) until Ctrl-C: the CLI's operations
    for users signed in with a token (`cob users add NAME --role ROLE`), each allowed what its
    role allows; on the ledger (DATABASE_URL) and Temporal (TEMPORAL_ADDRESS)."""
    from console.app import serve

    serve(host, port)


def codec_server(
    port: int = typer.Option(8081),
    host: str = typer.Option("127.0.0.1", help="bind address (it decrypts: keep it local)"),
    ui_origin: str = typer.Option(
        "http://127.0.0.1:8233", help="the Temporal UI's origin, the only one CORS allows"
    ),
) -> None:
    """Serve the Temporal UI's remote codec (POST /decode, /encode) with the payload keys,
    until Ctrl-C; start the UI with `--ui-codec-endpoint http://127.0.0.1:PORT`."""
    from workers.codec_server import serve

    serve(host, port, ui_origin)


def worker(
    payer_url: str = typer.Option(
        os.environ.get("COB_PAYER_URL", "http://127.0.0.1:8090"), help="payer simulator URL"
    ),
    register_search_attributes: bool = typer.Option(
        False,
        "--register-search-attributes",
        help="add the workflows' search attributes the namespace lacks, instead of refusing",
    ),
) -> None:
    """Run a worker against TEMPORAL_ADDRESS (default the embedded server at 127.0.0.1:7233).
    It refuses to start, naming them, when the namespace lacks a search attribute the
    workflows set. With COB_METRICS_ADDRESS (host:port) it serves Prometheus metrics there
    at /metrics: the SDK's temporal_* and the engine's cob_*."""
    from activities.accounts import PolicyFileError, practice_policy
    from ledger.db import make_engine
    from workers.logs import configure_worker_logging
    from workers.metrics import metrics_address, metrics_runtime, report_open_tasks
    from workers.temporal import connect, temporal_address, verify_search_attributes
    from workers.worker import WorkerSettings, build_worker, payers_unreachable

    configure_worker_logging()
    try:  # read by every account the worker starts: a bad file stops it now, not later
        practice_policy()
    except PolicyFileError as error:
        errors.print(str(error), markup=False, highlight=False)
        raise typer.Exit(1) from None
    address = metrics_address()  # COB_METRICS_ADDRESS: a bad one stops it now too

    async def work() -> None:
        runtime = metrics_runtime(address) if address else None
        client = await connect(runtime=runtime)
        await verify_search_attributes(client, register=register_search_attributes)
        worker = build_worker(client, WorkerSettings(payer_url=payer_url))
        # Not fatal: payers come and go, and their calls are retried; the workflows go on.
        if problem := await payers_unreachable(payer_url):
            errors.print(f"warning: {problem}", markup=False, highlight=False)
        served = f", metrics at http://{address}/metrics" if address else ""
        console.print(f"worker on {temporal_address()}, payers at {payer_url}{served}")
        if runtime is None:
            await worker.run()
            return
        tasks_open = asyncio.create_task(report_open_tasks(runtime.metric_meter, make_engine()))
        try:
            await worker.run()
        finally:
            tasks_open.cancel()

    run(work())


@payers_app.command("serve")
def payers_serve(
    port: int = typer.Option(8090),
    host: str = typer.Option("127.0.0.1"),
    state: Path = typer.Option(None, help="SQLite file for the payers' own state"),
    latency: float = typer.Option(0.0, help="seconds added to every answer"),
) -> None:
    """Run the payer simulator (HTTP) until Ctrl-C."""
    from ledger.db import cob_home
    from payers.simulator.serve import serve

    serve(host, port, state or cob_home() / "payers.db", latency)
