"""What every provider-to-payer inquiry names (270, 276, 278): the trace, the payer, the
provider asking, and the member, subscriber and patient it is about; and the HL levels the
answers are arranged in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pydantic import Field, model_validator

from cob.model import Model, Person, Relationship
from payers.x12.segments import Segment, Separators, Transaction, X12Error


class MemberInquiry(Model):
    trace_number: str = Field(min_length=1)  # TRN*1; echoed as TRN*2 in the answer
    payer_id: str = Field(min_length=1)
    # the provider's NM103 and NM109; empty when a received inquiry leaves its provider
    # level out (X212 2000C is situational)
    provider_name: str = ""
    provider_npi: str = ""
    member_id: str = Field(min_length=1)
    # None only for a dependent whose subscriber the inquiry names by member id alone: the
    # subscriber's name and DMG are situational when the patient is a dependent (X279A1
    # 2100C, X212 2000D, X217 2010C)
    subscriber: Person | None
    patient: Person
    relationship: Relationship
    service_date: date

    @model_validator(mode="after")
    def _self_is_the_subscriber(self) -> MemberInquiry:
        if self.relationship == Relationship.SELF and self.patient != self.subscriber:
            raise ValueError("relationship self: the patient must be the subscriber")
        return self


def procedure_code(segment: Segment, number: int, separators: Separators) -> str:
    """The procedure of an `HC:<code>` composite (SV101, EB13), or an X12Error naming it."""
    qualifier, *rest = segment.components(number, separators)
    if qualifier != "HC" or not rest or not rest[0]:
        element = f"{segment.id}{number:02d}"
        raise X12Error(
            f"{element} {segment[number]!r} is not HC:<procedure code>",
            segment.id,
            segment.position,
        )
    return rest[0]


@dataclass(eq=False)
class Level:
    """One HL and the segments after it up to the next HL, linked to its parent by HL02."""

    hl: Segment
    segments: list[Segment] = field(default_factory=list)
    parent: Level | None = None
    children: list[Level] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.hl[3]  # 20 source, 21 receiver, 19/22/23/PT/EV/SS ...

    def find(self, segment_id: str, *qualifiers: str) -> Segment | None:
        return next((s for s in self.segments if s.id == segment_id
                     and (not qualifiers or s[1] in qualifiers)), None)  # fmt: skip

    def above(self, code: str) -> Level | None:
        """The nearest level with HL03 `code`, this one or one it sits under."""
        level: Level | None = self
        while level is not None and level.code != code:
            level = level.parent
        return level

    def below(self) -> list[Level]:
        """Every level under this one, in file order."""
        return [level for child in self.children for level in (child, *child.below())]


def levels(txn: Transaction) -> list[Level]:
    """Every HL level of a transaction in file order. Segments before the first HL (BHT)
    belong to none; an HL02 naming no earlier HL01 is refused, naming the HL."""
    found: list[Level] = []
    by_id: dict[str, Level] = {}
    for segment in txn.body:
        if segment.id != "HL":
            if found:
                found[-1].segments.append(segment)
            continue
        if segment[1] in by_id:
            raise X12Error(f"HL01 {segment[1]!r} is used twice", "HL", segment.position)
        parent = by_id.get(segment[2]) if segment[2] else None
        if segment[2] and parent is None:
            raise X12Error(f"HL02 {segment[2]!r} names no earlier HL", "HL", segment.position)
        level = Level(segment, parent=parent)
        if parent is not None:
            parent.children.append(level)
        by_id[segment[1]] = level
        found.append(level)
    return found
