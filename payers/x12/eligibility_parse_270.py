"""Read a 270 eligibility inquiry (005010X279A1). A 270 sent in real time asks about one
patient (HL 20/21/22, optionally 23). The subscriber's name and DMG are situational when the
patient is a dependent, and so is the dependent's INS. The guide check and the subscriber and
dependent levels are shared with the 271 reader, since the 271 echoes the 270's structure.
"""

from typing import Any

from pydantic import ValidationError

from cob.model import Person, Relationship
from payers.x12.eligibility import (
    RELATIONSHIP,
    VERSION,
    EligibilityInquiry,
)
from payers.x12.parties import Level, levels
from payers.x12.segments import (
    Segment,
    Transaction,
    X12Error,
    date_element,
    parse_interchange,
)

GUIDES = (VERSION, "005010X279")  # read: the guide and the one its addenda (A1) amend


def checked_transaction(txn: Transaction, code: str, functional_id: str) -> Transaction:
    if txn.code != code:
        raise X12Error(f"ST01 {txn.code} is not a {code}", "ST", txn.st.position)
    if txn.version not in GUIDES or txn.gs[8] not in GUIDES:
        raise X12Error(f"ST03/GS08 {txn.version}/{txn.gs[8]} is not {VERSION}", "ST",
                       txn.st.position)  # fmt: skip
    if txn.gs[1] != functional_id:
        raise X12Error(f"GS01 {txn.gs[1]} is not {functional_id} for a {code}", "GS",
                       txn.gs.position)  # fmt: skip
    return txn


def _one_inquiry(txn: Transaction) -> dict[str, Level]:
    """A real-time 270 asks about one patient: HL 20, 21, 22, and 23 when a dependent."""
    found: dict[str, Level] = {}
    for level in levels(txn):
        if level.code in found:
            raise X12Error(f"a second HL level {level.code}: one inquiry per transaction",
                           "HL", level.hl.position)  # fmt: skip
        found[level.code] = level
    for code in ("20", "21", "22"):
        if code not in found:
            raise X12Error(f"no HL level {code} (payer, provider, subscriber all needed)", "HL")
    return found


def _find(level: Level, segment_id: str, qualifier: str, what: str) -> Segment:
    found = level.find(segment_id, qualifier)
    if found is None:
        raise X12Error(f"no {segment_id}*{qualifier} ({what}) in the HL {level.code} loop at "
                       f"position {level.hl.position}", segment_id)  # fmt: skip
    return found


def _named(level: Level, what: str) -> Segment:
    """The level's NM1, whatever its entity code (2100A payer: PR, 2B, 36, GP, P5; 2100B
    receiver: 1P, FA, 2B, 80, ...)."""
    found = level.find("NM1")
    if found is None:
        raise X12Error(f"no NM1 ({what}) in the HL {level.code} loop at position "
                       f"{level.hl.position}", "NM1")  # fmt: skip
    return found


def _person(name: Segment, dmg: Segment) -> Person:
    if not name[3] or not name[4]:
        raise X12Error("NM103/NM104 last and first name are required", "NM1", name.position)
    sex = dmg[3] or "U"
    if sex not in ("F", "M", "U"):
        raise X12Error(f"DMG03 {sex!r} is not F, M or U", "DMG", dmg.position)
    return Person.model_validate(
        {
            "last_name": name[3],
            "first_name": name[4],
            "birth_date": date_element(dmg, 2),
            "sex": sex,
        }
    )


def _inquiry(txn: Transaction) -> EligibilityInquiry:
    found = _one_inquiry(txn)
    subscriber_loop = found["22"]
    patient_loop = found.get("23", subscriber_loop)
    member = _find(subscriber_loop, "NM1", "IL", "subscriber")
    subscriber_dmg = subscriber_loop.find("DMG", "D8")
    if "23" not in found:
        dmg = subscriber_dmg or _find(subscriber_loop, "DMG", "D8", "subscriber birth date")
        patient = _person(member, dmg)
        subscriber: Person | None = patient
        relationship = Relationship.SELF
    else:
        # the subscriber's name and DMG are situational when the patient is a dependent
        subscriber = _person(member, subscriber_dmg) if subscriber_dmg else None
        dependent = _find(patient_loop, "NM1", "03", "dependent")
        patient = _person(dependent, _find(patient_loop, "DMG", "D8", "dependent birth date"))
        ins = patient_loop.find("INS", "N")  # situational: without it, a dependent of some kind
        if ins is not None and ins[2] not in RELATIONSHIP:
            raise X12Error(f"INS02 {ins[2]!r} is not 01, 19 or G8", "INS", ins.position)
        relationship = RELATIONSHIP[ins[2]] if ins else Relationship.OTHER
    _find(patient_loop, "EQ", "30", "health benefit plan coverage inquiry")
    trn, payer = _find(patient_loop, "TRN", "1", "trace number"), _named(found["20"], "payer")
    provider = _named(found["21"], "information receiver")
    group = subscriber_loop.find("REF", "6P")
    dtp = _find(patient_loop, "DTP", "291", "service date")
    # each field and the segment it came from, to name it when the value is refused
    fields: dict[str, tuple[Any, Segment]] = {
        "trace_number": (trn[2], trn), "payer_id": (payer[9], payer),
        "provider_name": (provider[3], provider), "provider_npi": (provider[9], provider),
        "member_id": (member[9], member), "group_number": (group[2] if group else None, member),
        "service_date": (date_element(dtp, 3), dtp),
    }  # fmt: skip
    try:
        return EligibilityInquiry(
            **{name: value for name, (value, _) in fields.items()},
            subscriber=subscriber, patient=patient, relationship=relationship,
        )  # fmt: skip
    except ValidationError as error:
        problem = error.errors()[0]
        field = str(problem["loc"][0]) if problem["loc"] else ""
        at = fields.get(field, (None, txn.st))[1]
        raise X12Error(f"{field}: {problem['msg']}", at.id, at.position) from error


def parse_270(text: str) -> EligibilityInquiry:
    """Exactly one inquiry per interchange: the real-time exchange the simulator answers."""
    interchange = parse_interchange(text)  # envelope counts and control numbers
    transactions = interchange.transactions
    if len(transactions) != 1:
        extra = transactions[1].st.position if len(transactions) > 1 else None
        raise X12Error(f"one 270 per interchange; this one has {len(transactions)}", "ST", extra)
    return _inquiry(checked_transaction(transactions[0], "270", "HS"))


def people_of(txn: Transaction) -> list[tuple[Level, str]]:
    """Each subscriber (HL 22) and dependent (HL 23) level with the NM109 of its NM1*IL or
    NM1*03 ("" when the level names none)."""
    return [(level, (level.find("NM1", "IL" if level.code == "22" else "03") or Segment("NM1"))[9])
            for level in levels(txn) if level.code in ("22", "23")]  # fmt: skip


def summarize_270(txn: Transaction) -> dict:
    """A 270 as plain data for `cob x12 read`: the member id of each subscriber and dependent
    level (a dependent is usually named without one)."""
    checked_transaction(txn, "270", "HS")
    return {"inquiries": [{"member_id": member_id} for _, member_id in people_of(txn)]}
