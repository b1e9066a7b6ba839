"""The X12 5010 interchange envelope: ISA/IEA, GS/GE and ST/SE around the segments.

Parsing checks the envelope (separators from the ISA, SE/GE/IEA counts and control numbers,
X12.5) and every error names the segment and its position (1-based, counted from ISA); building
computes the counts. Segments and elements: `payers.x12.segments_elements`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from payers.x12.segments_elements import Segment, Separators, X12Error, seg

ISA_LENGTH = 106  # the ISA segment is fixed-width, its terminator included


@dataclass
class Transaction:
    st: Segment
    body: list[Segment]  # between ST and SE
    se: Segment
    gs: Segment = field(default_factory=lambda: Segment("GS"), repr=False)

    @property
    def code(self) -> str:
        return self.st[1]  # 837, 835, 999, 277, ...

    @property
    def version(self) -> str:
        """The implementation guide, e.g. 005010X222A1: ST03, or GS08 where ST03 is unused."""
        return self.st[3] or self.gs[8]

    @property
    def separators(self) -> Separators:
        return self.st.separators


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


def decode_x12(data: bytes) -> str:
    """The text of an X12 file as delivered: UTF-8 or ASCII, with or without a byte-order
    mark, or UTF-16 with one. Anything else is refused with the offset of the first bad byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise X12Error(
                f"the file says UTF-16 but byte {error.start} is not: {error.reason}"
            ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise X12Error(
            f"the file is not UTF-8 or ASCII text: byte {error.start} is 0x{data[error.start]:02x}"
        ) from None
    if "\x00" in text:
        raise X12Error(f"the file holds a NUL byte at offset {text.index(chr(0))}: not X12 text")
    return text


def detect_separators(text: str) -> Separators:
    """The separators an ISA declares: the element separator follows 'ISA', the component
    separator is ISA16 and the segment terminator the character after it (X12.5 ISA). The
    ISA is fixed-width, but the 16 elements are counted rather than the columns, so a sender
    that pads a field wrongly is still read."""
    if not text.startswith("ISA"):
        raise X12Error("the document must start with ISA", "ISA", 1)
    if len(text) < ISA_LENGTH:
        raise X12Error(f"the ISA segment is {len(text)} characters, 106 expected", "ISA", 1)
    element = text[3]
    if element.isalnum() or element.isspace():
        raise X12Error(f"{element!r} after ISA cannot be the element separator", "ISA", 1)
    at, count = 3, 0
    while count < 16:
        at = text.find(element, at + 1) if count else at
        if at < 0 or at > 200:
            raise X12Error("the ISA does not have 16 elements", "ISA", 1)
        count += 1
    component, segment = text[at + 1], text[at + 2] if at + 2 < len(text) else ""
    isa = text[: at + 1].split(element)
    repetition = isa[11] if len(isa[11]) == 1 and not isa[11].isalnum() else ""
    if (len({element, component, segment}) != 3 or not segment or component.isalnum()
            or (segment.isalnum()) or repetition in (element, component, segment)):  # fmt: skip
        raise X12Error("the separators in the ISA are not distinct delimiters", "ISA", 1)
    return Separators(element, component, repetition, segment)


def _split(text: str, start: int) -> tuple[Separators, list[Segment], int]:
    """The segments of the interchange that starts at `start`, up to its IEA; and where the
    next one would start."""
    separators = detect_separators(text[start:])
    segments: list[Segment] = []
    at = start
    while at < len(text):
        end = text.find(separators.segment, at)
        raw, at = (text[at:], len(text)) if end < 0 else (text[at:end], end + 1)
        raw = raw.strip("\r\n\t ") if segments else raw.lstrip()
        if not raw:
            continue
        segment_id, *elements = raw.split(separators.element)
        position = len(segments) + 1
        if not segment_id.isalnum() or not 2 <= len(segment_id) <= 3:
            hint = f" (the ISA declares {separators.element!r} as the element separator)"
            raise X12Error(
                f"{segment_id[:40]!r} is not a segment id{hint}", segment_id[:3] or "?", position
            )
        segments.append(Segment(segment_id, elements, position, separators))
        if segment_id == "IEA":
            break
    return separators, segments, at


def split_segments(text: str) -> tuple[Separators, list[Segment]]:
    separators, segments, _ = _split(text.lstrip("\ufeff \t\r\n"), 0)
    return separators, segments


def _interchange(separators: Separators, segments: list[Segment]) -> Interchange:
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
            end = next(
                (j for j in range(i + 1, len(segments)) if segments[j].id in ("SE", "ST", "GE")),
                None,
            )
            if end is None or segments[end].id != "SE":
                raise X12Error("no SE trailer for this transaction", "ST", st.position)
            se = segments[end]
            count = end - i + 1
            if se[1] != str(count):
                raise X12Error(
                    f"SE01 says {se[1]} segments, the transaction has {count}", "SE", se.position
                )
            if se[2] != st[2]:
                raise X12Error(f"SE02 {se[2]} does not match ST02 {st[2]}", "SE", se.position)
            group.transactions.append(Transaction(st, segments[i + 1 : end], se, gs))
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


def parse_interchanges(text: str) -> list[Interchange]:
    """Every interchange in a file, in order: clearinghouses batch several ISA/IEA envelopes
    in one file, each with its own separators. A byte-order mark and whitespace around
    segments (CR/LF line breaks, indentation) are ignored; positions count segments from the
    file's first ISA."""
    text = text.lstrip("\ufeff \t\r\n")
    found: list[Interchange] = []
    at, offset = 0, 0
    while True:
        separators, segments, at = _split(text, at)
        for segment in segments:
            segment.position += offset
        offset += len(segments)
        found.append(_interchange(separators, segments))
        rest = text[at:].lstrip("\ufeff \t\r\n")
        if not rest:
            return found
        at = len(text) - len(rest)
        if not rest.startswith("ISA"):
            raise X12Error(
                f"{rest[:20]!r} after the IEA: only another ISA may follow", rest[:3], offset + 1
            )


def parse_interchange(text: str) -> Interchange:
    """The one interchange of a document the engine exchanged with a payer."""
    found = parse_interchanges(text)
    if len(found) > 1:
        second = found[1].isa
        raise X12Error(
            f"{len(found)} interchanges in one document; one expected", "ISA", second.position
        )
    return found[0]


def transactions_of(text: str) -> list[Transaction]:
    """Every transaction of every interchange in a file."""
    return [t for interchange in parse_interchanges(text) for t in interchange.transactions]


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
