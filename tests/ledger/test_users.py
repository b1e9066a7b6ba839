"""Users, roles and tokens on real ledgers (SQLite, then PostgreSQL when
COB_TEST_DATABASE_URL is set): only a token's SHA-256 is stored, a replaced or disabled
user's token stops working, and the one permission table says who may do what."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from ledger.users import (
    PERMISSIONS,
    InvalidUser,
    UnknownUser,
    UserDisabled,
    UserExists,
    add_user,
    allowed,
    authenticate,
    disable_user,
    get_user,
    list_users,
    new_token,
    refusal,
    token_digest,
)


def test_a_token_signs_in_its_user_and_the_ledger_keeps_only_its_sha256(ledger_engine: Engine):
    user, token = add_user(ledger_engine, "ana.lima", "biller", by="root")
    assert len(token) >= 43  # 32 random bytes, url-safe base64
    assert user.token_sha256 == hashlib.sha256(token.encode()).hexdigest() != token
    signed_in = authenticate(ledger_engine, token)
    assert signed_in is not None and (signed_in.name, signed_in.role) == ("ana.lima", "biller")
    assert authenticate(ledger_engine, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert authenticate(ledger_engine, "") is None
    assert authenticate(ledger_engine, user.token_sha256) is None  # the hash is not the token


def test_the_plain_token_is_nowhere_in_the_database(ledger_engine: Engine):
    tokens = [add_user(ledger_engine, name, "biller", by="root")[1] for name in ("ana", "ben")]
    tokens.append(new_token(ledger_engine, "ben", by="root"))
    with ledger_engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                stored = repr(tuple(row))
                assert not any(token in stored for token in tokens), table
    if ledger_engine.url.get_backend_name() == "sqlite":
        database = Path(str(ledger_engine.url.database))
        files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
        assert database in files
        for path in files:  # the database, its WAL and shared memory
            content = path.read_bytes()
            assert not any(token.encode() in content for token in tokens), path.name


def test_a_new_token_replaces_the_old_one(ledger_engine: Engine):
    _, old = add_user(ledger_engine, "ana", "supervisor", by="root")
    fresh = new_token(ledger_engine, "ana", by="root")
    assert fresh != old
    assert authenticate(ledger_engine, old) is None
    user = authenticate(ledger_engine, fresh)
    assert user is not None and user.name == "ana"


def test_a_disabled_user_signs_in_no_more_and_gets_no_new_token(ledger_engine: Engine):
    _, token = add_user(ledger_engine, "ana", "biller", by="root")
    first = disable_user(ledger_engine, "ana", by="root")
    assert first.disabled_at is not None
    assert authenticate(ledger_engine, token) is None
    with pytest.raises(UserDisabled, match="user ana is disabled"):
        new_token(ledger_engine, "ana", by="root")
    again = disable_user(ledger_engine, "ana", by="root")
    assert again.disabled_at == first.disabled_at  # the first date stays
    assert get_user(ledger_engine, "ana") is not None  # kept: audit trails name them


@pytest.mark.parametrize(
    "name", ["a", "Ana", "1ana", "ana lima", "ana@clinic.org", "a" * 41, "-ana", "anã", ""]
)
def test_a_name_outside_the_form_is_refused_naming_the_field(ledger_engine: Engine, name: str):
    with pytest.raises(InvalidUser, match="^name: "):
        add_user(ledger_engine, name, "biller", by="root")
    assert list_users(ledger_engine) == []


@pytest.mark.parametrize("name", ["ab", "ana.lima", "b_2-x", "a" + "z" * 39])
def test_names_of_the_form_are_taken(ledger_engine: Engine, name: str):
    assert add_user(ledger_engine, name, "auditor", by="root")[0].name == name


def test_an_unknown_role_and_a_second_user_of_the_same_name_are_refused(ledger_engine: Engine):
    with pytest.raises(InvalidUser, match="^role: 'owner' is not one of biller, supervisor"):
        add_user(ledger_engine, "ana", "owner", by="root")
    add_user(ledger_engine, "ana", "biller", by="root")
    with pytest.raises(UserExists, match="user ana exists"):
        add_user(ledger_engine, "ana", "admin", by="root")
    with pytest.raises(UnknownUser):
        disable_user(ledger_engine, "nobody", by="root")
    users = list_users(ledger_engine)
    assert [(u.name, u.role) for u in users] == [("ana", "biller")]


def test_users_are_listed_by_name_with_their_dates(ledger_engine: Engine):
    for name, role in (("zoe", "admin"), ("ana", "biller"), ("max", "auditor")):
        add_user(ledger_engine, name, role, by="root")
    disable_user(ledger_engine, "max", by="root")
    users = list_users(ledger_engine)
    assert [u.name for u in users] == ["ana", "max", "zoe"]
    assert [u.disabled_at is not None for u in users] == [False, True, False]
    assert all(u.created_at is not None for u in users)


def test_an_auditor_reads_everything_and_changes_nothing():
    for action in PERMISSIONS:
        assert allowed("auditor", action) == action.endswith(".read"), action


def test_a_biller_works_tasks_and_claims_and_a_supervisor_also_reassigns():
    works = ["task.claim", "task.release", "task.resolve", "task.snooze", "claim.correct",
             "appeal.file", "appeal.decide", "encounter.start"]  # fmt: skip
    for action in works:
        assert allowed("biller", action) and allowed("supervisor", action), action
    assert not allowed("biller", "task.reassign") and allowed("supervisor", "task.reassign")
    assert not allowed("biller", "user.manage") and not allowed("supervisor", "user.manage")
    supervisor_only = {a for a in PERMISSIONS if allowed("supervisor", a)} - {
        a for a in PERMISSIONS if allowed("biller", a)
    }
    assert supervisor_only == {"task.reassign", "account.manage"}


def test_an_admin_may_do_everything():
    assert all(allowed("admin", action) for action in PERMISSIONS)


def test_an_unknown_action_or_role_is_an_error_not_a_quiet_no():
    with pytest.raises(ValueError, match="action 'task.delete'"):
        allowed("admin", "task.delete")
    with pytest.raises(ValueError, match="role: 'root'"):
        allowed("root", "task.read")


def test_a_refusal_says_who_may_not_do_what(ledger_engine: Engine):
    user, _ = add_user(ledger_engine, "carol", "auditor", by="root")
    assert refusal(user, "task.resolve") == "auditor carol may not resolve tasks"


def test_each_change_to_a_user_is_an_audit_event_naming_who_made_it(ledger_engine: Engine):
    from ledger.audit_chain import verify_chain
    from ledger.queries import audit_events
    from ledger.users import USERS_TRAIL

    _, token = add_user(ledger_engine, "ana", "biller", by="root@host")
    fresh = new_token(ledger_engine, "ana", by="sue@host")
    disable_user(ledger_engine, "ana", by="root@host")
    disable_user(ledger_engine, "ana", by="root@host")  # no change: nothing recorded
    events = audit_events(ledger_engine, USERS_TRAIL)
    assert [(e["step"], e["kind"], e["detail"]["by"]) for e in events] == [
        ("user:ana:user_added:1", "user_added", "root@host"),
        ("user:ana:user_token_issued:2", "user_token_issued", "sue@host"),
        ("user:ana:user_disabled:3", "user_disabled", "root@host"),
    ]
    assert all(e["detail"]["role"] == "biller" and e["detail"]["user"] == "ana" for e in events)
    recorded = json.dumps(events)
    assert token not in recorded and fresh not in recorded and token_digest(fresh) not in recorded
    assert verify_chain(ledger_engine).problems == []


def test_a_refused_change_records_nothing(ledger_engine: Engine):
    from ledger.queries import audit_events
    from ledger.users import USERS_TRAIL

    add_user(ledger_engine, "ana", "biller", by="root")
    with pytest.raises(UserExists):
        add_user(ledger_engine, "ana", "admin", by="root")
    with pytest.raises(UnknownUser):
        new_token(ledger_engine, "nobody", by="root")
    assert [e["kind"] for e in audit_events(ledger_engine, USERS_TRAIL)] == ["user_added"]
