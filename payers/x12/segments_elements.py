"""X12 5010 segments and elements: the separators, the segment, and reading and writing its
elements (X12.6 data element types R, D8/RD8, amounts in dollars and cents).

Every error names the segment and its position (1-based, counted from ISA), so a billing team
can find the fault in a file. The ISA/GS/ST envelopes around the segments:
`payers.x12.segments_envelope`.
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


class X12Error(ValueError):
    """A malformed or unbalanced document; str() names the segment and position."""

    def __init__(self, message: str, segment_id: str | None = None, position: int | None = None):
        where = ""
        if segment_id is not None:
            where = f"segment {segment_id}" + (f" at position {position}" if position else "")
            where += ": "
        super().__init__(where + message)
        self.segment_id = segment_id
        self.position = position


@dataclass(frozen=True)
class Separators:
    element: str = "*"
    component: str = ":"
    repetition: str = "^"  # ISA11 in 5010; a 4010 ISA11 is a standards id, and no separator
    segment: str = "~"


DEFAULT_SEPARATORS = Separators()


@dataclass
class Segment:
    id: str
    elements: list[str] = field(default_factory=list)  # elements[0] is element 01
    position: int = 0
    # the interchange's separators, so composites split on the ISA16 the file declares
    separators: Separators = field(default=DEFAULT_SEPARATORS, repr=False, compare=False)

    def __getitem__(self, number: int) -> str:
        """Element by its X12 number (1-based); '' when absent."""
        return self.elements[number - 1] if 0 < number <= len(self.elements) else ""

    def components(self, number: int, separators: Separators | None = None) -> list[str]:
        return self[number].split((separators or self.separators).component)

    def component(self, number: int, part: int) -> str:
        """Component `part` (1-based) of composite element `number`; '' when absent."""
        parts = self.components(number)
        return parts[part - 1] if 0 < part <= len(parts) else ""

    def to_x12(self, separators: Separators = DEFAULT_SEPARATORS) -> str:
        """The segment as written; an element holding the element or segment separator (or a
        line break) would split the segment once sent, so it is refused by its number."""
        elements = list(self.elements)
        for number, element in enumerate(elements, start=1):
            if any(c in element for c in (separators.element, separators.segment, "\r", "\n")):
                raise X12Error(
                    f"{self.id}{number:02d} holds a separator or line break, which X12 data "
                    "cannot carry",
                    self.id,
                )
        while elements and elements[-1] == "":  # no trailing empty elements
            elements.pop()
        return separators.element.join([self.id, *elements]) + separators.segment


def free_text(text: str, limit: int = 264, separators: Separators = DEFAULT_SEPARATORS) -> str:
    """Free text (MSG, STC12) made safe to send: delimiters become spaces, at most `limit`."""
    for delimiter in (separators.element, separators.component, separators.repetition,
                      separators.segment, "\r", "\n"):  # fmt: skip
        text = text.replace(delimiter, " ")
    return " ".join(text.split())[:limit]


# X12 data element types (X12.6): R is an optional minus, digits and at most one decimal
# point, at most 18 characters wide here; an amount in dollars has at most 2 decimals.
DECIMAL = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")
CENT = Decimal("0.01")


def decimal_element(segment: Segment, number: int, empty: Decimal | None = None) -> Decimal:
    """An R (decimal) element, e.g. units; `empty` when given and the element is empty."""
    raw = segment[number]
    if not raw and empty is not None:
        return empty
    if not DECIMAL.fullmatch(raw) or len(raw) > 18:
        raise X12Error(f"{segment.id}{number:02d} {raw!r} is not an amount", segment.id,
                       segment.position)  # fmt: skip
    return Decimal(raw)


def amount_element(segment: Segment, number: int, empty: Decimal | None = None) -> Decimal:
    """An amount in dollars and cents; more than 2 decimals is refused, never rounded."""
    value = decimal_element(segment, number, empty)
    if value != value.quantize(CENT):
        raise X12Error(f"{segment.id}{number:02d} {segment[number]!r} has more than 2 decimals",
                       segment.id, segment.position)  # fmt: skip
    return value.quantize(CENT)


def date_element(segment: Segment, number: int, qualifier: str = "D8") -> date:
    """A date element: D8 CCYYMMDD, or the first day of an RD8 CCYYMMDD-CCYYMMDD period;
    X12Error naming the segment when it is not one."""
    value = segment[number].split("-")[0] if qualifier == "RD8" else segment[number]
    if qualifier in ("D8", "RD8") and re.fullmatch(r"\d{8}", value):
        with suppress(ValueError):
            return datetime.strptime(value, "%Y%m%d").date()
    raise X12Error(f"{segment.id}{number:02d} {segment[number]!r} is not a {qualifier or 'D8'} "
                   "date", segment.id, segment.position)  # fmt: skip


def amount_text(value: Decimal) -> str:
    """An amount as X12 writes it: cents at most, no trailing zeros (100, 22.5, -80)."""
    text = f"{Decimal(value).quantize(CENT):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def d8_text(day: date) -> str:
    return day.strftime("%Y%m%d")


def seg(segment_id: str, *elements: object) -> Segment:
    """Build a segment; None becomes an empty element, numbers are written as given."""
    return Segment(segment_id, ["" if e is None else str(e) for e in elements])
