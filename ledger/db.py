"""Where the ledger lives (the COB home folder, the database URL, cached engines) and how a
write runs (one transaction of idempotent upserts).

SQLite by default (one file shared by a worker process and the CLI, so WAL and a busy
timeout); PostgreSQL when DATABASE_URL says so, through psycopg 3.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Column, Index, Table, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.schema import CreateColumn
from sqlmodel import Session, SQLModel, create_engine

from ledger import tables  # registers the tables on SQLModel.metadata
from ledger.audit_chain import HEAD_ID, ChainHeadMissing, lock_head, new_head
from ledger.home import cob_home
from ledger.schema import (
    VERSION_TABLE,
    Upgrade,
    current_revision,
    head_revision,
    revisions,
    upgrade,
)

SQLITE_BUSY_TIMEOUT_MS = 10_000
POSTGRES_CONNECT_TIMEOUT_S = 10  # a server that never answers is reported, not awaited
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

T = TypeVar("T")
Row = TypeVar("Row", bound=SQLModel)

_engines: dict[tuple[str, str | None], Engine] = {}
_engines_lock = threading.Lock()


class LedgerUnreachable(ConnectionError):
    """The ledger database cannot be opened or reached; the message says where (the URL
    without its password) and what to do."""

    def __init__(self, url: str, error: Exception) -> None:
        shown = shown_url(url)
        cause = getattr(error, "orig", None) or error
        reason = " ".join(str(cause).split("\n")[0].split())[:160]
        if url.startswith("sqlite"):
            advice = "check that COB_HOME is a folder you can write, or set DATABASE_URL"
            what = f"cannot open the ledger database {shown} ({reason})"
        else:
            advice = "start its server, or fix DATABASE_URL"
            what = f"cannot reach the ledger database at {shown} ({reason})"
        super().__init__(f"{what}: {advice}")
        self.url = shown


def shown_url(url: str) -> str:
    """The URL as it may be printed: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: show only its scheme
        return url.split("://")[0] + "://..."


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{cob_home() / 'ledger.db'}"


def normalize_url(url: str) -> str:
    """Name the psycopg 3 driver: a bare postgresql:// would pick psycopg2, not installed."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _postgres_engine(url: str, schema: str | None) -> Engine:
    timeout = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
    if schema is None:
        return create_engine(url, pool_pre_ping=True, connect_args=timeout)
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"schema {schema!r} is not a plain SQL identifier")
    admin = create_engine(url, connect_args=timeout)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        admin.dispose()
    return create_engine(
        url, pool_pre_ping=True, connect_args={**timeout, "options": f"-c search_path={schema}"}
    )


def _create_tables(engine: Engine) -> None:
    try:
        SQLModel.metadata.create_all(engine)
    except DBAPIError:
        # Another process created the same tables between our check and our CREATE.
        SQLModel.metadata.create_all(engine)


class LedgerSchemaTooOld(RuntimeError):
    """The ledger's schema is not what this cob needs: a table lacks a column that cannot be
    added in place (it is NOT NULL), or a migrated ledger is not at this cob's revision."""


def _column_names(engine: Engine, table: Table) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table.name)}


def _add_column(engine: Engine, table: Table, column: Column) -> None:
    """ALTER TABLE ... ADD COLUMN; when another process added it first, its error is let go."""
    quoted = engine.dialect.identifier_preparer.format_table(table)
    definition = CreateColumn(column).compile(dialect=engine.dialect)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"ALTER TABLE {quoted} ADD COLUMN {definition}")
    except DBAPIError:
        if column.name not in _column_names(engine, table):
            raise


def _add_index(engine: Engine, index: Index) -> None:
    """CREATE INDEX when missing; when another process created it first, its error is let go."""
    try:
        index.create(engine, checkfirst=True)
    except DBAPIError:
        table = index.table
        if table is None or not inspect(engine).has_index(table.name, str(index.name)):
            raise


def _upgrade_tables(engine: Engine) -> None:
    """Bring an older ledger's tables up to the models, additively: each nullable column it
    lacks (ALTER TABLE ... ADD COLUMN) and each index it lacks. Safe for two processes at
    once. A missing NOT NULL column cannot be filled in, so it stops here, named."""
    existing = set(inspect(engine).get_table_names())
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in existing:
            continue
        present = _column_names(engine, table)
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise LedgerSchemaTooOld(
                    f"ledger table {table.name} has no column {column.name}, which is NOT NULL "
                    f"and cannot be added to the rows it has: migrate it by hand"
                )
            _add_column(engine, table, column)
        for index in table.indexes:
            _add_index(engine, index)


def _ensure_chain_head(engine: Engine) -> None:
    """The audit chain's head row, inserted once (a concurrent insert of it is fine). Left
    missing when chained events exist: their head was deleted, which verify_chain names."""
    with Session(engine) as session:
        if session.get(tables.AuditChainHead, HEAD_ID) is not None:
            return
        try:
            new_head(session, utcnow())
            session.commit()
        except (ChainHeadMissing, IntegrityError):
            session.rollback()


def _check_migrated(engine: Engine, url: str) -> None:
    """A ledger under Alembic (ledger/schema.py) is changed by `cob db upgrade` alone: it must
    be at this cob's head revision."""
    with engine.connect() as connection:
        found = current_revision(connection)
    head = head_revision()
    if found == head:
        return
    where = shown_url(url)
    if found is not None and found not in revisions():
        raise LedgerSchemaTooOld(
            f"the ledger at {where} is at migration {found}, which this cob does not know "
            f"(its newest is {head}): a newer cob migrated it; run that one"
        )
    raise LedgerSchemaTooOld(
        f"the ledger at {where} is at migration {found or 'none'}, this cob needs {head}: "
        "run `cob db upgrade`"
    )


def make_engine(url: str | None = None, schema: str | None = None) -> Engine:
    """The engine for `url` (default: database_url()), tables created on first use and an
    older ledger's tables given the columns and indexes they lack; a ledger under Alembic's
    migrations (`cob db upgrade`) is only checked to be at this cob's revision.

    `schema` (PostgreSQL only) puts every table in that schema via search_path, so a test
    can work in a throwaway schema. LedgerUnreachable when the database cannot be reached.
    """
    url = normalize_url(url or database_url())
    key = (url, schema)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is not None:
            return engine
        if url.startswith("sqlite"):
            if schema is not None:
                raise ValueError("schema is a PostgreSQL option; SQLite has one per file")
            engine = _sqlite_engine(url)
        else:
            try:
                engine = _postgres_engine(url, schema)
            except (OperationalError, InterfaceError) as error:
                raise LedgerUnreachable(url, error) from error
        try:
            if inspect(engine).has_table(VERSION_TABLE):
                _check_migrated(engine, url)
            else:
                _create_tables(engine)
                _upgrade_tables(engine)
            _ensure_chain_head(engine)
        except (OperationalError, InterfaceError) as error:
            engine.dispose()
            raise LedgerUnreachable(url, error) from error
        except LedgerSchemaTooOld:
            engine.dispose()
            raise
        _engines[key] = engine
        return engine


def upgrade_ledger(url: str | None = None) -> Upgrade:
    """`cob db upgrade`: the database at `url` (default: database_url()) brought to the head
    revision, or stamped (ledger/schema.py); LedgerUnreachable when it cannot be reached."""
    url = normalize_url(url or database_url())
    engine = _sqlite_engine(url) if url.startswith("sqlite") else _postgres_engine(url, None)
    try:
        return upgrade(engine)
    except (OperationalError, InterfaceError) as error:
        raise LedgerUnreachable(url, error) from error
    finally:
        engine.dispose()


def dispose_engine(url: str | None = None, schema: str | None = None) -> None:
    """Close and forget a cached engine (tests, after dropping its file or schema)."""
    key = (normalize_url(url or database_url()), schema)
    with _engines_lock:
        engine = _engines.pop(key, None)
    if engine is not None:
        engine.dispose()


# --- sessions: every ledger write is one transaction of idempotent upserts (DESIGN.md) ---


def utcnow() -> datetime:
    return datetime.now(UTC)


def in_transaction(engine: Engine | Session, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction. If a concurrent attempt inserted the same key first
    (IntegrityError), run it once more: this time it finds the row and updates it. Given a
    session (a step of in_one_transaction), `work` runs in that session's transaction."""
    if isinstance(engine, Session):
        return work(engine)
    for attempt in (1, 2):
        with Session(engine) as session:
            try:
                result = work(session)
                session.commit()
                return result
            except IntegrityError:
                session.rollback()
                if attempt == 2:
                    raise
    raise AssertionError("unreachable")


def in_one_transaction(engine: Engine, steps: Sequence[Callable[[Session], object]]) -> list:
    """Several ledger writes as one transaction (one commit, one trip to a thread), each a
    function of the session, e.g. partial(writes.record_claim, encounter_id=...): all or
    none. The audit chain's lock comes first, as every append takes it first (ledger/
    audit_chain.py lock_head), so batches and single appends queue in one order."""

    def work(session: Session) -> list:
        lock_head(session, utcnow())
        return [step(session) for step in steps]

    return in_transaction(engine, work)


def upsert(session: Session, table: type[Row], key: dict[str, Any], values: dict[str, Any]) -> Row:
    """Insert, or set only the values that differ; updated_at (if any) moves on change only."""
    stamped = "updated_at" in table.model_fields
    # FOR UPDATE (PostgreSQL; SQLite serializes writers anyway) orders racing attempts on the
    # same key, so their line deletes and inserts do not interleave.
    row = session.get(table, key, with_for_update=True)
    if row is None:
        row = table(**key, **values, **({"updated_at": utcnow()} if stamped else {}))
        session.add(row)
        return row
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    for name, value in changed.items():
        setattr(row, name, value)
    if changed and stamped:
        row.updated_at = utcnow()
    return row
