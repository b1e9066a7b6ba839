"""Starting encounters and reading their status: shared by `cob submit`, `cob status`, `cob list`
and the demo."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from cob.model import Encounter, shown
from cob.validation import MAX_CHARGE, InvalidInput, validate_encounter
from contract import search_attributes
from contract.ids import TASK_QUEUE, encounter_workflow_id
from contract.messages import GENERATION, EncounterRun, EncounterStatus
from payers.directory import known_payer_ids
from workflows.encounter import EncounterWorkflow


def load_encounter(path: Path, today: date | None = None) -> Encounter:
    """Read and validate one encounter file; InvalidInput names the field at fault."""
    return validate_encounter(read_json(path), known_payer_ids(), today or date.today())


# An encounter file is a few KB (50 lines, 11 coverages at most): a bigger one is not one, and
# is refused before it is parsed.
MAX_JSON_BYTES = 1_000_000
MAX_NUMBER_DIGITS = 100  # beyond any amount or count; Python refuses ints of 4,300 digits


def read_json(path: Path) -> object:
    """The JSON value of a file, or InvalidInput('(file)', one line) when it cannot be read as
    one: missing, a directory, unreadable, over 1 MB, not UTF-8, not JSON, nested too deeply,
    NaN or Infinity (not JSON: RFC 8259 section 6), a number of more than 100 digits, or a key
    given twice in one object (which of the two was meant?). Numbers with a fraction are read
    as Decimal, never rounded through float."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput("(file)", f"{path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput("(file)", f"{path} is a directory, not a file") from None
    except OSError as error:  # permission denied, a device, ...
        raise InvalidInput("(file)", f"{path} cannot be read: {error.strerror}") from None
    if len(data) > MAX_JSON_BYTES:
        raise InvalidInput("(file)", f"{path} is over {MAX_JSON_BYTES:,} bytes: not an encounter")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            "(file)", f"{path} is not UTF-8 text: byte {error.start} is 0x{data[error.start]:02x}"
        ) from None
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_int=_whole_number,
            parse_constant=_not_json,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as error:
        raise InvalidInput(
            "(file)", f"{path} is not valid JSON: {error.msg} at line {error.lineno}"
        ) from None
    except RecursionError:
        raise InvalidInput("(file)", f"{path} is not valid JSON: it nests too deeply") from None
    except InvalidInput as error:
        raise InvalidInput("(file)", f"{path} is not valid JSON: {error.message}") from None


def _whole_number(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise InvalidInput("(file)", f"a number of {len(text)} digits")
    return int(text)


def _not_json(name: str) -> object:
    raise InvalidInput("(file)", f"{name} is not a number JSON allows")


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found: dict[str, object] = {}
    for key, value in pairs:
        if key in found:
            raise InvalidInput("(file)", f"the key {shown(key)} is given twice in one object")
        found[key] = value
    return found


async def start_encounter(
    client: Client,
    encounter: Encounter,
    correction_wait_days: int = 30,
    task_queue: str = TASK_QUEUE,
    era_poll_days: int = 1,
) -> WorkflowHandle:
    """Start one EncounterWorkflow; an encounter already started is refused, not restarted."""
    run = EncounterRun(
        encounter=encounter,
        correction_wait_days=correction_wait_days,
        era_poll_days=era_poll_days,
        generation=GENERATION,
    )
    return await client.start_workflow(
        EncounterWorkflow.run,
        run,
        id=encounter_workflow_id(encounter.encounter_id),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )


async def encounter_status(client: Client, workflow_id: str) -> EncounterStatus:
    handle = client.get_workflow_handle(workflow_id)
    return await handle.query(EncounterWorkflow.status)


async def encounter_status_or_none(client: Client, workflow_id: str) -> EncounterStatus | None:
    """The encounter's status; None when there is no such workflow."""
    try:
        return await encounter_status(client, workflow_id)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return None


WITHIN = re.compile(r"^(\d{1,4})([dw]?)$")


def parse_within(text: str) -> timedelta:
    """`14d`, `2w` or `14` (days), as `cob list --deadline-within` takes it."""
    found = WITHIN.fullmatch(text.strip())
    if not found:
        raise InvalidInput("--deadline-within", f"{text!r} is not a number of days like 14d or 2w")
    n, unit = int(found[1]), found[2]
    return timedelta(weeks=n) if unit == "w" else timedelta(days=n)


def parse_balance_over(text: str) -> Decimal:
    """`cob list --balance-over`: an amount from 0 to the largest charge taken, written as the
    visibility query needs it (plain digits, never 1E+3, NaN or Infinity)."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput("--balance-over", f"{text!r} is not an amount like 25.00") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_CHARGE:
        raise InvalidInput("--balance-over", f"{text!r} is not an amount from 0 to {MAX_CHARGE}")
    return Decimal(f"{abs(amount):f}")  # -0 is 0


def list_query(
    stage: str | None = None,
    payer: str | None = None,
    balance_over: Decimal | None = None,
    deadline_by: datetime | None = None,
    underpaid: bool = False,
) -> str:
    """The visibility query `cob list` sends (the Temporal UI takes the same text)."""
    terms = ["WorkflowType = 'EncounterWorkflow'"]
    for attribute, value in (
        (search_attributes.STAGE, stage),
        (search_attributes.CURRENT_PAYER, payer),
    ):
        if value is not None:
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
                raise InvalidInput(
                    "--stage" if attribute is search_attributes.STAGE else "--payer",
                    f"{value!r} is not a stage or payer id",
                )
            terms.append(f"{attribute.name} = '{value}'")
    if balance_over is not None:
        terms.append(f"{search_attributes.PATIENT_BALANCE.name} > {balance_over}")
    if deadline_by is not None:  # overdue ones too: they need the team most
        by = deadline_by.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        terms.append(f"{search_attributes.NEXT_DEADLINE.name} <= '{by}'")
    if underpaid:  # a payer paid less than the engine expected (cob.expected)
        terms.append(f"{search_attributes.UNDERPAID.name} = true")
    return " AND ".join(terms)
