"""Money: cents, and the line invariant that holds everywhere.

For every service line, across all payers in order (DESIGN.md, "Money invariant"):

    charge = Σ payer paid + Σ adjustments + patient responsibility

Each payer's own remittance line balances too: charge = paid + Σ CAS (ASC X12 005010X221A1
loop 2110 SVC/CAS balancing). A later payer reports the earlier payers' impact as OA-23 (X12
CARC 23, "the impact of prior payer(s) adjudication"), so OA-23 is not counted again; the
patient owes what the last payer left as PR (`open_balance`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from pydantic import BaseModel

from cob.model import Adjustment, LineAdjudication, Remittance, ServiceLine

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PRIOR_PAYER_IMPACT = ("OA", "23")


class UnbalancedLine(ValueError):
    pass


class UnplaceableAmount(ValueError):
    """A remittance amount the engine cannot put on one service line: never dropped, never
    guessed; the team posts it by hand."""


def cents(amount: Decimal | int | str) -> Decimal:
    """Round half-up to cents, at the last step (industry practice: no rule sets the rounding;
    a payer's own rule would replace it)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def adjustments_total(line: LineAdjudication) -> Decimal:
    return sum((adj.amount for adj in line.adjustments), ZERO)


class Adjudicated(Protocol):
    """A payer's adjudication of one line as far as the patient is concerned: its CAS (an 835
    2110 line, or an earlier payer's 2430 loop on a later payer's 837)."""

    @property
    def adjustments(self) -> Sequence[Adjustment]: ...


def allowed_amount(charge: Decimal, adjustments: Sequence[Adjustment]) -> Decimal:
    """A payer's allowed amount when it does not state one (835 AMT*B6 absent, 837 loop 2430):
    the charge less every adjustment that is not the patient's, CO, PI and OA (ASC X12
    005010X221A1 loop 2110: allowed = SVC02 - CAS other than PR). One definition for the 835
    and the 837 readers."""
    return charge - sum((a.amount for a in adjustments if a.group != "PR"), ZERO)


def patient_responsibility(line: Adjudicated) -> Decimal:
    """What this payer left the patient on the line: its CAS group PR (deductible, coinsurance,
    copay, non-covered; ASC X12 005010X221A1 CAS01 "PR")."""
    return sum((adj.amount for adj in line.adjustments if adj.group == "PR"), ZERO)


def open_balance(charge: Decimal, adjudications: Sequence[Adjudicated]) -> Decimal:
    """What is still open on one line after the payers that adjudicated it, in payer order:
    what the last of them left the patient (its PR; the 837's remaining patient liability,
    005010X222A1 loop 2430 AMT*EAF), or the whole charge when no payer has adjudicated it.

    A later payer splits this amount into its payment, its write-off and the patient's share;
    after the last payer it is what the patient owes."""
    return patient_responsibility(adjudications[-1]) if adjudications else charge


def leaves_open_balance(remittance: Remittance) -> bool:
    """Whether this payer left anything on the claim that a later payer could still pay (a
    line with PR left open); when it did not, no later payer is billed."""
    return any(open_balance(line.charge, [line]) > ZERO for line in remittance.lines)


def remaining_patient_liability(remittance: Remittance) -> Decimal:
    """What this payer left the patient on the whole claim: Σ of its lines' open balance
    (005010X222A1 loop 2320 AMT*EAF; the 835's CLP05 when the payer did not send one)."""
    return sum((open_balance(line.charge, [line]) for line in remittance.lines), ZERO)


def prior_payer_impact(charge: Decimal, left_open: Decimal) -> Adjustment:
    """How a later payer reports what the earlier payers settled on a line (paid, adjusted):
    OA-23 for the charge less what they left open (X12 CARC 23, group OA only)."""
    return Adjustment(group="OA", reason="23", amount=charge - left_open)


def own_adjustments(line: LineAdjudication) -> Decimal:
    """What this payer adjusted itself: every CAS except the earlier payers' impact (OA-23),
    and except PR, which is the patient's share rather than a write-off."""
    return sum(
        (
            adj.amount
            for adj in line.adjustments
            if (adj.group, adj.reason) != PRIOR_PAYER_IMPACT and adj.group != "PR"
        ),
        ZERO,
    )


def check_remittance_line(line: LineAdjudication, payer_id: str = "") -> None:
    """One payer's 835 line: SVC02 charge = SVC03 paid + Σ CAS (005010X221A1 loop 2110)."""
    total = line.paid + adjustments_total(line)
    if total != line.charge:
        raise UnbalancedLine(
            f"payer {payer_id} line {line.line_number}: charge {line.charge} != "
            f"paid {line.paid} + adjustments {adjustments_total(line)}"
        )


class LineAccount(BaseModel):
    """Where one line's charge went, after every payer that adjudicated it."""

    line_number: int
    procedure_code: str
    charge: Decimal
    paid_by_payer: dict[str, Decimal]
    adjustments: Decimal
    patient_responsibility: Decimal

    @property
    def paid(self) -> Decimal:
        return sum(self.paid_by_payer.values(), ZERO)


def patient_balance(accounts: list[LineAccount]) -> Decimal:
    """What the patient owes for the encounter: Σ of each line's open balance after the last
    payer."""
    return sum((account.patient_responsibility for account in accounts), ZERO)


def account_line(
    line_number: int, procedure_code: str, charge: Decimal, remittances: list[Remittance]
) -> LineAccount:
    """Fold the payers' line adjudications, in payer order, into one balanced account.

    With no remittance (self-pay, or every payer gone), the patient owes the charge.
    Raises UnbalancedLine if any payer's line or the whole does not balance to the cent.
    """
    paid_by_payer: dict[str, Decimal] = {}
    adjustments = ZERO
    adjudicated: list[LineAdjudication] = []
    for remittance in remittances:
        line = next((ln for ln in remittance.lines if ln.line_number == line_number), None)
        if line is None:
            continue
        if line.charge != charge:
            raise UnbalancedLine(
                f"payer {remittance.payer_id} line {line_number}: charge {line.charge} "
                f"differs from the billed {charge}"
            )
        check_remittance_line(line, remittance.payer_id)
        paid_by_payer[remittance.payer_id] = (
            paid_by_payer.get(remittance.payer_id, ZERO) + line.paid
        )
        adjustments += own_adjustments(line)
        adjudicated.append(line)
    account = LineAccount(
        line_number=line_number,
        procedure_code=procedure_code,
        charge=charge,
        paid_by_payer=paid_by_payer,
        adjustments=adjustments,
        patient_responsibility=open_balance(charge, adjudicated),
    )
    if account.paid + account.adjustments + account.patient_responsibility != charge:
        raise UnbalancedLine(
            f"line {line_number}: charge {charge} != paid {account.paid} + adjustments "
            f"{account.adjustments} + patient {account.patient_responsibility}"
        )
    if account.patient_responsibility < ZERO:
        raise UnbalancedLine(f"line {line_number}: negative patient responsibility")
    return account


# CLP02 codes that are not the payer's adjudication of the claim we billed (005010X221A1):
# posting one as the claim's answer would move money the payer did not move.
NOT_AN_ADJUDICATION = {
    "22": "a reversal of an earlier payment with no corrected claim after it",
    "23": "not the payer's claim: forwarded to another payer (check the order of benefits)",
    "25": "predetermination pricing only: an estimate, no payment",
}


def adjudication_to_post(remittance: Remittance, lines: list[ServiceLine]) -> Remittance:
    """The remittance as the claim's adjudication, its claim-level amounts on its lines; or
    UnplaceableAmount when it is no adjudication or an amount has no line to go to."""
    why = NOT_AN_ADJUDICATION.get(remittance.status)
    if why:
        raise UnplaceableAmount(
            f"claim {remittance.claim_control_number}: CLP02 {remittance.status} is {why}"
        )
    return place_claim_level(remittance, lines)


def place_claim_level(remittance: Remittance, lines: list[ServiceLine]) -> Remittance:
    """The remittance with its claim-level amounts on the claim's service lines, or
    UnplaceableAmount. A payer may report money only at the claim level: CAS in the 2100
    loop, or no SVC at all (005010X221A1: the 2110 loop is situational). With one billed
    line there is only one place for it; with several, any split would be a guess.
    Afterwards the lines carry the whole claim: Σ SVC03 = CLP04."""
    ccn = remittance.claim_control_number
    placed = list(remittance.lines)
    claim_level = remittance.claim_adjustments
    if not placed and remittance.claim_charge is not None:
        if len(lines) != 1:
            raise UnplaceableAmount(
                f"the 835 reports claim {ccn} without service lines (no SVC): CLP03 "
                f"{remittance.claim_charge}, CLP04 {remittance.paid} and the claim CAS cannot "
                f"be split over its {len(lines)} lines"
            )
        only = lines[0]
        if remittance.claim_charge != only.charge:
            raise UnplaceableAmount(
                f"claim {ccn}: CLP03 {remittance.claim_charge} differs from the billed "
                f"line {only.line_number} charge {only.charge}"
            )
        placed = [_line_from_claim(remittance, only)]
    elif claim_level:
        if len(placed) != 1:
            total = sum((a.amount for a in claim_level), ZERO)
            reasons = ", ".join(f"{a.group}-{a.reason} {a.amount}" for a in claim_level)
            raise UnplaceableAmount(
                f"claim {ccn}: claim-level CAS {reasons} (total {total}) is not attributed to "
                f"one of its {len(placed)} service lines by the payer"
            )
        placed = [_fold(placed[0], claim_level)]
    lines_paid = sum((line.paid for line in placed), ZERO)
    if remittance.claim_paid is not None and lines_paid != remittance.claim_paid:
        raise UnplaceableAmount(
            f"claim {ccn}: CLP04 {remittance.claim_paid} differs from the service lines' "
            f"paid total {lines_paid}"
        )
    return remittance.model_copy(update={"lines": placed, "claim_adjustments": []})


def _line_from_claim(remittance: Remittance, line: ServiceLine) -> LineAdjudication:
    adjustments = list(remittance.claim_adjustments)
    return LineAdjudication(
        line_number=line.line_number,
        procedure_code=line.procedure_code,
        charge=line.charge,
        allowed=allowed_amount(line.charge, adjustments),
        paid=remittance.paid,
        adjustments=adjustments,
        remarks=list(remittance.claim_remarks),
    )


def _fold(line: LineAdjudication, claim_level: list) -> LineAdjudication:
    """CLP04 = Σ SVC03 − claim CAS (005010X221A1 claim balancing): on the only line, the
    claim-level CAS lowers its payment and joins its adjustments."""
    total = sum((a.amount for a in claim_level), ZERO)
    not_patient = sum((a.amount for a in claim_level if a.group != "PR"), ZERO)
    return line.model_copy(
        update={
            "paid": line.paid - total,
            "allowed": line.allowed - not_patient,
            "adjustments": [*line.adjustments, *claim_level],
        }
    )
