"""Alembic's environment for the ledger: the tables are ledger/tables.py's (SQLModel's
metadata). `cob db upgrade` (ledger/schema.py) hands over its own connection, so no
alembic.ini is needed at run time; alembic.ini at the repository's root serves a developer
writing a revision (`alembic revision --autogenerate`) against DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from ledger import tables  # noqa: F401  registers the tables on SQLModel.metadata
from ledger.db import database_url, normalize_url

VERSION_TABLE = "alembic_version"


def skip_version_table(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and name == VERSION_TABLE)


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        compare_type=True,
        include_object=skip_version_table,
        # SQLite alters a table by copying it (ALTER TABLE cannot drop or change a column)
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("the ledger's migrations run on a connection (cob db upgrade), not as SQL")

given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = create_engine(normalize_url(database_url()))
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()
