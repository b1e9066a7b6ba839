"""`cob explain eob` as a user runs it: examples/explain/eob-primary.json in, the working out
(JSON or a table with the sources), a misread EOB refused naming the field with exit 1."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import cob

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "examples/explain/eob-primary.json"


def test_explain_eob_example_line_1_allowed_150_otaf_150_open_30_and_2320_amounts():
    result = cob("explain", "eob", EXAMPLE)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    first, second = answer["lines"]
    assert [first[k] for k in ("allowed", "obligated_to_accept", "patient_share", "open_balance")] == [
        "150.00", "150.00", "30.00", "30.00",
    ]  # fmt: skip
    # line 2 splits its patient share in columns: deductible 10 (PR-1), coinsurance 8 (PR-2)
    assert second["patient_share_by_reason"] == {"PR-1": "10.00", "PR-2": "8.00"}
    assert answer["secondary_837"] == ["AMT*D*152.00", "AMT*EAF*48.00"]


def test_explain_eob_out_of_network_has_no_otaf(tmp_path: Path):
    case = json.loads((ROOT / EXAMPLE).read_text())
    case["in_network"] = False
    path = tmp_path / "eob.json"
    path.write_text(json.dumps(case))
    answer = json.loads(cob("explain", "eob", str(path)).stdout)
    first = answer["lines"][0]
    assert (first["obligated_to_accept"], first["charge_or_otaf"], first["open_balance"]) == (
        None, "175.00", "30.00",
    )  # fmt: skip


def test_explain_eob_table_shows_the_working_and_its_sources():
    result = cob("explain", "eob", EXAMPLE, "--table")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Line 1 99214: billed 175.00, paid 120.00 by ACME01 (in network)" in out
    assert "42 CFR 411.32(b)" in out and "005010X221A1" in out
    assert "SVD*ACME01*120.00*HC:99214 CAS*CO*45*25.00 CAS*PR*2*30.00 AMT*EAF*30.00" in out
    assert "loop 2320 for ACME01: AMT*D*152.00 AMT*EAF*48.00" in out


def test_explain_eob_refuses_an_unbalanced_line_naming_it_with_exit_1(tmp_path: Path):
    case = json.loads((ROOT / EXAMPLE).read_text())
    case["lines"][1]["paid"] = "23.00"  # misread: 90 is not 23 + 40 + 10 + 8
    path = tmp_path / "eob.json"
    path.write_text(json.dumps(case))
    result = cob("explain", "eob", str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lines[1]: billed 90.00 is not paid 23.00 + adjustments 58.00" in result.stderr


def test_explain_eob_names_a_bad_field_and_a_file_that_is_not_json(tmp_path: Path):
    path = tmp_path / "eob.json"
    path.write_text(json.dumps({"lines": [{"billed": "175", "paid": "120", "copays": "5"}]}))
    result = cob("explain", "eob", str(path))
    assert result.returncode == 1 and "lines[0].copays: is not a known field" in result.stderr
    path.write_text("{not json")
    result = cob("explain", "eob", str(path))
    assert result.returncode == 1 and "not valid JSON" in result.stderr
