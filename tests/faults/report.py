"""The fault suite's table: encounters, faults injected by kind, the outcomes that must be
0, and for the encounters that differ, what kind of difference, the first fields (expected,
got: stages, payer ids, codes and money, never a name) and the faults their requests met."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from cob.model import Encounter
from tests.faults.outcomes import Difference
from tests.faults.plan import KINDS
from tests.faults.proxy import InjectedFault

if TYPE_CHECKING:
    from tests.faults.run import RunResult, SuiteReport

FIELDS_SHOWN = 5  # per encounter, in the listing


def faults_touching(encounter: Encounter, faults: list[InjectedFault]) -> list[str]:
    """The faults injected into requests about this encounter (its id or a member id is in
    the request), as 'kind on METHOD path #attempt'. ERA reads belong to no one encounter."""
    marks = [encounter.encounter_id, *(c.member_id for c in encounter.coverages)]
    return [
        f"{f.kind} on {f.method} {f.path} #{f.attempt}"
        for f in faults
        if any(mark in f.request for mark in marks)
    ]


def difference_kind(category: str, differences: list[Difference]) -> str:
    """What went wrong with one encounter: its worst category (lost, doubled, unbalanced,
    different), and for a different one the weightiest field that differs."""
    if category == "lost":
        return f"lost ({differences[0].got.split(':')[0]})"
    if category == "doubled":
        return f"done twice ({differences[0].field})"
    if category == "unbalanced":
        return "unbalanced"
    by_field = {d.field: d for d in differences}
    if "not billed" in by_field:
        return "coverage dropped (not billed)"
    if "stage" in by_field:
        return f"stage {by_field['stage'].expected} -> {by_field['stage'].got}"
    for name in ("claims", "payer order"):
        if name in by_field:
            return f"{name} differ"
    return "money differs"


def _stages(run: RunResult) -> str:
    return ", ".join(f"{stage} {n}" for stage, n in sorted(run.stages().items()))


def report_lines(report: SuiteReport, encounters: list[Encounter], show: int = 20) -> list[str]:
    clean, faulty, result = report.clean, report.faulty, report.comparison
    lines = [
        f"encounters          {result.encounters}",
        f"without faults      {clean.seconds:6.1f} s   stages: {_stages(clean)}",
        f"with faults         {faulty.seconds:6.1f} s   stages: {_stages(faulty)}",
        f"payer requests      {faulty.requests} through the proxy, "
        f"{sum(faulty.injected.values())} faults injected",
        *(f"  {kind:<18}{faulty.injected.get(kind, 0):>6}" for kind in KINDS),
        "outcomes            (each must be 0)",
        f"  lost              {len(result.lost):>6}",
        f"  doubled           {len(result.differing_encounters('doubled')):>6}",
        f"  unbalanced        {len(result.differing_encounters('unbalanced')):>6}",
        f"  different         {len(result.differing_encounters('different')):>6}",
        f"held with a task    {len(result.held_with_task):>6}   (at the end: allowed only where "
        "the run without faults held it too)",
        f"held, then resumed  {len(result.held_and_resumed):>6}   (a payer fault outlasted "
        "Temporal's retries: a task, closed when the payer answered again)",
    ]
    per_encounter: dict[str, list[Difference]] = {}
    worst: dict[str, str] = {}
    for category in ("lost", "doubled", "unbalanced", "different"):
        for d in getattr(result, category):
            per_encounter.setdefault(d.encounter_id, []).append(d)
            worst.setdefault(d.encounter_id, category)
    if not per_encounter:
        return lines
    by_id = {e.encounter_id: e for e in encounters}
    touched = {i: faults_touching(by_id[i], faulty.faults) for i in per_encounter}
    kinds = Counter(
        difference_kind(worst[i], [d for d in ds if d in getattr(result, worst[i])])
        for i, ds in per_encounter.items()
    )
    lines.append("differences by kind (encounters):")
    lines += [f"  {n:>6}  {kind}" for kind, n in kinds.most_common()]
    met = Counter(f.rsplit(" #", 1)[0] for faults in touched.values() for f in faults)
    lines.append("faults met by the requests of those encounters (by kind and endpoint):")
    lines += [f"  {n:>6}  {what}" for what, n in met.most_common()]
    listed = sorted(per_encounter)[:show]
    lines.append(f"first differences ({len(listed)} of {len(per_encounter)} encounters):")
    lines.append(f"  {'encounter':<14}{'field':<38}{'expected':<24} got")
    for encounter_id in listed:
        differences = per_encounter[encounter_id]
        for n, d in enumerate(differences[:FIELDS_SHOWN]):
            shown = encounter_id if n == 0 else ""
            lines.append(f"  {shown:<14}{d.field:<38}{d.expected:<24} {d.got}")
        if len(differences) > FIELDS_SHOWN:
            lines.append(f"  {'':<14}(+{len(differences) - FIELDS_SHOWN} more fields)")
        lines.append(
            f"  {'':<14}faults met: {', '.join(touched[encounter_id]) or 'ERA reads only'}"
        )
    return lines
