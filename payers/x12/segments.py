"""X12 5010 at the segment level: separators, segments, and the ISA/GS/ST envelopes.

Parsing checks the envelope (separators from the ISA, SE/GE/IEA counts and control numbers)
and every error names the segment and its position (1-based, counted from ISA), so a billing
team can find the fault in a file. Transaction content (837P, 835, ...) lives in its own module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ISA_LENGTH = 106  # the ISA segment is fixed-width, its terminator included


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
    repetition: str = "^"
    segment: str = "~"


@dataclass
class Segment:
    id: str
    elements: list[str] = field(default_factory=list)  # elements[0] is element 01
    position: int = 0

    def __getitem__(self, number: int) -> str:
        """Element by its X12 number (1-based); '' when absent."""
        return self.elements[number - 1] if 0 < number <= len(self.elements) else ""

    def components(self, number: int, separators: Separators = Separators()) -> list[str]:
        return self[number].split(separators.component)

    def to_x12(self, separators: Separators = Separators()) -> str:
        elements = list(self.elements)
        while elements and elements[-1] == "":  # no trailing empty elements
            elements.pop()
        return separators.element.join([self.id, *elements]) + separators.segment


def free_text(text: str, limit: int = 264, separators: Separators = Separators()) -> str:
    """Free text (MSG, STC12) made safe to send: delimiters become spaces, at most `limit`."""
    for delimiter in (separators.element, separators.component, separators.repetition,
                      separators.segment, "\r", "\n"):  # fmt: skip
        text = text.replace(delimiter, " ")
    return " ".join(text.split())[:limit]


def seg(segment_id: str, *elements: object) -> Segment:
    """Build a segment; None becomes an empty element, numbers are written as given."""
    return Segment(segment_id, ["" if e is None else str(e) for e in elements])


@dataclass
class Transaction:
    st: Segment
    body: list[Segment]  # between ST and SE
    se: Segment

    @property
    def code(self) -> str:
        return self.st[1]  # 837, 835, 999, 277, ...

    @property
    def version(self) -> str:
        return self.st[3]  # implementation guide, e.g. 005010X222A1


@dataclass
class FunctionalGroup:
    gs: Segment
    transactions: list[Transaction]


@dataclass
class Interchange:
    separators: Separators
    isa: Segment
    groups: list[FunctionalGroup]

    @property
    def transactions(self) -> list[Transaction]:
        return [t for g in self.groups for t in g.transactions]


def detect_separators(text: str) -> Separators:
    if not text.startswith("ISA"):
        raise X12Error("the document must start with ISA", "ISA", 1)
    if len(text) < ISA_LENGTH:
        raise X12Error(f"the ISA segment is {len(text)} characters, 106 expected", "ISA", 1)
    element, repetition, component, segment = text[3], text[82], text[104], text[105]
    if len({element, repetition, component, segment}) != 4 or element.isalnum():
        raise X12Error("the separators in the ISA are not four distinct delimiters", "ISA", 1)
    return Separators(element, component, repetition, segment)


def split_segments(text: str) -> tuple[Separators, list[Segment]]:
    text = text.strip()
    separators = detect_separators(text)
    segments = []
    for position, raw in enumerate(text.split(separators.segment), start=1):
        raw = raw.strip("\r\n")
        if not raw:
            continue
        segment_id, *elements = raw.split(separators.element)
        if not segment_id.isalnum() or not 2 <= len(segment_id) <= 3:
            hint = f" (the ISA declares {separators.element!r} as the element separator)"
            raise X12Error(
                f"{segment_id[:40]!r} is not a segment id{hint}", segment_id[:3] or "?", position
            )
        segments.append(Segment(segment_id, elements, position))
    return separators, segments


def parse_interchange(text: str) -> Interchange:
    separators, segments = split_segments(text)
    if segments[-1].id != "IEA":
        last = segments[-1]
        raise X12Error("the interchange is truncated: no IEA trailer", last.id, last.position)
    isa, iea = segments[0], segments[-1]
    groups: list[FunctionalGroup] = []
    i = 1
    while i < len(segments) - 1:
        gs = segments[i]
        if gs.id != "GS":
            raise X12Error("expected GS", gs.id, gs.position)
        group = FunctionalGroup(gs, [])
        i += 1
        while segments[i].id == "ST":
            st = segments[i]
            end = next((j for j in range(i, len(segments)) if segments[j].id == "SE"), None)
            if end is None:
                raise X12Error("no SE trailer for this transaction", "ST", st.position)
            se = segments[end]
            count = end - i + 1
            if se[1] != str(count):
                raise X12Error(
                    f"SE01 says {se[1]} segments, the transaction has {count}", "SE", se.position
                )
            if se[2] != st[2]:
                raise X12Error(f"SE02 {se[2]} does not match ST02 {st[2]}", "SE", se.position)
            group.transactions.append(Transaction(st, segments[i + 1 : end], se))
            i = end + 1
        ge = segments[i]
        if ge.id != "GE":
            raise X12Error("expected GE or ST", ge.id, ge.position)
        if ge[1] != str(len(group.transactions)) or ge[2] != gs[6]:
            raise X12Error(
                f"GE says {ge[1]} transactions / control {ge[2]}; the group has "
                f"{len(group.transactions)} / {gs[6]}", "GE", ge.position,
            )  # fmt: skip
        groups.append(group)
        i += 1
    if iea[1] != str(len(groups)) or iea[2] != isa[13]:
        raise X12Error(
            f"IEA says {iea[1]} groups / control {iea[2]}; the interchange has {len(groups)} / "
            f"{isa[13]}", "IEA", iea.position,
        )  # fmt: skip
    return Interchange(separators, isa, groups)


def build_interchange(
    functional_id: str,
    version: str,
    transactions: list[tuple[str, list[Segment]]],
    sender: str,
    receiver: str,
    control_number: int,
    when: datetime,
    separators: Separators = Separators(),
    usage: str = "P",
    version_in_st: bool = True,
) -> str:
    """ISA/GS around `transactions` ((code, body segments)), with ST/SE counts computed.
    ST03 carries the implementation guide unless the guide leaves it unused (835 X221A1)."""
    isa = seg(
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", sender.ljust(15)[:15], "ZZ",
        receiver.ljust(15)[:15], when.strftime("%y%m%d"), when.strftime("%H%M"),
        separators.repetition, "00501", f"{control_number:09d}", "0", usage, separators.component,
    )  # fmt: skip
    gs = seg(
        "GS", functional_id, sender, receiver, when.strftime("%Y%m%d"), when.strftime("%H%M"),
        control_number, "X", version,
    )  # fmt: skip
    out = [isa, gs]
    for n, (code, body) in enumerate(transactions, start=1):
        st_control = f"{n:04d}"
        out.append(seg("ST", code, st_control, version if version_in_st else None))
        out.extend(body)
        out.append(seg("SE", len(body) + 2, st_control))
    out += [seg("GE", len(transactions), control_number), seg("IEA", 1, f"{control_number:09d}")]
    return "\n".join(s.to_x12(separators) for s in out) + "\n"
