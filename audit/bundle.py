"""An audit bundle: one encounter's record, self-contained, for an auditor with neither our
server nor our ledger. `cob audit export` writes it; `cob audit replay --bundle` reads it.

    manifest.json        what is in it, with the SHA-256 of every file (print its own digest
                         when exporting, so the auditor can tell the bundle is the one sent)
    histories/*.json     every workflow history of the encounter, as the server stored it:
                         payloads still encrypted; replaying needs the payload key ids listed
    x12/*.x12            every X12 document exchanged for it (270/271, 837, 999, 277CA, 835)
    statements/*         the patient statement(s)
    audit-events.json    the ledger's audit trail of the encounter, with the chain's hashes
    ledger.json          the ledger's projection of it: order, claims, lines, money

It holds patient data in the clear (X12 documents, the statement): the folder is its owner's
alone (0700, files 0600), like COB_HOME.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from audit.sources import HistoriesNotFound, HistoryTampered, RecordedHistory, payload_key_ids
from contract.ids import encounter_id_of, workflow_id_of
from ledger.documents import documents_for
from ledger.queries import encounter_summary, encounter_timeline
from ledger.tables import to_json

FORMAT = "cob-audit-bundle/1"
MANIFEST = "manifest.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BundleError(ValueError):
    """The bundle cannot be written or read as asked; the message names the file."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Exported:
    directory: Path
    files: int
    manifest_sha256: str


def export(ledger: Engine, encounter: str, records: list[RecordedHistory], out: Path) -> Exported:
    """Write the bundle of `encounter` into `out` (new or empty): its histories (`records`,
    from the server or the archive), and from the ledger its documents, statements, audit
    events and money rows."""
    workflow_id = workflow_id_of(encounter)
    encounter_id = encounter_id_of(workflow_id)
    if not records:
        raise HistoriesNotFound(f"no history of encounter {encounter_id} to export")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BundleError(f"{out} exists and is not an empty folder: choose a new one")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    out.chmod(0o700)
    files: list[dict[str, Any]] = []

    def write(relative: str, data: bytes) -> str:
        path = out / relative
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o600)
        files.append({"path": relative, "sha256": _sha256(data), "bytes": len(data)})
        return relative

    histories = []
    for n, record in enumerate(records, start=1):
        name = f"histories/{n:02d}-{_UNSAFE.sub('_', record.workflow_id)}.json"
        write(name, record.text.encode())
        histories.append(
            {"workflow_id": record.workflow_id, "run_id": record.run_id,
             "workflow_type": record.workflow_type, "file": name, "sha256": record.sha256}
        )  # fmt: skip
    documents = []
    for n, document in enumerate(documents_for(ledger, encounter_id), start=1):
        name = f"x12/{n:03d}-{document.transaction}-{document.direction}.x12"
        write(name, document.text.encode())
        documents.append(
            {"file": name, "key": document.key, "transaction": document.transaction,
             "direction": document.direction, "payer_id": document.payer_id,
             "claim_control_number": document.claim_control_number,
             "problem": document.problem, "recorded_at": document.recorded_at.isoformat()}
        )  # fmt: skip
    summary = encounter_summary(ledger, encounter_id)
    statement = Path(summary["statement_path"]) if summary and summary["statement_path"] else None
    if statement is not None and statement.is_file():
        write(f"statements/{_UNSAFE.sub('_', statement.name)}", statement.read_bytes())
    write("audit-events.json", to_json(encounter_timeline(ledger, workflow_id)).encode())
    write("ledger.json", to_json(summary).encode())
    manifest = {
        "format": FORMAT,
        "encounter_id": encounter_id,
        "workflow_id": workflow_id,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "payload_key_ids": payload_key_ids(records),
        "histories": histories,
        "documents": documents,
        "files": files,
    }
    data = json.dumps(manifest, indent=2, sort_keys=True).encode()
    (out / MANIFEST).write_bytes(data)
    (out / MANIFEST).chmod(0o600)
    return Exported(out, len(files) + 1, _sha256(data))


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise BundleError(f"{directory} is not an audit bundle: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise BundleError(f"{path} is not JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{path} is not a {FORMAT} manifest")
    return manifest


def bundle_problems(directory: Path) -> list[str]:
    """Every file the manifest lists must be there with its SHA-256; nothing else may be."""
    manifest = read_manifest(directory)
    problems = []
    listed = set()
    for entry in manifest.get("files", []):
        listed.add(entry["path"])
        path = directory / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}: missing")
        elif _sha256(path.read_bytes()) != entry["sha256"]:
            problems.append(f"{entry['path']}: changed (its SHA-256 is not the manifest's)")
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory).as_posix()
        if path.is_file() and relative != MANIFEST and relative not in listed:
            problems.append(f"{relative}: not in the manifest")
    return problems


def from_bundle(directory: Path) -> tuple[dict[str, Any], list[RecordedHistory]]:
    """The bundle's manifest and histories; HistoryTampered naming every file that does not
    match the manifest."""
    problems = bundle_problems(directory)
    if problems:
        raise HistoryTampered(
            f"bundle {directory} does not match its manifest: " + "; ".join(problems)
        )
    manifest = read_manifest(directory)
    records = [
        RecordedHistory(
            entry["workflow_id"], entry["run_id"], entry["workflow_type"],
            (directory / entry["file"]).read_text(),
        )
        for entry in manifest["histories"]
    ]  # fmt: skip
    return manifest, records
