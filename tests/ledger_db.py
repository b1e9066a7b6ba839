"""Real ledger databases for tests: a SQLite file, and PostgreSQL in a throwaway schema when
COB_TEST_DATABASE_URL is set. tests/conftest.py loads this module as a plugin
(pytest_plugins), so any test can ask for the `ledger_engine` fixture; the context managers
serve fixtures of other scopes.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from ledger.db import dispose_engine, make_engine, normalize_url

TEST_DATABASE_ENV = "COB_TEST_DATABASE_URL"


def backends() -> list[str]:
    """sqlite always; postgresql too when COB_TEST_DATABASE_URL names a server."""
    return ["sqlite", "postgresql"] if os.environ.get(TEST_DATABASE_ENV) else ["sqlite"]


@contextmanager
def sqlite_engine(directory: Path) -> Iterator[Engine]:
    url = f"sqlite:///{directory / 'ledger.db'}"
    try:
        yield make_engine(url)
    finally:
        dispose_engine(url)


@contextmanager
def postgres_engine(url: str | None = None) -> Iterator[Engine]:
    """An engine whose tables live in a new schema cob_test_<hex>, dropped afterwards."""
    url = normalize_url(url or os.environ[TEST_DATABASE_ENV])
    schema = f"cob_test_{secrets.token_hex(6)}"
    try:
        yield make_engine(url, schema=schema)
    finally:
        dispose_engine(url, schema)
        admin = create_engine(url)
        try:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            admin.dispose()


@contextmanager
def empty_database_url(backend: str, directory: Path) -> Iterator[str]:
    """The URL of an empty ledger database nothing has opened yet, as a `cob` process takes
    it: a SQLite file, or PostgreSQL with its search_path on a new schema (dropped after)."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'ledger.db'}"
        try:
            yield url
        finally:
            dispose_engine(url)
        return
    base = normalize_url(os.environ[TEST_DATABASE_ENV])
    schema = f"cob_test_{secrets.token_hex(6)}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}?options=-csearch_path%3D{schema}"
        try:
            yield url
        finally:
            dispose_engine(url)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def backend_engine(backend: str, directory: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        with sqlite_engine(directory) as engine:
            yield engine
    else:
        with postgres_engine() as engine:
            yield engine


@pytest.fixture(params=backends())
def ledger_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, empty ledger on each backend in turn."""
    with backend_engine(request.param, tmp_path) as engine:
        yield engine
