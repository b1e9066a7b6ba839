"""One 837P claim (2300) read on its own: the billing provider (2010AA), subscriber and payer
(2010BA/BB), patient (2010CA), then the claim body: 2300 and 2310, each prior payer's
2320/2330A/2330B set, and the service lines (2400) with each prior payer's 2430 adjudication.
Situational segments may be absent; composites split on the separator ISA16 declares.
"""

from __future__ import annotations

import re
from decimal import Decimal

from cob.model import (
    Provider,
    Relationship,
)
from payers.x12.claim_837p_elements import (
    address_of,
    adjustments_of,
    composite,
    dtp_day,
    first_segment,
    payer_sequence,
    person_of,
    phone_of,
)
from payers.x12.claim_837p_hierarchy import ClaimLoop, HierarchyLevel, nm1_loops
from payers.x12.claim_837p_parsed import (
    RELATIONSHIP,
    ParsedClaim,
    ParsedLine,
    ParsedLineAdjudication,
    ParsedOtherPayer,
    filing_indicator_of,
)
from payers.x12.segments import (
    Segment,
    X12Error,
    decimal_element,
)

DIAGNOSIS_QUALIFIERS = ("ABK", "ABF", "BK", "BF")  # HI: ICD-10-CM, then ICD-9-CM (refused later)


def _billing_provider(level: HierarchyLevel, header: list[Segment]) -> Provider:
    loop = nm1_loops(level.segments).get("85")
    if not loop:
        raise X12Error("the billing provider level has no 2010AA NM1*85", "HL", level.hl.position)
    nm1 = loop[0]
    name = f"{nm1[4]} {nm1[3]}".strip() if nm1[2] == "1" else nm1[3]
    if nm1[8] != "XX" or not re.fullmatch(r"\d{10}", nm1[9]):
        raise X12Error(f"NM109 {nm1[9]!r}: the billing provider's NPI (NM108 XX) must be 10 digits",
                       "NM1", nm1.position)  # fmt: skip
    ref = first_segment(loop, "REF", ("EI", "SY"))
    if ref is None:
        raise X12Error(
            "the billing provider has no tax id (2010AA REF*EI or REF*SY)", "NM1", nm1.position
        )
    if not re.fullmatch(r"\d{9}", ref[2]):
        raise X12Error(
            f"REF02 {ref[2]!r}: the billing provider's tax id must be 9 digits", "REF", ref.position
        )
    # 2010AA N3/N4 and a 1000A PER are required by the guide, and the claims the engine
    # writes for this encounter repeat them.
    address = address_of(loop)
    if address is None:
        raise X12Error("the billing provider has no address (2010AA N3/N4)", "NM1", nm1.position)
    phone = phone_of(loop) or phone_of(nm1_loops(header).get("41", []))
    if not phone:
        raise X12Error("no telephone number (PER TE) for the billing provider in 2010AA or the "
                       "submitter (1000A)", "NM1", nm1.position)  # fmt: skip
    # as written: the encounter's checks (cob.validation) judge the content, naming the field
    return Provider.model_construct(
        name=name or nm1[9], npi=nm1[9], tax_id=ref[2], address=address, phone=phone
    )


def read_claim(loop: ClaimLoop, header: list[Segment]) -> ParsedClaim:
    clm = loop.segments[0]
    level = loop.level
    if level is None or level.code not in ("22", "23"):
        under = "before any HL" if level is None else f"under HL {level.hl[1]} (HL03 {level.code})"
        raise X12Error(f"this claim is {under}; a claim belongs under a subscriber (22) or patient (23) HL",
                       "CLM", clm.position)  # fmt: skip
    chain = [
        lv for lv in (level.up_to("23"), level.up_to("22"), level.up_to("20")) if lv is not None
    ]
    for lv in chain:
        if lv.problem is not None:
            raise lv.problem
    patient_level, subscriber_level = level.up_to("23"), level.up_to("22")
    billing_level = level.up_to("20")
    if subscriber_level is None or billing_level is None:  # only a level with a problem lacks them
        raise X12Error(
            "this claim is not under a subscriber and billing provider HL", "CLM", clm.position
        )
    billing_provider = _billing_provider(billing_level, header)

    sub = nm1_loops(subscriber_level.segments)
    sbr = first_segment(sub[""], "SBR")
    if sbr is None:
        raise X12Error("the subscriber level has no SBR", "HL", subscriber_level.hl.position)
    if not sub.get("IL"):
        raise X12Error(
            "the subscriber level has no 2010BA subscriber (NM1*IL)",
            "HL",
            subscriber_level.hl.position,
        )
    if not sub.get("PR"):
        raise X12Error(
            "the subscriber level has no 2010BB payer (NM1*PR)", "HL", subscriber_level.hl.position
        )
    subscriber_nm1, payer_nm1 = sub["IL"][0], sub["PR"][0]
    subscriber = person_of(
        subscriber_nm1, first_segment(sub["IL"], "DMG"), patient_level is None, "subscriber"
    )
    if patient_level is None:
        patient, patient_address, relationship = subscriber, None, Relationship.SELF
    else:
        pat = nm1_loops(patient_level.segments)
        if not pat.get("QC"):
            raise X12Error(
                "the patient level has no 2010CA patient (NM1*QC)", "HL", patient_level.hl.position
            )
        patient = person_of(pat["QC"][0], first_segment(pat["QC"], "DMG"), True, "patient")
        patient_address = address_of(pat["QC"])
        if patient_address is None:  # required in 2010CA, and the engine's claims repeat it
            raise X12Error(
                "the patient has no address (2010CA N3/N4)", "NM1", pat["QC"][0].position
            )
        pat_segment = first_segment(pat[""], "PAT")
        relationship = RELATIONSHIP.get(pat_segment[1] if pat_segment else "", Relationship.OTHER)

    if not clm[1]:
        raise X12Error("CLM01 (the claim's control number) is empty", "CLM", clm.position)
    place, _, frequency = composite(clm, 5, 3, "facility code:qualifier:frequency", (1, 3))[:3]
    claim = ParsedClaim(
        claim_control_number=clm[1], charge=decimal_element(clm, 2), place_of_service=place, frequency=frequency,
        payer_sequence=payer_sequence(sbr), relationship=relationship, filing_indicator=filing_indicator_of(sbr),
        group_number=sbr[3] or None, medicare_basis=sbr[5] or None, billing_provider=billing_provider,
        subscriber=subscriber, member_id=subscriber_nm1[9], payer_id=payer_nm1[9], patient=patient,
        patient_address=patient_address, segments=loop.segments)  # fmt: skip
    _claim_body(claim, loop.segments)
    return claim


def _claim_body(claim: ParsedClaim, segments: list[Segment]) -> None:
    """The 2300 loop and its 2310, 2320/2330 and 2400/2430 loops."""
    where = "2300"
    other: ParsedOtherPayer | None = None
    sbr: Segment | None = None  # the open 2320's SBR and whether its 2330A/2330B came
    seen: set[str] = set()
    lx: Segment | None = None
    line: ParsedLine | None = None
    svd: ParsedLineAdjudication | None = None

    def close_2320() -> None:
        if sbr is not None:
            for loop, code, what in (("2330A", "IL", "subscriber"), ("2330B", "PR", "payer")):
                if code not in seen:
                    raise X12Error(f"this 2320 (other subscriber) has no {loop} other {what} "
                                   f"(NM1*{code}), which 005010X222A1 requires", "SBR", sbr.position)  # fmt: skip

    def close_2400() -> None:
        if lx is not None and line is None:
            raise X12Error("this service line has no SV1", "LX", lx.position)

    for s in segments[1:]:
        if s.id == "SBR":
            close_2320()
            sbr, seen, where = s, set(), "2320"
            other = ParsedOtherPayer(sequence=payer_sequence(s), relationship=RELATIONSHIP.get(s[2], Relationship.OTHER),
                                     group_number=s[3] or None, filing_indicator=s[9], sbr=s)  # fmt: skip
            claim.other_payers.append(other)
        elif s.id == "LX":
            close_2320()
            close_2400()
            sbr, other, lx, line, svd, where = None, None, s, None, None, "2400"
        elif s.id == "NM1":
            if where in ("2300", "2310"):
                where = "2310"
                if s[1] == "82":  # 2310B rendering provider
                    claim.rendering_provider_npi = s[9] or None
            elif where.startswith(("2320", "2330")) and other is not None:
                where = {"IL": "2330A", "PR": "2330B"}.get(s[1], "2330")
                seen.add(s[1])
                if s[1] == "IL":
                    other.subscriber_name, other.member_id = (s[3], s[4]), s[9]
                elif s[1] == "PR":
                    other.payer_id = s[9]
            else:
                where = "2420"
        elif s.id == "REF" and where == "2300" and s[1] in ("F8", "G1"):
            if s[1] == "F8":
                claim.original_claim_number = s[2]
            else:
                claim.prior_authorization_number = s[2]
        elif s.id == "REF" and where == "2330B" and s[1] == "F8" and other is not None:
            other.payer_claim_number = s[2]
        elif s.id == "HI" and where == "2300":
            claim.diagnoses += _diagnoses(s)
        elif s.id == "CAS" and where == "2320" and other is not None:
            other.claim_adjustments += adjustments_of(s)
        elif s.id == "AMT" and s[1] == "D" and where == "2320" and other is not None:
            other.paid, other.adjudicated = decimal_element(s, 2), True
        elif s.id == "SV1" and where == "2400":
            line = _line(s, len(claim.lines) + 1)
            claim.lines.append(line)
        elif s.id == "DTP" and s[1] == "472" and where == "2400" and line is not None:
            line.service_date = dtp_day(s)
        elif s.id == "SVD" and line is not None:
            procedure = composite(s, 3, 2, "qualifier:procedure code")[1]
            svd = ParsedLineAdjudication(
                payer_id=s[1], paid=decimal_element(s, 2), procedure_code=procedure, units=s[5]
            )
            line.adjudications.append(svd)
            where = "2430"
        elif s.id == "CAS" and where == "2430" and svd is not None:
            svd.adjustments += adjustments_of(s)
        elif s.id == "DTP" and s[1] == "573" and where == "2430" and svd is not None:
            svd.adjudication_date = dtp_day(s)
        elif s.id == "LIN":
            where = "2410"
        elif s.id == "LQ":
            where = "2440"
    close_2320()
    close_2400()
    clm = segments[0]
    if not claim.lines:
        raise X12Error("this claim has no service line (2400 LX/SV1)", "CLM", clm.position)
    for n, line in enumerate(claim.lines):
        if line.service_date is None:
            raise X12Error(
                f"service line {n + 1} has no date of service (DTP*472)", "CLM", clm.position
            )


def _diagnoses(hi: Segment) -> list[str]:
    codes = []
    for n in range(1, 13):
        if not hi[n]:
            continue
        qualifier, code = composite(hi, n, 2, "qualifier:diagnosis code")[:2]
        if qualifier in DIAGNOSIS_QUALIFIERS:
            codes.append(code)
    return codes


def _line(sv1: Segment, number: int) -> ParsedLine:
    procedure = composite(sv1, 1, 2, "qualifier:procedure code")
    if procedure[0] != "HC":
        raise X12Error(f"SV101 qualifier {procedure[0]!r}: only HCPCS/CPT procedure codes (HC) are read",
                       "SV1", sv1.position)  # fmt: skip
    units = decimal_element(sv1, 4) if sv1[4] else Decimal(1)
    if units != units.to_integral_value():
        raise X12Error(f"SV104 {sv1[4]!r} is not a whole number of units", "SV1", sv1.position)
    pointers = [p for p in sv1.components(7) if p]
    if not all(re.fullmatch(r"[1-9][0-9]?", p) for p in pointers):
        raise X12Error(f"SV107 {sv1[7]!r} is not diagnosis pointers split on "
                       f"{sv1.separators.component!r}", "SV1", sv1.position)  # fmt: skip
    return ParsedLine(line_number=number, procedure_code=procedure[1], modifiers=[m for m in procedure[2:6] if m],
                      charge=decimal_element(sv1, 2), units=int(units), diagnosis_pointers=[int(p) for p in pointers])  # fmt: skip
