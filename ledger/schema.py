"""The ledger's schema under Alembic: the revisions in ledger/migrations/versions/, run by
`cob db upgrade` on a connection of ours (no alembic.ini at run time).

How it meets make_engine (ledger/db.py): a database with Alembic's version table is
Alembic's, and make_engine only checks that it is at head; any other database is made and
kept by make_engine as before (create_all, then the nullable columns and indexes it lacks),
so SQLite, the demo and the tests need no step. `cob db upgrade` on such a database compares
its tables with the code's (which are head's: tests/ledger/test_migrations.py keeps them
equal) and stamps it when nothing differs, or refuses, naming each difference.

Alembic is imported only here and only when needed: it costs a tenth of a second.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from ledger import tables  # noqa: F401  registers the tables on SQLModel.metadata

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # Alembic's: its one row names the revision
# Serializes two `cob db upgrade` on one PostgreSQL database (pg_advisory_xact_lock).
UPGRADE_LOCK = zlib.crc32(b"cob ledger schema upgrade")


class LedgerSchemaDiffers(RuntimeError):
    """An unversioned ledger whose tables are not the code's: it cannot be stamped."""

    def __init__(self, differences: list[str]) -> None:
        super().__init__(
            "the ledger's tables differ from this cob's, so they cannot be stamped as migrated: "
            + "; ".join(differences)
            + ". Bring them in line by hand (or restore the cob that made them), then run "
            "`cob db upgrade` again"
        )
        self.differences = differences


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # the revision found; None: unversioned or empty
    after: str
    stamped: bool  # tables make_engine had made, found equal to the code's and stamped


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def revisions() -> tuple[str, ...]:
    """Every revision id, head first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    return tuple(script.revision for script in scripts.walk_revisions())


def head_revision() -> str:
    return revisions()[0]


def is_versioned(bind: Connection | Engine) -> bool:
    return inspect(bind).has_table(VERSION_TABLE)


def current_revision(connection: Connection) -> str | None:
    if not is_versioned(connection):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def _skip_version_table(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and name == VERSION_TABLE)


def schema_differences(connection: Connection, metadata: MetaData | None = None) -> list[str]:
    """What differs between the database's tables and the code's (or `metadata`'s), one line
    each; [] when nothing does (alembic.autogenerate.compare_metadata, types compared)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": _skip_version_table}
    )
    found = compare_metadata(context, metadata if metadata is not None else SQLModel.metadata)
    return [_described(diff) for diff in found]


def _described(diff: Any) -> str:
    """One of compare_metadata's tuples (a list of them for a column's changes) in words."""
    if isinstance(diff, list):
        return "; ".join(_described(one) for one in diff)
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        where = "is missing" if kind == "add_table" else "is not one of the code's"
        return f"table {diff[1].name} {where}"
    if kind in ("add_column", "remove_column"):
        where = "is missing" if kind == "add_column" else "is not in the code's table"
        return f"column {diff[2]}.{diff[3].name} {where}"
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        thing = diff[1]
        what = "index" if "index" in kind else "constraint"
        where = "is missing" if kind.startswith("add") else "is not in the code's tables"
        columns = ", ".join(column.name for column in thing.columns)
        return f"{what} {thing.name or ''} on {thing.table.name}({columns}) {where}"
    if kind.startswith("modify_"):
        _, _, table, column, _, found, wanted = diff
        return f"column {table}.{column}: {kind[7:]} is {found}, the code's is {wanted}"
    return str(diff)


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database to the head revision in one transaction (PostgreSQL's DDL is
    transactional): an empty or versioned one by the migrations, a ledger make_engine made
    by a stamp once its tables are found equal to the code's (else LedgerSchemaDiffers)."""
    from alembic import command

    with engine.begin() as connection:
        _lock(connection)
        before = current_revision(connection)
        ours = set(inspect(connection).get_table_names()) & set(SQLModel.metadata.tables)
        if not is_versioned(connection) and ours:
            differences = schema_differences(connection)
            if differences:
                raise LedgerSchemaDiffers(differences)
            command.stamp(alembic_config(connection), "head")
            return Upgrade(before=None, after=head_revision(), stamped=True)
        command.upgrade(alembic_config(connection), "head")
        after = current_revision(connection)
    return Upgrade(before=before, after=after or head_revision(), stamped=False)
