"""Read an 837P (005010X222A1) back into data: enough to rebuild the claim with `build_837p`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from cob.model import (
    Adjustment,
    ClaimSubmission,
    Coverage,
    Encounter,
    LineAdjudication,
    Person,
    Provider,
    Relationship,  # fmt: skip
    Remittance,
    ServiceLine,
)
from payers.x12.claim_837p import MSP_TYPE, PLAN_TYPE, SEQUENCE_LETTERS, SUBSCRIBER_RELATIONSHIP
from payers.x12.segments import Segment, X12Error, parse_interchange

RELATIONSHIP = {code: rel for rel, code in SUBSCRIBER_RELATIONSHIP.items()}
MEDICARE_BASIS = {code: basis for basis, code in MSP_TYPE.items()}


def _date(text: str) -> date:
    return datetime.strptime(text, "%Y%m%d").date()


@dataclass
class ParsedLineAdjudication:  # one 2430 loop
    payer_id: str
    paid: Decimal
    procedure_code: str
    units: str
    adjustments: list[Adjustment] = field(default_factory=list)
    adjudication_date: date | None = None


@dataclass
class ParsedLine:  # one 2400 loop
    line_number: int
    procedure_code: str
    modifiers: list[str]
    charge: Decimal
    units: int
    diagnosis_pointers: list[int]
    service_date: date | None = None
    adjudications: list[ParsedLineAdjudication] = field(default_factory=list)


@dataclass
class ParsedOtherPayer:  # one 2320/2330A/2330B set
    sequence: int
    relationship: Relationship
    group_number: str | None
    filing_indicator: str
    paid: Decimal = Decimal(0)
    claim_adjustments: list[Adjustment] = field(default_factory=list)
    subscriber_name: tuple[str, str] = ("", "")
    member_id: str = ""
    payer_id: str = ""
    payer_claim_number: str = ""


@dataclass
class ParsedClaim:
    claim_control_number: str
    charge: Decimal
    place_of_service: str
    frequency: str
    payer_sequence: int
    relationship: Relationship
    filing_indicator: str
    group_number: str | None
    medicare_basis: str | None
    billing_provider: Provider
    subscriber: Person
    member_id: str
    payer_id: str
    patient: Person
    patient_address: str | None = None
    original_claim_number: str | None = None
    prior_authorization_number: str | None = None
    rendering_provider_npi: str | None = None
    diagnoses: list[str] = field(default_factory=list)
    lines: list[ParsedLine] = field(default_factory=list)
    other_payers: list[ParsedOtherPayer] = field(default_factory=list)

    def remittances(self) -> list[Remittance]:
        """The prior payers' adjudications as cob.model Remittances (allowed = charge - CO)."""
        out = []
        for other in self.other_payers:
            lines, when = [], None
            for line in self.lines:
                for adj in (a for a in line.adjudications if a.payer_id == other.payer_id):
                    co = sum((a.amount for a in adj.adjustments if a.group == "CO"), Decimal(0))
                    lines.append(LineAdjudication(line_number=line.line_number, procedure_code=adj.procedure_code,
                                                  charge=line.charge, allowed=line.charge - co, paid=adj.paid,
                                                  adjustments=adj.adjustments))  # fmt: skip
                    when = when or adj.adjudication_date
            out.append(Remittance(
                claim_control_number=self.claim_control_number, payer_id=other.payer_id, member_id=other.member_id,
                payer_claim_number=other.payer_claim_number, payer_sequence=other.sequence, status="1",
                adjudication_date=when or self.lines[0].service_date, lines=lines))  # fmt: skip
        return out

    def to_submission(self) -> ClaimSubmission:
        service_date = self.lines[0].service_date
        coverages = []
        for other in self.other_payers:
            if other.filing_indicator not in PLAN_TYPE:
                continue
            last, first = other.subscriber_name
            coverages.append(Coverage(
                payer_id=other.payer_id, member_id=other.member_id, plan_type=PLAN_TYPE[other.filing_indicator],
                group_number=other.group_number, relationship=other.relationship, effective_date=service_date,
                subscriber=None if other.relationship == Relationship.SELF else
                Person(last_name=last, first_name=first, birth_date=self.patient.birth_date)))  # fmt: skip
        coverage = Coverage(
            payer_id=self.payer_id, member_id=self.member_id, plan_type=PLAN_TYPE[self.filing_indicator],
            group_number=self.group_number, relationship=self.relationship, effective_date=service_date,
            subscriber=None if self.relationship == Relationship.SELF else self.subscriber,
            medicare_basis=MEDICARE_BASIS.get(self.medicare_basis or ""))  # fmt: skip
        encounter = Encounter(
            encounter_id=self.claim_control_number[:30], patient=self.patient, patient_address=self.patient_address,
            service_date=service_date,
            place_of_service=self.place_of_service, billing_provider=self.billing_provider,
            rendering_provider_npi=self.rendering_provider_npi, diagnoses=self.diagnoses,
            lines=[ServiceLine(line_number=ln.line_number, procedure_code=ln.procedure_code, modifiers=ln.modifiers,
                               charge=ln.charge, units=ln.units, diagnosis_pointers=ln.diagnosis_pointers)
                   for ln in self.lines],
            coverages=[coverage, *coverages])  # fmt: skip
        return ClaimSubmission(
            claim_control_number=self.claim_control_number, frequency=self.frequency,
            original_payer_claim_number=self.original_claim_number, payer_sequence=self.payer_sequence,
            encounter=encounter, coverage=coverage, prior_authorization_number=self.prior_authorization_number,
            prior_remittances=self.remittances())  # fmt: skip


def _adjustments(s: Segment) -> list[Adjustment]:
    return [
        Adjustment(group=s[1], reason=s[n], amount=Decimal(s[n + 1]))
        for n in range(2, 19, 3)
        if s[n]
    ]


def _person(nm1: Segment, dmg: Segment | None) -> Person:
    return Person(last_name=nm1[3], first_name=nm1[4] or nm1[3], birth_date=_date(dmg[2]) if dmg else date(1900, 1, 1),
                  sex=dmg[3] if dmg and dmg[3] in ("F", "M", "U") else "U")  # fmt: skip


def _address(n3: Segment, n4: Segment) -> str:
    return f"{n3[1]}, {n4[1]}, {n4[2]} {n4[3]}"


def parse_837p(text: str) -> list[ParsedClaim]:
    """Every claim (2300) in every 837 of the interchange; X12Error names the offending segment."""
    claims: list[ParsedClaim] = []
    for transaction in parse_interchange(text).transactions:
        if transaction.code != "837":
            raise X12Error(f"ST01 {transaction.code} is not an 837", "ST", transaction.st.position)
        body = transaction.body
        ctx: dict = {"hl": "", "loop": "", "phone": ""}
        claim: ParsedClaim | None = None
        line: ParsedLine | None = None
        other: ParsedOtherPayer | None = None
        svd: ParsedLineAdjudication | None = None
        for i, s in enumerate(body):
            nxt = body[i + 1] if i + 1 < len(body) else Segment("")
            after = body[i + 2] if i + 2 < len(body) else Segment("")
            try:
                if s.id == "PER" and not ctx["phone"]:
                    ctx["phone"] = s[4]
                elif s.id == "HL":
                    ctx["hl"], ctx["loop"] = s[3], s[3]
                elif s.id == "NM1" and s[1] == "85":
                    ctx["provider"] = (s[3], s[9], _address(nxt, after) if nxt.id == "N3" else "")
                elif s.id == "REF" and s[1] == "EI" and ctx["hl"] == "20":
                    name, npi, address = ctx["provider"]
                    ctx["billing"] = Provider(
                        name=name, npi=npi, tax_id=s[2], address=address, phone=ctx["phone"]
                    )
                elif s.id == "SBR" and claim is None:
                    ctx.update(sbr=s, relationship=Relationship.SELF if s[2] == "18" else None)
                elif s.id == "NM1" and s[1] == "IL" and claim is None:
                    ctx["subscriber"] = _person(
                        s, next((d for d in body[i + 1 : i + 5] if d.id == "DMG"), None)
                    )
                    ctx["member_id"] = s[9]
                elif s.id == "NM1" and s[1] == "PR" and claim is None:
                    ctx["payer_id"] = s[9]
                elif s.id == "PAT":
                    ctx["relationship"] = RELATIONSHIP.get(s[1], Relationship.OTHER)
                elif s.id == "NM1" and s[1] == "QC":
                    ctx["patient"] = _person(
                        s, next((d for d in body[i + 1 : i + 5] if d.id == "DMG"), None)
                    )
                    ctx["patient_address"] = _address(nxt, after) if nxt.id == "N3" else None
                elif s.id == "CLM":
                    if claim is not None:
                        claims.append(claim)
                    sbr = ctx["sbr"]
                    pos, _, frequency = s.components(5)
                    claim = ParsedClaim(
                        claim_control_number=s[1], charge=Decimal(s[2]), place_of_service=pos, frequency=frequency,
                        payer_sequence=SEQUENCE_LETTERS.index(sbr[1]) + 1, relationship=ctx["relationship"],
                        filing_indicator=sbr[9], group_number=sbr[3] or None, medicare_basis=sbr[5] or None,
                        billing_provider=ctx["billing"], subscriber=ctx["subscriber"], member_id=ctx["member_id"],
                        payer_id=ctx["payer_id"], patient=ctx.get("patient", ctx["subscriber"]),
                        patient_address=ctx.get("patient_address"))  # fmt: skip
                    ctx["loop"] = "2300"
                elif claim is None:
                    continue
                elif s.id == "REF" and ctx["loop"] == "2300" and s[1] in ("F8", "G1"):
                    if s[1] == "F8":
                        claim.original_claim_number = s[2]
                    else:
                        claim.prior_authorization_number = s[2]
                elif s.id == "HI" and ctx["loop"] == "2300":
                    claim.diagnoses += [e.split(":")[1] for e in s.elements if e]
                elif s.id == "NM1" and s[1] == "82" and ctx["loop"] == "2300":
                    claim.rendering_provider_npi = s[9]
                elif s.id == "SBR":
                    other = ParsedOtherPayer(sequence=SEQUENCE_LETTERS.index(s[1]) + 1,
                                             relationship=RELATIONSHIP.get(s[2], Relationship.OTHER),
                                             group_number=s[3] or None, filing_indicator=s[9])  # fmt: skip
                    claim.other_payers.append(other)
                    ctx["loop"] = "2320"
                elif s.id == "AMT" and s[1] == "D" and ctx["loop"] == "2320":
                    other.paid = Decimal(s[2])
                elif s.id == "CAS" and ctx["loop"] == "2320":
                    other.claim_adjustments += _adjustments(s)
                elif s.id == "NM1" and s[1] == "IL" and ctx["loop"] == "2320":
                    other.subscriber_name, other.member_id = (s[3], s[4]), s[9]
                elif s.id == "NM1" and s[1] == "PR" and ctx["loop"] == "2320":
                    other.payer_id, ctx["loop"] = s[9], "2330B"
                elif s.id == "REF" and s[1] == "F8" and ctx["loop"] == "2330B":
                    other.payer_claim_number = s[2]
                elif s.id == "LX":
                    ctx["loop"] = "2400"
                elif s.id == "SV1":
                    _, code, *modifiers = s.components(1)
                    line = ParsedLine(line_number=len(claim.lines) + 1, procedure_code=code, modifiers=modifiers,
                                      charge=Decimal(s[2]), units=int(Decimal(s[4] or 1)),
                                      diagnosis_pointers=[int(p) for p in s.components(7) if p])  # fmt: skip
                    claim.lines.append(line)
                elif s.id == "DTP" and s[1] == "472" and line is not None:
                    line.service_date = _date(s[3].split("-")[0])
                elif s.id == "SVD":
                    svd = ParsedLineAdjudication(payer_id=s[1], paid=Decimal(s[2]), procedure_code=s.components(3)[1],
                                                 units=s[5])  # fmt: skip
                    line.adjudications.append(svd)
                    ctx["loop"] = "2430"
                elif s.id == "CAS" and ctx["loop"] == "2430":
                    svd.adjustments += _adjustments(s)
                elif s.id == "DTP" and s[1] == "573" and ctx["loop"] == "2430":
                    svd.adjudication_date = _date(s[3])
            except (KeyError, ValueError, IndexError, AttributeError) as error:
                if isinstance(error, X12Error):
                    raise
                raise X12Error(
                    f"cannot read this 837P segment: {error}", s.id, s.position
                ) from error
        if claim is not None:
            claims.append(claim)
    return claims
