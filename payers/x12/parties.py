"""What every provider-to-payer inquiry names (270, 276, 278): the trace, the payer, the
provider asking, and the member, subscriber and patient it is about."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from cob.model import Model, Person, Relationship
from payers.x12.segments import Segment, Separators, X12Error


class MemberInquiry(Model):
    trace_number: str = Field(min_length=1)  # TRN*1; echoed as TRN*2 in the answer
    payer_id: str = Field(min_length=1)
    provider_name: str = Field(min_length=1)
    provider_npi: str = Field(min_length=1)
    member_id: str = Field(min_length=1)
    subscriber: Person
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
