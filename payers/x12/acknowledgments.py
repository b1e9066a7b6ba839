"""Acknowledgments of a submitted 837: the 999 (005010X231A1) and the 277CA (005010X214).

The 999 says whether the transaction passed syntax checks (IK5/AK9, with IK3 segment errors);
the 277CA says, per claim, whether it entered adjudication (STC category A2) or was rejected
(A3/A6/A7/A8, DOMAIN.md §3.5). In the 277CA the claim control number (CLM01) travels in the
patient-level TRN*2, the payer's claim number in REF*1K, and a rejection's text in STC12.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from cob.model import ClaimAcknowledgment
from payers.x12.segments import X12Error, build_interchange, free_text, parse_interchange, seg

ACK_999 = "005010X231A1"
ACK_277CA = "005010X214"
REJECTED = {"A3", "A4", "A6", "A7", "A8"}
# guide -> (GS01 functional identifier, ST01 transaction code)
ACKNOWLEDGED = {"005010X222A1": ("HC", "837"), "005010X223A2": ("HC", "837"),
                "005010X221A1": ("HP", "835")}  # fmt: skip


@dataclass(frozen=True)
class AckError:
    """A 999 IK3 segment error: which segment, where (ST = 1), and the IK304 syntax code."""

    segment_id: str
    position: int
    code: str = "8"  # 8 = segment has data element errors; 3 = mandatory segment missing
    loop: str = ""


def build_999(
    accepted: bool, functional_group_control: str, transaction_control: str,
    implementation_ref: str, errors: list[AckError] | None, when: datetime, control_number: int,
    sender: str = "RECEIVER", receiver: str = "SUBMITTER",
) -> str:  # fmt: skip
    group_id, code = ACKNOWLEDGED.get(implementation_ref, ("HC", "837"))
    body = [
        seg("AK1", group_id, functional_group_control, implementation_ref),
        seg("AK2", code, transaction_control, implementation_ref),
    ]
    for error in errors or []:
        body.append(seg("IK3", error.segment_id, error.position, error.loop, error.code))
    status = "A" if accepted else "R"
    body.append(seg("IK5", status) if accepted else seg("IK5", status, "5"))
    body.append(seg("AK9", status, 1, 1, 1 if accepted else 0))
    return build_interchange("FA", ACK_999, [("999", body)], sender, receiver, control_number, when)


def parse_999(text: str) -> tuple[bool, list[AckError]]:
    """(accepted, errors) for the first acknowledged transaction; IK5 A or E means accepted."""
    interchange = parse_interchange(text)
    txn = next((t for t in interchange.transactions if t.code == "999"), None)
    if txn is None:
        raise X12Error("no 999 transaction in the interchange", "ST")
    errors = [AckError(s[1], int(s[2]), s[4], s[3]) for s in txn.body if s.id == "IK3"]
    ik5 = next((s for s in txn.body if s.id == "IK5"), None)
    if ik5 is None:
        raise X12Error("the 999 has no IK5", "SE", txn.se.position)
    return ik5[1] in ("A", "E"), errors


def _category(ack: ClaimAcknowledgment) -> tuple[str, str]:
    """(STC01-1, STC01-2): the ack's own code when it agrees with `accepted`, else A2 / A7."""
    if ack.accepted:
        return (ack.status_code if ack.status_code not in REJECTED else "A2"), "20"
    return (ack.status_code if ack.status_code in REJECTED else "A7"), "21"


def build_277ca(
    acks: list[ClaimAcknowledgment], payer_name: str, payer_id: str, submitter_name: str,
    submitter_id: str, provider_name: str, provider_npi: str, when: datetime, control_number: int,
    patients: dict[str, tuple[str, str, str]] | None = None,  # ccn -> (last, first, member id)
    charges: dict[str, Decimal] | None = None,  # ccn -> claim charge (STC04)
    service_dates: dict[str, date] | None = None,  # ccn -> DTP*472
) -> str:  # fmt: skip
    if not acks:
        raise ValueError("a 277CA needs at least one claim acknowledgment")
    patients, charges, service_dates = patients or {}, charges or {}, service_dates or {}
    today = when.strftime("%Y%m%d")
    charge = {a.claim_control_number: Decimal(charges.get(a.claim_control_number, 0)) for a in acks}
    ok = [a.claim_control_number for a in acks if a.accepted]
    bad = [a.claim_control_number for a in acks if not a.accepted]
    totals = [seg("QTY", "90", len(ok))] if ok else []
    totals += [seg("QTY", "AA", len(bad))] if bad else []
    totals += [seg("AMT", "YU", _money(sum(charge[c] for c in ok)))] if ok else []
    totals += [seg("AMT", "YY", _money(sum(charge[c] for c in bad)))] if bad else []
    body = [
        seg("BHT", "0085", "08", f"{control_number}", today, when.strftime("%H%M"), "TH"),
        seg("HL", 1, "", "20", 1),
        seg("NM1", "PR", "2", payer_name, "", "", "", "", "PI", payer_id),
        seg("TRN", "1", f"{control_number}"),
        seg("DTP", "050", "D8", today),
        seg("DTP", "009", "D8", today),
        seg("HL", 2, 1, "21", 1),
        seg("NM1", "41", "2", submitter_name, "", "", "", "", "46", submitter_id),
        seg("TRN", "2", f"{control_number}"),
        seg("STC", "A1:19:PR", today, "WQ", _money(sum(charge.values()))),
        *totals,
        seg("HL", 3, 2, "19", 1),
        seg("NM1", "85", "2", provider_name, "", "", "", "", "XX", provider_npi),
        seg("TRN", "1", "0"),
        seg("STC", "A1:19:PR", "", "WQ", _money(sum(charge.values()))),  # STC02 Not Used here
        *[seg("QTY", "QA" if s[1] == "90" else "QC", s[2]) for s in totals if s.id == "QTY"],
        *[s for s in totals if s.id == "AMT"],
    ]
    for n, ack in enumerate(acks, start=4):
        ccn = ack.claim_control_number
        last, first, member = patients.get(ccn, ("UNKNOWN", "", "UNKNOWN"))
        category, status = _category(ack)
        served = service_dates.get(ccn, when.date()).strftime("%Y%m%d")
        body += [
            seg("HL", n, 3, "PT"),
            seg("NM1", "QC", "1", last, first, "", "", "", "MI", member),
            seg("TRN", "2", ccn),
            seg("STC", f"{category}:{status}", today, "WQ", _money(charge[ccn]),
                *[""] * 7, free_text(ack.reason)),
        ]  # fmt: skip
        body += [seg("REF", "1K", ack.payer_claim_number)] if ack.payer_claim_number else []
        body.append(seg("DTP", "472", "D8", served))
    return build_interchange(
        "HN", ACK_277CA, [("277", body)], payer_id, submitter_id, control_number, when
    )


def _money(amount: Decimal) -> str:
    text = f"{Decimal(amount).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".")


def parse_277ca(text: str) -> list[ClaimAcknowledgment]:
    """One ClaimAcknowledgment per patient-level (HL03 PT) claim, in file order."""
    interchange = parse_interchange(text)
    acks: list[ClaimAcknowledgment] = []
    for txn in (t for t in interchange.transactions if t.code == "277"):
        level, current = "", None
        for segment in txn.body:
            if segment.id == "HL":
                level, current = segment[3], None
            elif level != "PT":
                continue
            elif segment.id == "TRN":
                current = ClaimAcknowledgment(claim_control_number=segment[2], accepted=True)
                acks.append(current)
            elif segment.id in ("STC", "REF") and current is None:
                raise X12Error("a claim status before its TRN*2", segment.id, segment.position)
            elif segment.id == "STC":
                category = segment.components(1, interchange.separators)[0]
                current.status_code, current.accepted = category, category not in REJECTED
                current.reason = segment[12]
            elif segment.id == "REF" and segment[1] == "1K":
                current.payer_claim_number = segment[2]
    return acks
