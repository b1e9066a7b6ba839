"""`cob import FILE.837`: a practice-management system's 837P batch becomes encounters.

Every interchange and transaction of the file is read. A transaction that is not an 837P
(an 837I, an 837D, a 4010 file) is refused with its reason; each claim of an 837P is read,
balanced (COB) and checked as `cob submit` checks an encounter, and a bad claim is reported
with its reason and skipped while the good ones start. A file that is not well-formed X12
(undecodable text, a broken envelope) is refused whole, with the segment and position at fault.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from pathlib import Path

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from cob.model import Encounter, Model
from cob.order import birthday_rule_coverages
from cob.validation import InvalidInput, field_path, validate_encounter
from payers.x12.claim_837p import check_837p_balance
from payers.x12.claim_837p_parse import ParsedClaim, UnreadClaim, read_837p, refusal_of_837
from payers.x12.segments import X12Error, decode_x12, transactions_of


class ReadyClaim(Model):
    claim_control_number: str  # CLM01; the encounter id is CLM01 or derived from it
    encounter: Encounter


class SkippedClaim(Model):
    claim_control_number: str
    reason: str


class RefusedTransaction(Model):
    control_number: str  # ST02
    reason: str


class ImportBatch(Model):
    claims: list[ReadyClaim]
    skipped: list[SkippedClaim]
    refused: list[RefusedTransaction]

    @property
    def encounters(self) -> list[Encounter]:
        return [claim.encounter for claim in self.claims]


# 005010X222A1 asks senders to keep a transaction to 5,000 claims (CLM), a few MB; a file 10
# times that is not a practice's batch, and is refused before it is read.
MAX_837_BYTES = 50_000_000


def read_837_file(path: Path) -> bytes:
    """The bytes of an 837 file, or InvalidInput('(file)', one line) when it is missing, a
    directory, unreadable or over 50 MB."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_837_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput("(file)", "no such file") from None
    except IsADirectoryError:
        raise InvalidInput("(file)", "a directory, not a file") from None
    except OSError as error:  # permission denied, a device, ...
        raise InvalidInput("(file)", f"cannot be read: {error.strerror}") from None
    if len(data) > MAX_837_BYTES:
        raise InvalidInput("(file)", f"over {MAX_837_BYTES:,} bytes: split the batch")
    return data


async def start_batch(client: Client, batch: ImportBatch) -> list[tuple[ReadyClaim, str | None]]:
    """Start an encounter for each ready claim of the batch: each with the workflow id it got,
    or None when it was started before (an 837 sent twice starts nothing twice). Each starts
    once the workers keep up (cli/admission.py): a large batch enters at their pace."""
    from cli.admission import Admission
    from cli.encounters import start_encounter

    admission = Admission(client)
    started: list[tuple[ReadyClaim, str | None]] = []
    for ready in batch.claims:
        await admission.wait()
        try:
            started.append((ready, (await start_encounter(client, ready.encounter)).id))
        except WorkflowAlreadyStartedError:
            started.append((ready, None))
    return started


def read_837_batch(data: bytes | str, known_payers: Collection[str], today: date) -> ImportBatch:
    """Raises X12Error for a file that is not X12 text or has a malformed envelope, and nothing
    else; sorts the claims of its 837Ps into ready and skipped (each checked as `cob submit`
    checks an encounter file), and its other transactions into refused."""
    text = decode_x12(data) if isinstance(data, bytes) else data
    batch = ImportBatch(claims=[], skipped=[], refused=[])
    first_of: dict[str, str] = {}  # encounter id -> the CLM01 that took it
    for transaction in transactions_of(text):
        control = transaction.st[2]
        if refusal := refusal_of_837(transaction):
            batch.refused.append(RefusedTransaction(control_number=control, reason=refusal))
            continue
        claims = read_837p(transaction)
        if not claims:
            reason = f"ST {control} holds no claim (CLM)"
            batch.refused.append(RefusedTransaction(control_number=control, reason=reason))
        for claim in claims:
            try:
                encounter = _encounter(claim, known_payers, today)
                if encounter.encounter_id in first_of:
                    raise ValueError(
                        f"encounter id {encounter.encounter_id} is already taken by claim "
                        f"{first_of[encounter.encounter_id]} earlier in this file"
                    )
                first_of[encounter.encounter_id] = claim.claim_control_number
                batch.claims.append(
                    ReadyClaim(claim_control_number=claim.claim_control_number, encounter=encounter)
                )
            except ValidationError as error:
                first = error.errors(include_url=False)[0]
                reason = f"{field_path(first['loc'])}: {first['msg']}"
                batch.skipped.append(
                    SkippedClaim(claim_control_number=claim.claim_control_number, reason=reason)
                )
            except (X12Error, InvalidInput, ValueError) as error:
                batch.skipped.append(
                    SkippedClaim(claim_control_number=claim.claim_control_number, reason=str(error))
                )
    return batch


def _encounter(
    claim: ParsedClaim | UnreadClaim, known_payers: Collection[str], today: date
) -> Encounter:
    """The claim as a checked encounter; raises with the reason it is skipped."""
    if isinstance(claim, UnreadClaim):
        raise claim.error
    claim.require_plan_types()  # each other payer becomes a coverage of the encounter
    check_837p_balance(claim.segments)  # 005010X222A1 COB balancing, before money moves
    # the door an encounter file goes through: what the wire cannot carry is named by its field
    encounter = validate_encounter(claim.encounter_data(), known_payers, today)
    # The parents' birthdays decide; an 837P never carries one for a 2330A other subscriber
    # (and for 2010BA only in a situational DMG): guessing would bill in an order nobody decided.
    if dependent := birthday_rule_coverages(encounter.coverages):
        raise ValueError(
            f"the patient is a dependent child on {len(dependent)} plans "
            f"({', '.join(c.payer_id for c in dependent)}): the birthday rule needs each "
            "subscriber's birth date, which the 837P does not carry for the other subscriber "
            "(2330A); start this encounter with `cob submit` and the subscribers' birth dates"
        )
    return encounter
