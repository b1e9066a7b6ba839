"""Patient data stays where it belongs: what cob writes (COB_HOME, the ledger, the payers'
state, the dev server's database and log, statements) is its owner's alone, whatever the
umask it was started with; and a log line says what failed without the values."""

from __future__ import annotations

import io
import logging
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cob.model import Person
from workers.devserver import DevServer, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """Start as a shell usually does (umask 022), so a file is tight only if cob made it so."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def cob(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env={**environment, "COB_HOME": str(home), "TEMPORAL_ADDRESS": "127.0.0.1:1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def readable_by_others(home: Path) -> list[str]:
    """Everything under `home` that its group or anyone else may read, write or enter."""
    return [f"{oct(mode(p))} {p}" for p in [home, *home.rglob("*")] if mode(p) & 0o077]


def test_a_new_cob_home_and_its_ledger_are_the_owners_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = cob("tasks", home=home)
    assert result.returncode == 0, result.stderr
    assert mode(home) == 0o700
    assert (home / "ledger.db").exists() and mode(home / "ledger.db") == 0o600
    assert readable_by_others(home) == []


def test_modes_an_earlier_run_left_loose_are_taken_back_and_nothing_else(tmp_path: Path):
    home = tmp_path / "home"
    for folder in (home, home / "temporal", home / "statements"):
        folder.mkdir(mode=0o755)
        folder.chmod(0o755)
    for name in ("ledger.db", "payers.db", "temporal/temporal-server.log",
                 "statements/E1001.txt", "notes.txt"):  # fmt: skip
        (home / name).write_text("")
        (home / name).chmod(0o644)
    result = cob("x12", "read", "examples/01-commercial.json", home=home)  # any command
    assert result.returncode == 2  # not X12: the command is beside the point
    assert readable_by_others(home) == [f"0o644 {home / 'notes.txt'}"]  # not cob's: untouched


async def test_the_dev_servers_database_and_log_are_the_owners_alone(tmp_path: Path) -> None:
    server = DevServer(tmp_path / "temporal", free_port(), ui_port=None)
    await server.start()
    server.stop()
    assert (tmp_path / "temporal" / "temporal.db").exists()
    assert (tmp_path / "temporal" / "temporal-server.log").exists()
    assert readable_by_others(tmp_path / "temporal") == []


def test_an_existing_dev_server_log_is_made_the_owners_alone(tmp_path: Path) -> None:
    from workers.devserver import owner_only_log

    log = tmp_path / "temporal-server.log"
    log.write_text("earlier run\n")
    log.chmod(0o644)
    owner_only_log(log).close()
    assert mode(log) == 0o600 and log.read_text() == "earlier run\n"


def test_the_payer_simulators_state_is_the_owners_alone(tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / "elsewhere" / "payers.db"
    state.parent.mkdir()
    server = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "payers", "serve", "--port", str(port),
         "--state", str(state)],
        cwd=ROOT, env={**os.environ, "COB_HOME": str(tmp_path / "home")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert state.exists() and mode(state) == 0o600
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


async def test_a_worker_makes_its_ledger_and_later_files_its_owners_alone(tmp_path: Path, client):
    from workers.worker import WorkerSettings, build_worker

    settings = WorkerSettings(
        payer_url="http://127.0.0.1:1", database_url=f"sqlite:///{tmp_path / 'ledger.db'}",
        statements_dir=tmp_path / "statements", task_queue="file-modes",
    )  # fmt: skip
    build_worker(client, settings)
    assert mode(tmp_path / "ledger.db") == 0o600
    (tmp_path / "statements").mkdir()  # as the close activity does, then its statement
    (tmp_path / "statements" / "E1001.txt").write_text("Alice Becker owes 20.00")
    assert readable_by_others(tmp_path) == []


# --- logs ---


def logged(logger: str, message: str, error: BaseException) -> str:
    """What the worker's log handler writes for one record with `error` attached."""
    from workers.logs import configure_worker_logging

    root_level = logging.getLogger().level
    handler = configure_worker_logging()
    stream = io.StringIO()
    handler.setStream(stream)
    try:
        try:
            raise error
        except BaseException:
            logging.getLogger(logger).warning(message, exc_info=True)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)
    return stream.getvalue()


def a_chained_failure() -> ValueError:
    try:
        Person(first_name="Alice", last_name="", birth_date="1961-05-01")
    except ValueError as cause:
        error = ValueError("2010BA NM103: the subscriber's last name is blank, got 'Becker'")
        error.__cause__ = cause
        return error
    raise AssertionError("Person accepted a blank last name")


def test_a_failed_activity_is_one_log_line_naming_the_field_not_the_values() -> None:
    line = logged("temporalio.activity", "Completing activity as failed", a_chained_failure())
    assert line.count("\n") == 1 and "Traceback" not in line
    assert "WARNING temporalio.activity: Completing activity as failed: ValueError: " in line
    assert "2010BA NM103: the subscriber's last name is blank, got '…'" in line
    assert "Alice" not in line and "Becker" not in line


def test_a_pydantic_error_is_logged_as_its_fields_and_rules_without_its_input() -> None:
    try:
        Person(first_name="Alice", last_name="", birth_date="1961-05-01")
    except ValueError as error:
        line = logged("temporalio.worker._workflow_instance", "Failed activation", error)
    assert "ValidationError: Person: last_name: " in line
    assert "Alice" not in line and "input" not in line


def test_httpx_request_lines_stay_out_of_the_worker_log() -> None:
    from workers.logs import configure_worker_logging

    root_level = logging.getLogger().level
    handler = configure_worker_logging()
    stream = io.StringIO()
    handler.setStream(stream)
    try:
        logging.getLogger("httpx").info('HTTP Request: POST http://x/x12/270 "HTTP/1.1 200 OK"')
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)
    assert stream.getvalue() == ""


def test_the_simulators_log_keeps_an_errors_type_only() -> None:
    from payers.simulator.serve import ErrorTypeOnly

    try:
        raise KeyError("ACM900000001 ALICE BECKER")
    except KeyError:
        record = logging.LogRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", None,
            sys.exc_info(),
        )  # fmt: skip
    ErrorTypeOnly().filter(record)
    formatted = logging.Formatter().format(record)
    assert formatted == "Exception in ASGI application: KeyError"
