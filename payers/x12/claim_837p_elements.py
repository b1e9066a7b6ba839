"""Element readers for the 837P reader: each names the segment and element at fault."""

from __future__ import annotations

from datetime import date

from pydantic import ValidationError

from cob.model import (
    Adjustment,
    Person,
)
from payers.x12.claim_837p import SEQUENCE_LETTERS
from payers.x12.segments import (
    Segment,
    X12Error,
    date_element,
    decimal_element,
)

UNKNOWN_BIRTH_DATE = date(1900, 1, 1)  # a subscriber who is not the patient and has no DMG


def dtp_day(s: Segment) -> date:
    """DTP03 as a date: D8, or the first day of an RD8 range."""
    if s[2] not in ("D8", "RD8"):
        raise X12Error(
            f"DTP02 {s[2]!r}: a date (D8) or a range (RD8) is expected", "DTP", s.position
        )
    return date_element(s, 3, s[2])


def first_segment(
    loop: list[Segment], segment_id: str, qualifiers: tuple[str, ...] = ()
) -> Segment | None:
    return next(
        (s for s in loop if s.id == segment_id and (not qualifiers or s[1] in qualifiers)), None
    )


def address_of(loop: list[Segment]) -> str | None:
    n3, n4 = first_segment(loop, "N3"), first_segment(loop, "N4")
    return f"{n3[1]}, {n4[1]}, {n4[2]} {n4[3]}" if n3 and n4 else None


def phone_of(loop: list[Segment]) -> str:
    for per in (s for s in loop if s.id == "PER"):
        for n in (3, 5, 7):  # PER03/05/07 qualify the number that follows them
            if per[n] == "TE":
                return per[n + 1]
    return ""


def person_of(nm1: Segment, dmg: Segment | None, needs_birth_date: bool, what: str) -> Person:
    if dmg is None and needs_birth_date:
        raise X12Error(
            f"the {what} has no DMG: the patient's birth date is required", nm1.id, nm1.position
        )
    if not nm1[3]:
        raise X12Error(f"NM103: the {what}'s name is empty", nm1.id, nm1.position)
    birth_date = date_element(dmg, 2) if dmg is not None else UNKNOWN_BIRTH_DATE
    sex = dmg[3] if dmg is not None and dmg[3] in ("F", "M", "U") else "U"
    # as written: the encounter's checks (cob.validation) judge the content, naming the field
    return Person.model_construct(
        last_name=nm1[3], first_name=nm1[4] or nm1[3], birth_date=birth_date, sex=sex
    )


def payer_sequence(sbr: Segment) -> int:
    if not sbr[1] or sbr[1] not in SEQUENCE_LETTERS:
        raise X12Error(f"SBR01 {sbr[1]!r} is not a payer responsibility the engine orders "
                       f"({', '.join(SEQUENCE_LETTERS)})", "SBR", sbr.position)  # fmt: skip
    return SEQUENCE_LETTERS.index(sbr[1]) + 1


def adjustments_of(s: Segment) -> list[Adjustment]:
    try:
        return [Adjustment(group=s[1], reason=s[n], amount=decimal_element(s, n + 1))
                for n in range(2, 19, 3) if s[n]]  # fmt: skip
    except ValidationError:
        raise X12Error(f"CAS01 {s[1]!r} is not a claim adjustment group (CO, PR, OA, PI, CR)",
                       "CAS", s.position) from None  # fmt: skip


def composite(
    s: Segment, n: int, parts: int, what: str, required: tuple[int, ...] = ()
) -> list[str]:
    """Composite element `n` split on ISA16, with at least `parts` components; `required`
    (1-based, all of the first `parts` when empty) must not be empty."""
    values = s.components(n)
    if len(values) < parts or not all(values[i - 1] for i in required or range(1, parts + 1)):
        raise X12Error(f"{s.id}{n:02d} {s[n]!r} is not {what}, split on {s.separators.component!r}"
                       " (the component separator ISA16 declares)", s.id, s.position)  # fmt: skip
    return values
