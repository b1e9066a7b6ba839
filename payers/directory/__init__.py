"""The engine's payer directory: what a provider's billing office knows about each payer it
bills, one JSON file per payer beside this module.

An entry holds the payer's published facts and the terms the provider's contract gives it:
its id and name, the plan type, its claims address, the ids its 835s call it by, and its
deadlines (timely filing, appeal levels and windows, prompt pay). It holds none of the plan's
private terms (member rules, cost sharing, fee schedules, edits): those belong to the payer,
and the simulator standing in for the payers keeps them in `payers/simulator/plan_terms/`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cob.deadlines import DeadlineRules
from cob.model import PlanType

DIRECTORY = Path(__file__).parent


class DirectoryError(ValueError):
    """A payer file that cannot be used; the message names the file and the field."""


class PayerEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    payer_id: str = Field(pattern=r"^[A-Z0-9]{2,10}$")
    name: str = Field(min_length=1)
    plan_type: PlanType
    address: str = ""
    # What the payer's 835s call it besides payer_id: its TRN03 company id ("1" + its TIN),
    # REF*2U or N1*PR N104 (ASC X12 005010X221A1, loop 1000A), so a real ERA is matched.
    remittance_ids: list[str] = Field(default_factory=list)
    deadlines: DeadlineRules = DeadlineRules()  # timely filing, appeals, prompt pay


Entry = TypeVar("Entry", bound="PayerEntry")


def read_entry_file(path: Path, model: type[Entry], data: dict | None = None) -> Entry:
    """`path` validated as `model` (with `data` laid under the file's own fields), or a
    DirectoryError naming the file and each bad field."""
    try:
        own = json.loads(path.read_text(), parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise DirectoryError(f"{path.name}: not valid JSON: {exc}") from exc
    try:
        entry = model.model_validate({**(data or {}), **own})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise DirectoryError(f"{path.name}: {problems}") from exc
    if entry.payer_id != path.stem:
        raise DirectoryError(f"{path.name}: payer_id: must match the file name")
    return entry


@lru_cache(maxsize=8)
def _load(directory: Path) -> dict[str, PayerEntry]:
    entries = [read_entry_file(path, PayerEntry) for path in sorted(directory.glob("*.json"))]
    if not entries:
        raise DirectoryError(f"{directory}: no payer files (*.json) found")
    return {entry.payer_id: entry for entry in entries}


def load_directory(directory: Path | None = None) -> dict[str, PayerEntry]:
    """Every payer the engine knows, by payer id, read once per folder (a fresh dict each call)."""
    return dict(_load((directory or DIRECTORY).resolve()))


def known_payer_ids() -> set[str]:
    return set(load_directory())


def payer_deadlines(payer_id: str) -> DeadlineRules:
    """The payer's deadline terms; the defaults for a payer the directory does not list."""
    entry = load_directory().get(payer_id)
    return entry.deadlines if entry else DeadlineRules()


def payer_names() -> dict[str, str]:
    return {payer_id: entry.name for payer_id, entry in load_directory().items()}


def payer_of_remittance(ids: list[str], entries: dict[str, PayerEntry] | None = None) -> str | None:
    """The directory's payer id for an 835 that calls its payer by `ids` (REF*2U, N1*PR
    N104, TRN03), or None when no entry answers to one of them, or several do."""
    entries = load_directory() if entries is None else entries
    found = {e.payer_id for e in entries.values() if {e.payer_id, *e.remittance_ids} & set(ids)}
    return found.pop() if len(found) == 1 else None
