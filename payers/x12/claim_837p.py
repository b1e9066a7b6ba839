"""837P (005010X222A1) for one claim: build it, and check the COB balancing rules.

`build_837p` writes the destination payer's claim with a 2320/2330/2430 set per prior
remittance (ASC X12 005010X222A1 loops 2320/2330/2430). `check_837p_balance`
(`payers.x12.claim_837p_balance`, importable from here as before) enforces the guide's COB
balancing (line: SV102 = SVD02 + 2430 CAS; claim: CLM02 = AMT*D + CAS; AMT*D = the sum of
SVD02), which pyx12 does not check. Parsing back into data lives in `claim_837p_parse`.

Amounts are written the short way X12 allows: no trailing zeros (100, 20.5, 12.25).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from cob.model import (
    US_ADDRESS,
    ClaimSubmission,
    Coverage,
    MedicareBasis,
    Person,
    PlanType,
    Relationship,
    Remittance,
)
from payers.x12.claim_837p_balance import check_837p_balance
from payers.x12.segments import (
    Segment,
    amount_text,
    build_interchange,
    d8_text,
    seg,
)

__all__ = [
    "ADDRESS",
    "FILING_INDICATOR",
    "MSP_TYPE",
    "PLAN_TYPE",
    "SEQUENCE_LETTERS",
    "SUBSCRIBER_RELATIONSHIP",
    "VERSION",
    "address_segments",
    "build_837p",
    "check_837p_balance",
    "sequence_letter",
]

VERSION = "005010X222A1"

FILING_INDICATOR = {
    PlanType.COMMERCIAL: "CI", PlanType.MEDICARE: "MB", PlanType.MEDICARE_SUPPLEMENT: "CI",
    PlanType.MEDICAID: "MC", PlanType.TRICARE: "CH", PlanType.WORKERS_COMP: "WC",
    PlanType.NO_FAULT: "AM", PlanType.LIABILITY: "LM",
}  # fmt: skip
PLAN_TYPE = {"CI": PlanType.COMMERCIAL, "MB": PlanType.MEDICARE, "MA": PlanType.MEDICARE,
             "MC": PlanType.MEDICAID, "CH": PlanType.TRICARE, "WC": PlanType.WORKERS_COMP,
             "AM": PlanType.NO_FAULT, "LM": PlanType.LIABILITY}  # fmt: skip
MSP_TYPE = {MedicareBasis.AGE: "12", MedicareBasis.ESRD: "13", MedicareBasis.DISABILITY: "43"}
SEQUENCE_LETTERS = "PSTABCDEFGH"  # payer 1, 2, 3, then 4..11
SUBSCRIBER_RELATIONSHIP = {Relationship.SELF: "18", Relationship.SPOUSE: "01",
                           Relationship.CHILD: "19", Relationship.OTHER: "G8"}  # fmt: skip
ADDRESS = re.compile(US_ADDRESS)


def sequence_letter(sequence: int) -> str:
    if not 1 <= sequence <= len(SEQUENCE_LETTERS):
        raise ValueError(f"payer sequence {sequence} has no SBR01 code (1..11)")
    return SEQUENCE_LETTERS[sequence - 1]


def address_segments(address: str, what: str) -> list[Segment]:
    """'234 Seaway St, Miami, FL 33111-1234' -> N3/N4."""
    match = ADDRESS.match(address.strip())
    if not match:
        raise ValueError(f"{what} address {address!r} is not 'street, city, ST zip'")
    return [seg("N3", match["street"].upper()),
            seg("N4", match["city"].upper(), match["state"].upper(), match["zip"].replace("-", ""))]  # fmt: skip


def _name(person: Person) -> list[str]:
    return [person.last_name.upper(), person.first_name.upper()]


def _other_coverage(submission: ClaimSubmission, remittance: Remittance) -> Coverage | None:
    coverages = submission.encounter.coverages
    return next((c for c in coverages if (c.payer_id, c.member_id) == (remittance.payer_id, remittance.member_id)),
                next((c for c in coverages if c.payer_id == remittance.payer_id), None))  # fmt: skip


def _cas(adjustments) -> list[Segment]:
    """CAS segments grouped by group code (in order of first appearance), 6 triplets each."""
    groups: dict[str, list] = {}
    for adjustment in adjustments:
        groups.setdefault(adjustment.group, []).append(adjustment)
    out = []
    for group, items in groups.items():
        for start in range(0, len(items), 6):
            elements: list[str] = [group]
            for item in items[start : start + 6]:
                elements += [item.reason, amount_text(item.amount), ""]
            out.append(seg("CAS", *elements))
    return out


def build_837p(
    submission: ClaimSubmission,
    when: datetime,
    control_number: int,
    *,
    patient_address: str | None = None,
    sender_id: str | None = None,
    receiver_id: str | None = None,
    usage: str = "P",
) -> str:
    """A complete interchange holding one 837P for `submission` (ASC X12 005010X222A1).

    The billing provider needs an address ('street, city, ST zip') and a phone (PER). When the
    patient is not the subscriber, 2010CA needs the patient's address (`patient_address`, or
    the encounter's own).
    Payer names are not in the model: the payer id is used as NM103.
    """
    enc, cov = submission.encounter, submission.coverage
    provider = enc.billing_provider
    if not provider.phone:
        raise ValueError("the billing provider needs a phone for the 1000A PER segment")
    sender_id = sender_id or provider.npi
    receiver_id = receiver_id or cov.payer_id
    is_self = cov.relationship == Relationship.SELF
    subscriber = enc.patient if is_self else cov.subscriber
    if subscriber is None:
        raise ValueError("the coverage needs a subscriber when the patient is not the subscriber")
    body = [
        seg(
            "BHT",
            "0019",
            "00",
            submission.claim_control_number,
            d8_text(when),
            when.strftime("%H%M"),
            "CH",
        ),
        seg("NM1", "41", "2", provider.name.upper(), "", "", "", "", "46", sender_id),
        seg("PER", "IC", provider.name.upper(), "TE", re.sub(r"\D", "", provider.phone)),
        seg("NM1", "40", "2", cov.payer_id, "", "", "", "", "46", receiver_id),
        seg("HL", "1", "", "20", "1"),
        seg("NM1", "85", "2", provider.name.upper(), "", "", "", "", "XX", provider.npi),
        *address_segments(provider.address, "billing provider"),
        seg("REF", "EI", provider.tax_id),
        seg("HL", "2", "1", "22", "0" if is_self else "1"),
    ]
    msp = (
        MSP_TYPE.get(cov.medicare_basis)
        if cov.plan_type == PlanType.MEDICARE and submission.payer_sequence > 1
        else None
    )
    body += [
        seg("SBR", sequence_letter(submission.payer_sequence), "18" if is_self else "", cov.group_number, "",
            msp, "", "", "", FILING_INDICATOR[cov.plan_type]),
        seg("NM1", "IL", "1", *_name(subscriber), "", "", "", "MI", cov.member_id),
        seg("DMG", "D8", d8_text(subscriber.birth_date), subscriber.sex),
        seg("NM1", "PR", "2", cov.payer_id, "", "", "", "", "PI", cov.payer_id),
    ]  # fmt: skip
    patient_address = patient_address or enc.patient_address
    if not is_self:
        if not patient_address:
            raise ValueError(
                "2010CA needs the patient's address when the patient is not the subscriber"
            )
        body += [
            seg("HL", "3", "2", "23", "0"),
            seg("PAT", SUBSCRIBER_RELATIONSHIP[cov.relationship]),
            seg("NM1", "QC", "1", *_name(enc.patient)),
            *address_segments(patient_address, "patient"),
            seg("DMG", "D8", d8_text(enc.patient.birth_date), enc.patient.sex),
        ]
    body.append(seg("CLM", submission.claim_control_number, amount_text(enc.total_charge), "", "",
                    f"{enc.place_of_service}:B:{submission.frequency}", "Y", "A", "Y", "Y"))  # fmt: skip
    if submission.prior_authorization_number:
        body.append(seg("REF", "G1", submission.prior_authorization_number))
    if submission.frequency in ("7", "8"):
        if not submission.original_payer_claim_number:
            raise ValueError(
                f"frequency {submission.frequency} needs the original payer claim number (REF*F8)"
            )
        body.append(seg("REF", "F8", submission.original_payer_claim_number))
    body.append(
        seg("HI", *[f"{'ABK' if i == 0 else 'ABF'}:{code}" for i, code in enumerate(enc.diagnoses)])
    )
    if enc.rendering_provider_npi:
        body.append(
            seg(
                "NM1",
                "82",
                "2",
                provider.name.upper(),
                "",
                "",
                "",
                "",
                "XX",
                enc.rendering_provider_npi,
            )
        )
    for remittance in submission.prior_remittances:
        other = _other_coverage(submission, remittance)
        other_subscriber = (
            enc.patient
            if other is None or other.relationship == Relationship.SELF
            else other.subscriber
        )
        body += [
            seg("SBR", sequence_letter(remittance.payer_sequence),
                SUBSCRIBER_RELATIONSHIP[other.relationship] if other else "18",
                other.group_number if other else "", "", "", "", "", "",
                FILING_INDICATOR[other.plan_type] if other else "ZZ"),
            seg("AMT", "D", amount_text(remittance.paid)),
            # Remaining patient liability: what this payer left to the patient (its PR).
            seg("AMT", "EAF", amount_text(sum((a.amount for ln in remittance.lines
                                          for a in ln.adjustments if a.group == "PR"), Decimal(0)))),
            seg("OI", "", "", "Y", "P", "", "Y"),
            seg("NM1", "IL", "1", *_name(other_subscriber or enc.patient), "", "", "", "MI", remittance.member_id),
            seg("NM1", "PR", "2", remittance.payer_id, "", "", "", "", "PI", remittance.payer_id),
            seg("REF", "F8", remittance.payer_claim_number),
        ]  # fmt: skip
    for line in enc.lines:
        procedure = ":".join(["HC", line.procedure_code, *line.modifiers])
        pointers = ":".join(str(p) for p in line.diagnosis_pointers)
        body += [
            seg("LX", line.line_number),
            seg("SV1", procedure, amount_text(line.charge), "UN", line.units, "", "", pointers),
            seg("DTP", "472", "D8", d8_text(enc.service_date)),
        ]
        for remittance in submission.prior_remittances:
            adjudication = next(
                (a for a in remittance.lines if a.line_number == line.line_number), None
            )
            if adjudication is None:
                continue
            body += [
                seg("SVD", remittance.payer_id, amount_text(adjudication.paid), f"HC:{adjudication.procedure_code}",
                    "", line.units),
                *_cas(adjudication.adjustments),
                seg("DTP", "573", "D8", d8_text(remittance.adjudication_date)),
            ]  # fmt: skip
    return build_interchange("HC", VERSION, [("837", body)], sender_id, receiver_id, control_number, when,
                             usage=usage)  # fmt: skip
