"""`cob audit`: what an auditor runs, years later if need be.

replay ENCOUNTER    replay every history of the encounter against today's workflow code
                    and print what was decided, read from the histories themselves
verify              the audit trail's hash chain, the archives' digests, and every money
                    line traced to its 835 and its history event
export ENCOUNTER    a self-contained bundle for an auditor with no server and no ledger
archive ENCOUNTER   archive a closed encounter's histories now (encounters archive
                    themselves when they close; this is for those closed before)
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.terminal import errors, run

app = typer.Typer(no_args_is_help=True, help="Replay, verify and export encounters for an audit")


async def _records(encounter: str, archive: bool, bundle: Path | None):
    """(where they came from, the histories)."""
    from audit.bundle import from_bundle
    from audit.sources import from_archive, from_server

    if bundle is not None:
        manifest, records = from_bundle(bundle)
        keys = ", ".join(manifest["payload_key_ids"]) or "none"
        return f"bundle {bundle} (every file matches its manifest; payload keys: {keys})", records
    if archive:
        from ledger.db import make_engine

        return "the ledger's archive (every history matches its SHA-256)", from_archive(
            make_engine(), encounter
        )
    from workers.temporal import connect, temporal_address

    return f"the Temporal server at {temporal_address()}", await from_server(
        await connect(), encounter
    )


def _fail(error: Exception) -> None:
    errors.print(f"[red]{error}[/]", highlight=False)
    raise typer.Exit(1)


@app.command()
def replay(
    encounter: str = typer.Argument(
        None, help="encounter id or workflow id (with --bundle: the bundle's, if omitted)"
    ),
    archive: bool = typer.Option(False, "--archive", help="from the ledger's archive"),
    bundle: Path | None = typer.Option(None, help="from an exported bundle (no server, no ledger)"),
    as_json: bool = typer.Option(False, "--json", help="the decisions as JSON"),
) -> None:
    """Replay every history of ENCOUNTER (the encounter, its claims, their appeals) against
    today's workflow code with Temporal's Replayer, and print what was decided, read from
    the histories: the order of benefits and its rules, each claim's lines, denial routes,
    the timers that fired and the deadlines they guarded, and every person's action. A
    history the code no longer reproduces is named with the event where it diverges: exit 1."""
    from audit.bundle import BundleError
    from audit.decisions import read_decisions, render
    from audit.replay import replay as replay_histories
    from audit.sources import HistoriesNotFound, HistoryTampered
    from workers.codec import data_converter

    if archive and bundle is not None:
        _fail(ValueError("choose one source: --archive or --bundle"))
    if encounter is None and bundle is None:
        _fail(ValueError("name the ENCOUNTER to replay (or give --bundle DIR)"))

    async def go() -> int:
        try:
            source, records = await _records(encounter or "", archive, bundle)
        except (HistoriesNotFound, HistoryTampered, BundleError) as error:
            _fail(error)
        if encounter is not None and bundle is not None:
            from contract.ids import encounter_workflow_of, workflow_id_of

            wanted = encounter_workflow_of(workflow_id_of(encounter))
            if records and records[0].workflow_id.split("/")[0] != wanted:
                _fail(ValueError(f"bundle {bundle} holds {records[0].workflow_id}, not {wanted}"))
        outcomes = await replay_histories(records)
        decisions = await read_decisions([r.history() for r in records], data_converter())
        diverged = [o for o in outcomes if not o.replayed]
        if as_json:
            print(json.dumps({
                "source": source,
                "replays": [o.__dict__ for o in outcomes],
                "decisions": json.loads(decisions.to_json()),
            }, indent=2, default=str))  # fmt: skip
        else:
            print(f"{len(records)} histories from {source}")
            for outcome in outcomes:
                print(outcome.line())
            print()
            for line in render(decisions):
                print(line)
        for outcome in diverged:
            errors.print(outcome.line(), markup=False, highlight=False)
        return 1 if diverged else 0

    code = run(go())
    if code:
        raise typer.Exit(code)


@app.command()
def verify(
    encounter: str | None = typer.Option(None, help="only this encounter's archives and money"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="print every traced claim"),
) -> None:
    """Prove the ledger: the audit trail's hash chain is whole (a changed, deleted or added
    row is named), every archived history matches its SHA-256 and the digest the audit trail
    recorded, and every money line (charge, allowed, paid, CAS) equals, to the cent, the 835
    it came from and the remittance in its claim's archived history. Exit 1 on any problem."""
    from audit.verify import verify as verify_ledger
    from contract.ids import encounter_id_of, workflow_id_of
    from ledger.db import make_engine

    encounter_id = encounter_id_of(workflow_id_of(encounter)) if encounter else None
    result = run(verify_ledger(make_engine(), encounter_id))
    print(
        f"audit trail: {result.chain_events} events chained"
        + (
            f" ({result.chain_legacy} recorded before the chain began)"
            if result.chain_legacy
            else ""
        )
        + f", head {result.chain_head[:16] or '-'}"
    )
    print(f"archives: {result.archives} histories checked against their SHA-256")
    print(f"money: {result.lines} lines traced to their 835 and history event")
    for line in result.traces if verbose else []:
        print(f"  {line}")
    if result.untraced:
        print(f"not archived yet (traced to the 835 only): {len(result.untraced)} claim(s)")
        for line in result.untraced if verbose else []:
            print(f"  {line}")
    for problem in result.problems:
        errors.print(f"PROBLEM {problem}", markup=False, highlight=False)
    if result.problems:
        errors.print(f"{len(result.problems)} problem(s)", markup=False)
        raise typer.Exit(1)
    print("verified: no problems")


@app.command()
def export(
    encounter: str = typer.Argument(..., help="encounter id or workflow id"),
    out: Path = typer.Option(..., help="a new or empty folder for the bundle"),
    live: bool = typer.Option(
        False, "--live", help="histories from the server even when the ledger archived them"
    ),
) -> None:
    """Write a self-contained audit bundle of ENCOUNTER: its histories (still encrypted),
    its X12 documents, statements, audit events and ledger rows, and a manifest of SHA-256s.
    `cob audit replay --bundle DIR` replays it with no server and no ledger (the payload
    key is needed). The bundle holds patient data: it is written for its owner only."""
    from audit.bundle import BundleError
    from audit.bundle import export as export_bundle
    from audit.sources import HistoriesNotFound, HistoryTampered
    from ledger.db import make_engine

    async def go():
        ledger = make_engine()
        try:
            try:  # the archive first: it is what closed, and needs no server
                _, records = await _records(encounter, archive=not live, bundle=None)
            except HistoriesNotFound:
                _, records = await _records(encounter, archive=False, bundle=None)
            return export_bundle(ledger, encounter, records, out)
        except (HistoriesNotFound, HistoryTampered, BundleError) as error:
            _fail(error)

    exported = run(go())
    print(f"wrote {exported.files} files to {exported.directory}")
    print(f"manifest SHA-256 {exported.manifest_sha256} (keep it: it identifies this bundle)")


@app.command("archive")
def archive_now(encounter: str = typer.Argument(..., help="encounter id or workflow id")) -> None:
    """Archive a closed encounter's histories in the ledger now (idempotent)."""
    from temporalio.service import RPCError, RPCStatusCode

    from activities.archive import StillRunning, archive_encounter
    from contract.ids import encounter_workflow_of, workflow_id_of
    from ledger.db import make_engine
    from workers.temporal import connect

    workflow_id = encounter_workflow_of(workflow_id_of(encounter))

    async def go():
        try:
            return await archive_encounter(await connect(), make_engine(), workflow_id)
        except StillRunning as error:
            _fail(ValueError(f"{error}: it is archived when it closes"))
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            _fail(LookupError(f"the Temporal server has no workflow {workflow_id}"))

    result = run(go())
    print(
        f"{len(result.workflows)} histories of {result.encounter_id} in the archive "
        f"({len(result.newly_archived)} new)"
    )
