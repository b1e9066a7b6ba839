"""The `cob` command as a user runs it: a subprocess, its output and its exit code."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workers.devserver import free_port

ROOT = Path(__file__).resolve().parents[2]
GOOD = json.loads((ROOT / "examples" / "01-commercial.json").read_text())


def cob(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env={**os.environ, "TEMPORAL_ADDRESS": "127.0.0.1:1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def changed(path: list, value) -> dict:
    data = json.loads(json.dumps(GOOD))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


DELETE = object()
BAD = {
    "unknown payer": (changed(["coverages", 0, "payer_id"], "NOPE9"), "coverages[0].payer_id"),
    "negative charge": (changed(["lines", 0, "charge"], "-5.00"), "lines[0].charge"),
    "non-numeric charge": (changed(["lines", 1, "charge"], "ten"), "lines[1].charge"),
    "missing member id": (changed(["coverages", 0, "member_id"], DELETE), "coverages[0].member_id"),
    "future service date": (changed(["service_date"], "2999-01-01"), "service_date"),
    "unparseable date": (changed(["service_date"], "10/05/2026"), "service_date"),
    "unknown ICD-10-CM code": (changed(["diagnoses", 0], "Q99.999"), "diagnoses[0]"),
    "non-billable ICD-10-CM category": (changed(["diagnoses", 0], "E11"), "diagnoses[0]"),
    "no service lines": (changed(["lines"], []), "lines"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_submit_rejects_bad_input_naming_the_field(case: str, tmp_path: Path) -> None:
    data, field = BAD[case]
    path = tmp_path / "encounter.json"
    path.write_text(json.dumps(data))
    # TEMPORAL_ADDRESS points nowhere: reaching Temporal at all would be a failure too.
    result = cob("submit", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{field}:" in result.stderr.replace("\n", " ")


def test_submit_rejects_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "encounter.json"
    path.write_text("{not json")
    result = cob("submit", str(path))
    assert result.returncode == 2 and "not valid JSON" in result.stderr


def test_demo_keep_runs_every_example_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port, ui_port = free_port(), free_port()
    old_umask = os.umask(0o022)  # as a shell starts it: cob must tighten on its own
    demo = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "demo", "--keep",
         "--port", str(port), "--ui-port", str(ui_port)],
        cwd=ROOT,
        env={**os.environ, "COB_HOME": str(tmp_path / "home"), "COB_TEMPORAL_UI": "http://x"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # as a job started in the background (`&`, nohup, a CI runner) starts: SIGINT ignored,
        # which Ctrl-C below must still stop
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    os.umask(old_umask)
    output = []
    deadline = time.monotonic() + 180
    assert demo.stdout is not None
    for line in demo.stdout:
        output.append(line)
        if "Ctrl-C stops all" in line or time.monotonic() > deadline:
            break
    text = "".join(output)
    assert "Ctrl-C stops all" in text, text
    server = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _runs(p, str(port))]
    assert server, "the dev server is not running under --keep"
    demo.send_signal(signal.SIGINT)
    try:
        rest, _ = demo.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # not left running for the tests after this one
        demo.kill()
        for process in server:
            with contextlib.suppress(OSError):
                os.kill(int(process.name), signal.SIGKILL)
        raise
    assert demo.returncode == 130, text + rest
    assert "stopped the worker, the payer simulator and the Temporal dev server" in rest
    for name in ("E1001", "E1002", "E1003", "E1004", "E1005", "E1006", "E1007", "E1008", "E1009"):
        assert f"encounter-{name}-" in text
    summary_rows = re.findall(r"│ (E100\d)-\w+ +│ closed +│", text)
    assert sorted(summary_rows) == [f"E100{n}" for n in range(1, 10)], text
    # every closed encounter's histories in the ledger, by its minute's ArchiveBatchWorkflow
    assert re.search(r"Histories archived in the ledger: (\d+) of \1 encounters", text), text
    time.sleep(0.5)
    assert not [p for p in server if p.exists() and _runs(p, str(port))], "orphan dev server"
    # the ledger, the statements, the payers' state, the dev server's database and log
    written = [tmp_path / "home", *(tmp_path / "home").rglob("*")]
    assert {p.name for p in written} >= {"ledger.db", "temporal.db", "temporal-server.log",
                                         "demo-payers.db", "statements"}  # fmt: skip
    assert any(p.parent.name == "statements" for p in written)
    loose = [f"{oct(p.stat().st_mode & 0o777)} {p}" for p in written if p.stat().st_mode & 0o077]
    assert loose == [], "readable by others"


def _runs(proc: Path, port: str) -> bool:
    try:
        command = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"start-dev" in command and port.encode() in command


def test_explain_order_answers_in_json_with_the_deciding_rule() -> None:
    result = cob("explain", "order", "examples/explain/order-birthday-rule.json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert [p["payer_id"] for p in answer["order"]] == ["ACME01", "BLUE02"]
    assert answer["decisions"][0]["rule"] == "naic_birthday_rule"
    assert answer["needs_manual_review"] is False


def test_explain_order_table_for_a_working_aged_medicare_case() -> None:
    result = cob("explain", "order", "examples/explain/order-working-aged.json", "--table")
    assert result.returncode == 0, result.stderr
    assert "msp_working_aged" in result.stdout and "EMPL03" in result.stdout


def test_explain_order_names_the_bad_field(tmp_path: Path) -> None:
    case = json.loads((ROOT / "examples/explain/order-birthday-rule.json").read_text())
    case["coverages"][1]["effective_date"] = "someday"
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    result = cob("explain", "order", str(path))
    assert result.returncode == 2
    assert "coverages[1].effective_date:" in result.stderr


def test_explain_payment_msp_1_pays_30_by_test_3() -> None:
    result = cob("explain", "payment", "examples/explain/payment-medicare-secondary.json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["paid"] == "30.00"
    assert answer["decided_by"].startswith("test 3")
    assert [s["amount"] for s in answer["steps"][:3]] == ["55.00", "100.00", "30.00"]


def test_explain_payment_table_shows_the_winning_step() -> None:
    result = cob("explain", "payment", "examples/explain/payment-standard-cob.json", "--table")
    assert result.returncode == 0, result.stderr
    assert "<- pays this" in result.stdout and "160.00" in result.stdout


def test_explain_payment_names_the_bad_field(tmp_path: Path) -> None:
    case = json.loads((ROOT / "examples/explain/payment-standard-cob.json").read_text())
    case["own_coinsurance"] = "1.5"
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    result = cob("explain", "payment", str(path))
    assert result.returncode == 2 and "own_coinsurance:" in result.stderr


def test_import_dry_run_reports_the_bad_claim_and_readies_the_good(tmp_path: Path) -> None:
    from tests.x12.x12_batch import batch_837, example_encounter

    path = tmp_path / "batch.837"
    path.write_text(batch_837(
        example_encounter("01-commercial", encounter_id="B1"),
        example_encounter("06-prior-authorization", encounter_id="B2", diagnoses=["E11"]),
        example_encounter("04-working-aged", encounter_id="B3"),
    ))  # fmt: skip
    result = cob("import", str(path), "--dry-run")
    assert result.returncode == 1
    assert "ready claim B1" in result.stdout and "ready claim B3" in result.stdout
    assert "skipped claim B2: diagnoses[0]: 'E11' is a category" in result.stderr
    assert "2 of 3 claims ready, 1 skipped" in result.stdout


def test_import_refuses_a_truncated_file_naming_the_segment(tmp_path: Path) -> None:
    from tests.x12.x12_batch import batch_837, example_encounter

    text = batch_837(example_encounter("01-commercial", encounter_id="B1"))
    path = tmp_path / "batch.837"
    path.write_text(text.split("GE*")[0])
    result = cob("import", str(path))
    assert result.returncode == 2
    assert "truncated" in result.stderr and "segment SE at position" in result.stderr


# --- a part that cannot be reached: one line on stderr, exit 1, never a traceback ---

START_TEMPORAL = "start it with `cob server` (or `cob demo --keep`), or set TEMPORAL_ADDRESS"


def one_line_exit_1(result: subprocess.CompletedProcess) -> str:
    """The single stderr line of a command that could not reach something."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "╭" not in output, output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, output
    return lines[0]


def closed_port() -> int:
    return free_port()  # bound and released: nothing listens there


@pytest.mark.parametrize(
    "args",
    [
        ["status", "E1001"],
        ["list"],
        ["submit", "examples/01-commercial.json"],
        ["appeal", "file", "E1001", "--level", "1"],
        ["appeal", "decided", "E1001", "--level", "1", "--outcome", "upheld"],
        ["worker"],
    ],
    ids=lambda args: " ".join(args),
)
def test_temporal_down_is_one_line_naming_the_address_and_what_to_do(args, tmp_path: Path):
    port = closed_port()
    result = cob(*args, env={"TEMPORAL_ADDRESS": f"127.0.0.1:{port}", "COB_HOME": str(tmp_path)})
    line = one_line_exit_1(result)
    assert line == (
        f"cannot reach the Temporal server at 127.0.0.1:{port} (Connection refused): "
        f"{START_TEMPORAL}"
    )


def test_import_with_temporal_down_is_one_line_too(tmp_path: Path) -> None:
    from tests.x12.x12_batch import batch_837, example_encounter

    path = tmp_path / "batch.837"
    path.write_text(batch_837(example_encounter("01-commercial", encounter_id="B1")))
    result = cob("import", str(path), env={"COB_HOME": str(tmp_path)})
    assert "cannot reach the Temporal server at 127.0.0.1:1" in one_line_exit_1(result)


def test_a_temporal_address_that_is_no_address_is_named(tmp_path: Path) -> None:
    result = cob("list", env={"TEMPORAL_ADDRESS": "localhost:99999"})
    line = one_line_exit_1(result)
    assert line.startswith("cannot reach the Temporal server at localhost:99999 (not a host:port")


LEDGER_COMMANDS = [
    ["tasks"],
    ["timeline", "E1001"],
    ["documents", "E1001"],
    ["era", "adjustments"],
    ["era", "post", "tests/x12_corpus/linuxforhealth/835_005010X221A1/managed-care.835"],
]


@pytest.mark.parametrize("args", LEDGER_COMMANDS, ids=lambda args: " ".join(args[:2]))
def test_ledger_database_down_is_one_line_without_the_password(args, tmp_path: Path):
    port = closed_port()
    url = f"postgresql+psycopg://cob:secret@127.0.0.1:{port}/cob"
    result = cob(*args, env={"DATABASE_URL": url, "COB_HOME": str(tmp_path)})
    line = one_line_exit_1(result)
    assert line.startswith(
        f"cannot reach the ledger database at postgresql+psycopg://cob:***@127.0.0.1:{port}/cob ("
    )
    assert "Connection refused" in line and line.endswith("start its server, or fix DATABASE_URL")
    assert "secret" not in result.stdout + result.stderr


def test_a_sqlite_ledger_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/no/such/folder/ledger.db"
    result = cob("tasks", env={"DATABASE_URL": url})
    assert one_line_exit_1(result) == (
        f"cannot open the ledger database {url} (unable to open database file): check that "
        "COB_HOME is a folder you can write, or set DATABASE_URL"
    )


def test_status_with_the_ledger_down_but_temporal_down_first_names_temporal(tmp_path: Path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test"
    result = cob("status", "E1001", env={"DATABASE_URL": url})
    assert "cannot reach the Temporal server" in one_line_exit_1(result)


def test_payer_simulator_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cob("payers", "serve", "--port", str(port), "--state", str(tmp_path / "p.db"))
    assert one_line_exit_1(result) == (
        f"cannot serve the payer simulator on 127.0.0.1:{port}: the port is in use (is another "
        "`cob payers serve` running?); stop it or choose another --port"
    )


def test_dev_server_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cob("server", "--port", str(port), "--ui-port", str(closed_port()),
                     env={"COB_HOME": str(tmp_path)})  # fmt: skip
    assert one_line_exit_1(result).startswith(f"port {port} is already in use")


async def test_a_worker_is_told_when_nothing_answers_at_the_payers_url(simulator) -> None:
    from workers.worker import payers_unreachable

    url = f"http://127.0.0.1:{closed_port()}"
    assert await payers_unreachable(url) == (
        f"cannot reach the payer simulator at {url} (ConnectError): payer calls are retried "
        "until it answers; start it with `cob payers serve`, or set COB_PAYER_URL"
    )
    assert await payers_unreachable(simulator.url) is None


@pytest.mark.parametrize("typed", ["%", "_", "E%", "encounter-%"])
def test_timeline_of_a_wildcard_lists_no_other_encounter(typed: str, tmp_path: Path) -> None:
    from ledger.db import dispose_engine, make_engine
    from ledger.writes import append_audit_event

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = make_engine(url)
    for workflow_id in ("encounter-E1001", "encounter-E1001/claim-1-ACME01"):
        append_audit_event(ledger, workflow_id=workflow_id, step="s", kind="started", detail={})
    dispose_engine(url)
    result = cob("timeline", typed, env={"DATABASE_URL": url})
    assert result.returncode == 1 and "E1001" not in result.stdout, result.stdout
    assert "no audit events in the ledger for" in result.stderr
    assert cob("timeline", "E1001", env={"DATABASE_URL": url}).stdout.count("started") == 2
