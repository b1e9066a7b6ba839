"""Patient accounts: one per guarantor, found by the guarantor's key (cob.guarantor).

An account's id is the practice's own account number when the first encounter billed to the
guarantor carries one, else "A" and ten random hex digits: random, so it tells nothing about
the person or how many accounts there are. The guarantor's key is the table's key, so two
processes opening the same guarantor's first account at once settle on one: the second's
insert fails and its retry finds the first's row."""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ledger import tables as t
from ledger.db import in_transaction, utcnow


class AccountNumberTaken(ValueError):
    """The practice's account number is another guarantor's already."""


def account_for(engine: Engine, *, key: str, name: str, given_id: str | None = None) -> str:
    """The guarantor's account id: the one they have, else `given_id` (the practice's
    number), else a new one. A later encounter with another number for the same guarantor
    keeps the account they have: one account per guarantor."""

    def work(session: Session) -> str:
        found = session.get(t.PatientAccount, key)
        if found is not None:
            return found.account_id
        account_id = given_id or f"A{secrets.token_hex(5).upper()}"
        session.add(t.PatientAccount(guarantor_key=key, account_id=account_id,
                                     guarantor_name=name, created_at=utcnow()))  # fmt: skip
        return account_id

    try:
        return in_transaction(engine, work)
    except IntegrityError:
        # the retry found no account of this guarantor, so the number itself is taken
        if given_id is None:
            raise
        raise AccountNumberTaken(f"account_id: {given_id} is another guarantor's account") from None


def link_encounter(engine: Engine, *, encounter_id: str, account_id: str) -> None:
    """The encounter's patient balance is billed to this account (encounters.account_id)."""

    def work(session: Session) -> None:
        row = session.get(t.Encounter, encounter_id)
        if row is not None and row.account_id != account_id:
            row.account_id = account_id
            session.add(row)

    in_transaction(engine, work)


def account_of_encounter(engine: Engine, encounter_id: str) -> str | None:
    """The account the encounter's patient balance was billed to; None when it was not."""
    with Session(engine) as session:
        return session.exec(
            select(t.Encounter.account_id).where(t.Encounter.encounter_id == encounter_id)
        ).first()
