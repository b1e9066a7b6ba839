"""The ledger's schema under Alembic (ledger/schema.py, ledger/migrations/): `cob db upgrade`
on an empty database gives exactly the code's tables, twice changes nothing, a ledger
make_engine made before migrations is stamped when its tables are the code's and refused,
naming each difference, when not; make_engine leaves a migrated ledger to the migrations.
On a SQLite file, and on PostgreSQL in a schema of the test's own when COB_TEST_DATABASE_URL
is set."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, create_engine, inspect, text
from sqlmodel import Session, SQLModel

from ledger import tables as t
from ledger.db import (
    LedgerSchemaTooOld,
    dispose_engine,
    make_engine,
    normalize_url,
    upgrade_ledger,
    utcnow,
)
from ledger.schema import LedgerSchemaDiffers, head_revision, revisions, schema_differences
from tests.ledger_db import backends, empty_database_url

ROOT = Path(__file__).resolve().parents[2]
WRITE_A_MIGRATION = (
    "the code's tables and the migrations' differ: write a revision in "
    "ledger/migrations/versions/ (see alembic.ini) for"
)


@pytest.fixture(params=backends())
def empty_url(request: pytest.FixtureRequest, tmp_path: Path):
    with empty_database_url(request.param, tmp_path) as url:
        yield url


def differences(url: str, metadata: MetaData | None = None) -> list[str]:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as connection:
            return schema_differences(connection, metadata)
    finally:
        engine.dispose()


def revision_row(url: str) -> list[str]:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
    finally:
        engine.dispose()


def test_upgrade_of_an_empty_database_gives_exactly_the_codes_tables(empty_url):
    """Fails when a table of ledger/tables.py gains a column (or loses one, or changes a
    type) without a migration saying so."""
    done = upgrade_ledger(empty_url)
    assert (done.before, done.after, done.stamped) == (None, head_revision(), False)
    found = differences(empty_url)
    assert found == [], f"{WRITE_A_MIGRATION}: {found}"
    assert revision_row(empty_url) == [head_revision()]


def test_the_comparison_names_a_column_the_code_has_and_no_migration_made(empty_url):
    upgrade_ledger(empty_url)
    code = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(code)
    code.tables["encounters"].append_column(Column("referral_number", String(), nullable=True))
    assert differences(empty_url, code) == ["column encounters.referral_number is missing"]


def test_upgrade_run_twice_is_a_no_op(empty_url):
    upgrade_ledger(empty_url)
    engine = create_engine(normalize_url(empty_url))
    with engine.connect() as connection:
        tables_before = sorted(inspect(connection).get_table_names())
    again = upgrade_ledger(empty_url)
    assert (again.before, again.after, again.stamped) == (head_revision(), head_revision(), False)
    with engine.connect() as connection:
        assert sorted(inspect(connection).get_table_names()) == tables_before
    engine.dispose()
    assert revision_row(empty_url) == [head_revision()]


def test_a_ledger_make_engine_made_is_stamped_and_keeps_its_rows(empty_url):
    engine = make_engine(empty_url)
    with Session(engine) as session:
        session.add(t.User(name="ana", role="biller", token_sha256="ab" * 32, created_at=utcnow()))
        session.commit()
    dispose_engine(empty_url)

    done = upgrade_ledger(empty_url)
    assert (done.before, done.after, done.stamped) == (None, head_revision(), True)
    assert revision_row(empty_url) == [head_revision()]
    assert differences(empty_url) == []
    with Session(make_engine(empty_url)) as session:  # now Alembic's: checked, not altered
        assert session.get(t.User, "ana") is not None
    assert upgrade_ledger(empty_url).stamped is False  # and from now on upgraded as usual


def test_a_ledger_whose_tables_differ_is_refused_naming_each_difference(empty_url):
    make_engine(empty_url)
    dispose_engine(empty_url)
    engine = create_engine(normalize_url(empty_url))
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE encounters ADD COLUMN referral_number VARCHAR"))
        connection.execute(text("DROP INDEX ix_claims_encounter_id"))
    engine.dispose()

    with pytest.raises(LedgerSchemaDiffers) as refused:
        upgrade_ledger(empty_url)
    assert sorted(refused.value.differences) == [
        "column encounters.referral_number is not in the code's table",
        "index ix_claims_encounter_id on claims(encounter_id) is missing",
    ]
    engine = create_engine(normalize_url(empty_url))
    assert not inspect(engine).has_table("alembic_version")  # nothing stamped
    engine.dispose()


def test_make_engine_refuses_a_migrated_ledger_at_another_revision(empty_url):
    upgrade_ledger(empty_url)
    engine = create_engine(normalize_url(empty_url))
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    with pytest.raises(LedgerSchemaTooOld, match="at migration ffff, which this cob does not know"):
        make_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    with pytest.raises(
        LedgerSchemaTooOld,
        match=f"at migration none, this cob needs {head_revision()}: run `cob db upgrade`",
    ):
        make_engine(empty_url)
    engine.dispose()


def test_the_revisions_form_one_line_from_the_baseline():
    assert revisions()[-1] == "0001"
    assert len(set(revisions())) == len(revisions())


@pytest.mark.skipif("postgresql" not in backends(), reason="COB_TEST_DATABASE_URL is not set")
def test_two_upgrades_at_once_on_postgresql_migrate_once(tmp_path):
    with empty_database_url("postgresql", tmp_path) as url:
        results, failures = [], []

        def run() -> None:
            try:
                results.append(upgrade_ledger(url))
            except Exception as error:  # noqa: BLE001  reported below
                failures.append(error)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert failures == []
        # one made the tables; the other, let in after it, found them at head
        assert sorted((r.before or "", r.after) for r in results) == [
            ("", head_revision()),
            (head_revision(), head_revision()),
        ]
        assert differences(url) == []


def test_cob_db_upgrade_prints_the_revision_and_refuses_in_one_line(tmp_path):
    import subprocess

    def cob(*args: str, url: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args], cwd=ROOT, capture_output=True, text=True,
            env={**os.environ, "DATABASE_URL": url, "COB_HOME": str(tmp_path / "home")},
            timeout=120,
        )  # fmt: skip

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    first, second = cob("db", "upgrade", url=url), cob("db", "upgrade", url=url)
    head = head_revision()
    assert first.returncode == 0, first.stderr
    assert (
        first.stdout.strip()
        == f"ledger {url}: upgraded from an empty schema to {head}; revision {head} (head)"
    )
    assert second.stdout.strip() == f"ledger {url}: already at {head}; revision {head} (head)"

    made = f"sqlite:///{tmp_path / 'made.db'}"
    assert cob("tasks", url=made).returncode == 0  # make_engine makes it, unversioned
    stamped = cob("db", "upgrade", url=made)
    assert "stamped 0001 (its tables were made before migrations and match)" in stamped.stdout

    behind = create_engine(made)
    with behind.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    behind.dispose()
    refused = cob("tasks", url=made)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().endswith("run `cob db upgrade`")
