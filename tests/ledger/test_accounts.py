"""Patient accounts in the ledger (ledger/accounts.py): one per guarantor, on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine

from ledger.accounts import AccountNumberTaken, account_for


def test_one_account_per_guarantor(ledger_engine: Engine) -> None:
    first = account_for(ledger_engine, key="park|daniel|1982-07-22", name="Daniel Park")
    assert re.fullmatch(r"A[0-9A-F]{10}", first)
    assert account_for(ledger_engine, key="park|daniel|1982-07-22", name="Daniel Park") == first
    other = account_for(ledger_engine, key="park|noah|2016-09-14", name="Noah Park")
    assert other != first


def test_the_practices_own_number_is_kept_from_the_first_encounter(ledger_engine: Engine):
    assert account_for(ledger_engine, key="k1", name="One", given_id="PM-1001") == "PM-1001"
    # a later encounter with another number: the guarantor keeps the account they have
    assert account_for(ledger_engine, key="k1", name="One", given_id="PM-2002") == "PM-1001"
    with pytest.raises(AccountNumberTaken, match="account_id: PM-1001"):
        account_for(ledger_engine, key="k2", name="Two", given_id="PM-1001")


def test_racing_first_encounters_of_one_guarantor_open_one_account(ledger_engine: Engine):
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = set(pool.map(lambda _: account_for(ledger_engine, key="k", name="K"), range(8)))
    assert len(found) == 1
