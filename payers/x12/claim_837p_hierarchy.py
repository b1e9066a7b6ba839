"""An 837P transaction cut along its hierarchy (005010X222A1): HL 20 billing provider
(2000A), 22 subscriber (2000B) and 23 patient (2000C), each naming its parent in HL02, and its
claims (2300), each under the HL above it. A level with a broken HL keeps its problem, raised
only for the claims below it, so the other claims are still read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from payers.x12.segments import (
    Segment,
    Transaction,
    X12Error,
)


@dataclass
class HierarchyLevel:  # one HL loop: 2000A (20), 2000B (22) or 2000C (23)
    hl: Segment
    parent: HierarchyLevel | None
    segments: list[Segment] = field(default_factory=list)  # up to its first claim or next HL
    problem: X12Error | None = None

    @property
    def code(self) -> str:
        return self.hl[3]

    def up_to(self, code: str) -> HierarchyLevel | None:
        level: HierarchyLevel | None = self
        while level is not None and level.code != code:
            level = level.parent
        return level


@dataclass
class ClaimLoop:  # one 2300 loop: CLM first, up to the next CLM, HL or SE
    segments: list[Segment]
    level: HierarchyLevel | None


PARENT_OF = {"20": "", "22": "20", "23": "22"}
LEVEL_NAME = {"20": "billing provider", "22": "subscriber", "23": "patient"}


def hierarchy_of(transaction: Transaction) -> tuple[list[Segment], list[ClaimLoop]]:
    """The header (BHT, 1000A, 1000B) and every claim with the HL it belongs to."""
    header: list[Segment] = []
    levels: dict[str, HierarchyLevel] = {}
    claims: list[ClaimLoop] = []
    level: HierarchyLevel | None = None
    into = header
    for s in transaction.body:
        if s.id == "HL":
            parent = levels.get(s[2]) if s[2] else None
            level = HierarchyLevel(s, parent)
            level.problem = _hl_problem(s, parent, levels)
            levels.setdefault(s[1], level)
            into = level.segments
        elif s.id == "CLM":
            claims.append(ClaimLoop([s], level))
            into = claims[-1].segments
        else:
            into.append(s)
    return header, claims


def _hl_problem(
    hl: Segment, parent: HierarchyLevel | None, levels: dict[str, HierarchyLevel]
) -> X12Error | None:
    def problem(message: str) -> X12Error:
        return X12Error(message, "HL", hl.position)

    if hl[3] not in PARENT_OF:
        return problem(f"HL03 {hl[3]!r} is not an 837P level (20, 22 or 23)")
    if hl[1] in levels:
        return problem(f"HL01 {hl[1]} is used twice (also at position {levels[hl[1]].hl.position})")
    wanted = PARENT_OF[hl[3]]
    if not wanted:
        return None
    if parent is None:
        return problem(f"HL02 {hl[2]!r} names no earlier HL; a {LEVEL_NAME[hl[3]]} level (HL03 "
                       f"{hl[3]}) needs its {LEVEL_NAME[wanted]} level ({wanted}) as parent")  # fmt: skip
    if parent.code != wanted:
        return problem(f"HL02 {hl[2]} names a {LEVEL_NAME.get(parent.code, parent.code)} level "
                       f"(HL03 {parent.code}); a {LEVEL_NAME[hl[3]]} level's parent is a "
                       f"{LEVEL_NAME[wanted]} level ({wanted})")  # fmt: skip
    return None


def nm1_loops(segments: list[Segment]) -> dict[str, list[Segment]]:
    """A level's segments by NM1 loop: NM101 -> that NM1 and what follows it up to the next
    NM1; '' -> the segments before the first NM1 (SBR, PAT, PRV). The first of each wins."""
    loops: dict[str, list[Segment]] = {"": []}
    into = loops[""]
    for s in segments:
        if s.id == "NM1":
            into = [s]
            loops.setdefault(s[1], into)  # a repeated loop fills a list nobody keeps
        else:
            into.append(s)
    return loops
