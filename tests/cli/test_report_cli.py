"""`cob report` as a user runs it: the real command in a subprocess on a ledger file
(DATABASE_URL=sqlite:///...), holding the ledger of tests/ledger/test_reports.py."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from ledger.db import dispose_engine, make_engine
from ledger.reports import REPORTS, open_claims_balance
from tests.cli.test_cli import cob
from tests.ledger.test_reports import AS_OF, build_ledger


@pytest.fixture(scope="module")
def ledger_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a `cob` whose ledger is the reports' test case."""
    home = tmp_path_factory.mktemp("report-cli")
    url = f"sqlite:///{home / 'ledger.db'}"
    try:
        build_ledger(make_engine(url))
        yield {"DATABASE_URL": url, "COB_HOME": str(home)}
    finally:
        dispose_engine(url)


def test_csv_total_is_the_ledgers_open_balance(ledger_file: dict[str, str]) -> None:
    result = cob("report", "ar-aging", "--as-of", AS_OF.isoformat(), "--csv", env=ledger_file)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(REPORTS["ar-aging"].columns)
    assert [row["payer_id"] for row in rows] == ["ACME01", "BLUE02", "MCARE", ""]
    balance = open_claims_balance(make_engine(ledger_file["DATABASE_URL"]), as_of=AS_OF)
    assert D(rows[-1]["total"]) == balance == D("2800.00")
    assert rows[-1]["days_over_120"] == "1000.00"  # BLUE02's E8, 166 days


def test_json_rows_carry_the_reports_field_names(ledger_file: dict[str, str]) -> None:
    result = cob("report", "denials", "--json", env=ledger_file)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert all(list(row) == list(REPORTS["denials"].columns) for row in rows)
    # money and rates as exact text, counts as numbers, all payers as null
    assert rows[1] == {
        "payer_id": "BLUE02", "carc": None, "adjudicated": 4, "denied": 3,
        "denial_rate": "0.7500", "denied_amount": "900.00",
    }  # fmt: skip
    assert rows[8]["payer_id"] is None and rows[8]["denial_rate"] == "0.3846"


def test_the_table_is_the_default(ledger_file: dict[str, str]) -> None:
    result = cob("report", "days-to-pay", env=ledger_file)
    assert result.returncode == 0, result.stderr
    assert "Days from 277CA acceptance to 835" in result.stdout
    acme = [line for line in result.stdout.splitlines() if "ACME01" in line]
    assert [cell.strip() for cell in acme[0].split("│")][1:5] == ["ACME01", "5", "30", "60"]
    assert "│ all " in result.stdout  # the row of all payers


def test_a_bad_name_exits_2_naming_the_choices(ledger_file: dict[str, str]) -> None:
    result = cob("report", "aging", env=ledger_file)
    assert result.returncode == 2
    assert "unknown report 'aging'" in result.stderr
    assert all(name in result.stderr for name in REPORTS)


def test_a_bad_option_exits_2_naming_it_before_the_ledger_is_opened(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}", "COB_HOME": str(tmp_path)}
    bad = [
        (["ar-aging", "--as-of", "30/06/2025"], "--as-of: '30/06/2025' is not a date"),
        (["top-procedures", "--limit", "0"], "--limit: '0' must be a whole number of 1 or more"),
        (["denials", "--as-of", "2025-06-30"], "--as-of: report denials does not take it"),
        (["ar-aging", "--csv", "--json"], "--csv and --json: choose one"),
    ]
    for args, message in bad:
        result = cob("report", *args, env=env)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    assert not (tmp_path / "ledger.db").exists()


def test_no_name_lists_every_report_with_its_definition(ledger_file: dict[str, str]) -> None:
    listed = cob("report", env=ledger_file)
    helped = cob("report", "--help", env=ledger_file)
    assert listed.returncode == 0 and helped.returncode == 0
    for name, report in REPORTS.items():
        for output in (listed.stdout, helped.stdout):
            assert f"{name}: {report.title}" in output
    flat = " ".join(listed.stdout.split())
    assert "An open claim, as of a day: the payer accepted it" in flat
    assert "005010X221A1" in flat


def test_an_empty_result_says_so(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}", "COB_HOME": str(tmp_path)}
    table = cob("report", "ar-aging", env=env)
    assert table.returncode == 0 and "ar-aging: no rows (no open claims)" in table.stdout
    as_json = cob("report", "underpayments", "--json", env=env)
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == []
    assert "underpayments: no rows" in as_json.stderr
