"""A payer's new adjudication of a claim after the encounter's patient balance was billed to the
guarantor's account: a late 835 (a payment after an appeal or a reprocessing), or a reversal
and its corrected claim (CLP02 22, then the new CLP; ASC X12 005010X221A1 loop 2100).

The patient owes what the last payer that adjudicated the encounter left as PR
(cob.money.open_balance), so only that payer's change moves the patient's share at once. A
change at an earlier payer would have the later payers billed again from new figures, and a
new balance that a payer later in the order was never billed for is that payer's to look at
first: both are a person's call (industry practice), never the account's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from cob.accounts import AccountLine, account_lines
from cob.model import Remittance
from cob.money import LineAccount, account_line, leaves_open_balance, remaining_patient_liability


class NotReposted(ValueError):
    """Why a new adjudication is the team's to post rather than the account's to take."""


def readjudicated(
    in_force: Sequence[Remittance], late: Remittance, unbilled_after: Sequence[str]
) -> list[Remittance]:
    """The encounter's adjudications in payer order (`in_force`: every claim its patient
    balance rests on) with `late` in place of its claim's: what the patient's share rests on
    now. `unbilled_after` are the payers after `late`'s in the encounter's order that were
    never billed (the earlier payers left nothing for them). NotReposted, with the reason,
    when `late` is not the last payer's claim, when it leaves out a line its claim
    adjudicated before, or when it leaves a balance a later payer was never billed for."""
    ccn, payer = late.claim_control_number, late.payer_id
    ccns = [remittance.claim_control_number for remittance in in_force]
    if ccn not in ccns:
        raise NotReposted(
            f"claim {ccn} is not one the encounter's patient balance rests on (replaced or "
            "set aside)"
        )
    at = ccns.index(ccn)
    later = [remittance.payer_id for remittance in in_force[at + 1 :]]
    if later:
        raise NotReposted(
            f"{payer} is not the last payer that adjudicated the encounter: "
            f"{', '.join(later)} adjudicated after it from its old figures and would be billed "
            "again, which a person decides"
        )
    missing = sorted(
        {line.line_number for line in in_force[at].lines}
        - {line.line_number for line in late.lines}
    )
    if missing:
        raise NotReposted(
            f"the new adjudication leaves out line(s) {', '.join(map(str, missing))}, which "
            f"{payer} adjudicated before"
        )
    if unbilled_after and leaves_open_balance(late):
        raise NotReposted(
            f"it leaves {remaining_patient_liability(late)} open, which "
            f"{', '.join(unbilled_after)} after {payer} in the order was never billed for"
        )
    return [*in_force[:at], late]


def reposted_lines(
    encounter_id: str,
    service_date: date,
    billed: Sequence[LineAccount],
    remittances: list[Remittance],
) -> list[AccountLine]:
    """The encounter's lines (`billed`: each line's number, code and charge) recomputed from
    `remittances` in payer order, folded as at the encounter's close (cob.money.account_line,
    the share split by kind: cob.accounts.account_lines), each checked to the cent.
    UnbalancedLine names the line that does not balance; NotReposted a line the payers
    adjudicated that the encounter never billed."""
    numbers = {line.line_number for line in billed}
    strays = sorted(
        {line.line_number for remittance in remittances for line in remittance.lines} - numbers
    )
    if strays:
        raise NotReposted(
            f"line(s) {', '.join(map(str, strays))} of the adjudication are not lines of "
            f"encounter {encounter_id}"
        )
    accounts = [
        account_line(line.line_number, line.procedure_code, line.charge, remittances)
        for line in billed
    ]
    return account_lines(encounter_id, service_date, accounts, remittances)
