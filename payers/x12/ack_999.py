"""The 999 implementation acknowledgment (005010X231A1) of a submitted 837 or 835: whether each
transaction passed syntax checks (an AK2 loop each: IK3/IK4 errors and the IK5 verdict; AK9
for the group).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from payers.x12.segments import (
    Segment,
    Transaction,
    X12Error,
    build_interchange,
    seg,
    transactions_of,
)

ACK_999 = "005010X231A1"
ACK_ACCEPTED = {"A", "E"}  # IK501 / AK901 accepted (E: with errors noted), X231A1
ACK_REJECTED = {"R", "M", "W", "X"}  # P (AK901 only): some transaction sets were accepted
# build_interchange numbers an interchange's transactions from 0001 and the engine sends one
# 837 per interchange, so the ST02 a 999 must acknowledge for the engine is this one.
SENT_ST02 = "0001"
# guide -> (GS01 functional identifier, ST01 transaction code)
ACKNOWLEDGED = {"005010X222A1": ("HC", "837"), "005010X223A2": ("HC", "837"),
                "005010X221A1": ("HP", "835")}  # fmt: skip


@dataclass(frozen=True)
class ElementError:
    """A 999 IK4: which element of the IK3 segment (IK401, 'n' or 'n:c'), its dictionary
    number (IK402), the IK403 syntax code and the bad value as sent (IK404)."""

    position: str
    code: str
    reference: str = ""
    value: str = ""


@dataclass(frozen=True)
class AckError:
    """A 999 IK3 segment error: which segment, where (ST = 1), and the IK304 syntax code."""

    segment_id: str
    position: int
    code: str = "8"  # 8 = segment has data element errors; 3 = mandatory segment missing
    loop: str = ""
    elements: tuple[ElementError, ...] = ()  # its IK4 element notes


@dataclass(frozen=True)
class TransactionAck:
    """One AK2 loop: the transaction set it answers (AK201, AK202) and its IK5 verdict."""

    code: str  # AK201: 837, ...
    control: str  # AK202: the ST02 of the acknowledged transaction
    status: str  # IK501
    errors: tuple[AckError, ...] = ()
    syntax_codes: tuple[str, ...] = ()  # IK502-IK506

    @property
    def accepted(self) -> bool:
        return self.status in ACK_ACCEPTED


@dataclass(frozen=True)
class GroupAck:
    """A 999 transaction: the functional group it answers (AK1) and each transaction in it."""

    group_control: str  # AK102: the GS06 of the acknowledged group
    group_status: str  # AK901
    transactions: tuple[TransactionAck, ...]


def build_999(
    accepted: bool, functional_group_control: str, transaction_control: str,
    implementation_ref: str, errors: list[AckError] | None, when: datetime, control_number: int,
    sender: str = "RECEIVER", receiver: str = "SUBMITTER",
) -> str:  # fmt: skip
    group_id, code = ACKNOWLEDGED.get(implementation_ref, ("HC", "837"))
    body = [
        seg("AK1", group_id, functional_group_control, implementation_ref),
        seg("AK2", code, transaction_control, implementation_ref),
    ]
    for error in errors or []:
        body.append(seg("IK3", error.segment_id, error.position, error.loop, error.code))
    status = "A" if accepted else "R"
    body.append(seg("IK5", status) if accepted else seg("IK5", status, "5"))
    body.append(seg("AK9", status, 1, 1, 1 if accepted else 0))
    return build_interchange("FA", ACK_999, [("999", body)], sender, receiver, control_number, when)


def _ik3(segment: Segment) -> AckError:
    if not segment[2].isdigit():
        raise X12Error(f"IK302 {segment[2]!r} is not a segment position", "IK3", segment.position)
    return AckError(segment[1], int(segment[2]), segment[4], segment[3])


def read_999(txn: Transaction) -> GroupAck:
    """Every AK2 loop of a 999 with its IK3/IK4 errors and IK5, and the AK9 (X231A1)."""
    if txn.code != "999":
        raise X12Error(f"ST01 is {txn.code}; a 999 was expected", "ST", txn.st.position)
    group_control, ak9 = "", None
    done: list[TransactionAck] = []
    ak2: Segment | None = None
    errors: list[AckError] = []
    for s in txn.body:
        if s.id in ("IK3", "IK4", "IK5", "CTX") and ak2 is None:
            raise X12Error(f"{s.id} outside an AK2 loop", s.id, s.position)
        if s.id in ("AK2", "AK9") and ak2 is not None:
            raise X12Error(f"the AK2 loop for {ak2[1]} {ak2[2]} has no IK5", "AK2", ak2.position)
        if s.id == "AK1":
            group_control = s[2]
        elif s.id == "AK2":
            ak2, errors = s, []
        elif s.id == "IK3":
            errors.append(_ik3(s))
        elif s.id == "IK4" and not errors:
            raise X12Error("IK4 before any IK3 names its segment", "IK4", s.position)
        elif s.id == "IK4":
            note = ElementError(position=s[1], code=s[3], reference=s[2], value=s[4])
            errors[-1] = replace(errors[-1], elements=(*errors[-1].elements, note))
        elif s.id == "IK5" and ak2 is not None:
            codes = tuple(c for c in s.elements[1:6] if c)
            done.append(TransactionAck(ak2[1], ak2[2], s[1], tuple(errors), codes))
            ak2 = None
        elif s.id == "AK9":
            ak9 = s
    if ak2 is not None:
        raise X12Error(f"the AK2 loop for {ak2[1]} {ak2[2]} has no IK5", "AK2", ak2.position)
    if ak9 is None:
        raise X12Error("the 999 has no AK9", "SE", txn.se.position)
    return GroupAck(group_control, ak9[1], tuple(done))


def _acks_999(text: str) -> list[tuple[Transaction, GroupAck]]:
    found = [(t, read_999(t)) for t in transactions_of(text) if t.code == "999"]
    if not found:
        raise X12Error("no 999 transaction in the interchange", "ST")
    return found


def parse_999(
    text: str, transaction_control: str = SENT_ST02, group_control: str | None = None
) -> tuple[bool, list[AckError]]:
    """(accepted, errors) for the transaction whose ST02 was `transaction_control` (in the
    functional group whose GS06 was `group_control`, when given): its IK5 is A or E and the
    AK9 did not reject the group. A 999 that does not mention it is not an acceptance: an
    X12Error naming the AK9, unless the AK9 rejected the whole group (then it was rejected
    with it). A 999 about another group is no answer at all: an X12Error naming AK1."""
    found = _acks_999(text)
    if group_control is not None:
        found = [(txn, group) for txn, group in found if group.group_control == group_control]
        if not found:
            raise X12Error("the 999 acknowledges another functional group (AK102 is not the "
                           "GS06 sent)", "AK1")  # fmt: skip
    ours = [(txn, group, t) for txn, group in found for t in group.transactions
            if t.control == transaction_control]  # fmt: skip
    if len(ours) > 1:
        raise X12Error(f"transaction {transaction_control} is acknowledged {len(ours)} times",
                       "AK2")  # fmt: skip
    if not ours:
        silent = [g for _, g in found if not g.transactions and g.group_status in ACK_REJECTED]
        if silent:
            return False, []
        txn, group = found[0]
        answered = ", ".join(t.control for _, g in found for t in g.transactions) or "none"
        ak9 = next(s for s in txn.body if s.id == "AK9")
        raise X12Error(f"the 999 does not acknowledge transaction {transaction_control} "
                       f"(it acknowledges: {answered}); not an acceptance", "AK9", ak9.position)  # fmt: skip
    _, group, t = ours[0]
    return t.accepted and group.group_status not in ACK_REJECTED, list(t.errors)


def summarize_999(txn: Transaction) -> dict:
    """A 999 as plain data for `cob x12 read`."""
    group = read_999(txn)
    return {
        "group_status": group.group_status,
        "transactions": [
            {"control": t.control, "code": t.code, "status": t.status,
             "errors": [{"segment": e.segment_id, "position": e.position, "code": e.code}
                        for e in t.errors]}
            for t in group.transactions
        ],
    }  # fmt: skip
