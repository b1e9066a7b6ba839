"""`cob x12 read` as a billing team runs it on files nobody here wrote."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import cob

CORPUS = Path(__file__).parents[1] / "x12_corpus" / "linuxforhealth"


def test_a_medicare_835_with_claim_level_cas_and_a_plb_is_shown_as_read():
    result = cob("x12", "read", str(CORPUS / "835_005010X221A1/medicare-part-a.835"))
    assert result.returncode == 0, result.stderr
    [txn] = json.loads(result.stdout)["transactions"]
    assert (txn["type"], txn["payment"], txn["payer_ids"]) == ("835", "150000.00", ["999", "1512345678"])
    assert [(c["claim_control_number"], c["charge"], c["paid"], c["claim_adjustments"], c["lines"])
            for c in txn["claims"]] == [("666123", "211366.97", "138018.40", "73348.57", 0),
                                         ("777777", "15000.00", "11980.33", "3019.67", 0)]  # fmt: skip
    assert txn["provider_adjustments"] == [
        {"reason": "CV", "reference": "CP", "amount": "-1.27", "provider_id": "6543210903"}
    ]


def test_an_837i_is_listed_as_not_read_with_exit_1_and_a_table_shows_it():
    path = CORPUS / "837_005010X223A3/institutional-claim.837i"
    result = cob("x12", "read", "--table", str(path))
    assert result.returncode == 1
    assert "837I" in result.stdout and "REFUSED" in result.stdout


def test_a_file_with_a_wrong_count_is_refused_naming_the_segment(tmp_path: Path):
    text = (CORPUS / "835_005010X221A1/managed-care.835").read_text()
    broken = tmp_path / "broken.835"
    broken.write_text(text.replace("GE*1*1~", "GE*2*1~"))
    result = cob("x12", "read", str(broken))
    assert result.returncode == 2 and "segment GE at position" in result.stderr
    binary = tmp_path / "binary.835"
    binary.write_bytes(b"ISA*\xff\xfe\x00garbage")
    result = cob("x12", "read", str(binary))
    assert result.returncode == 2 and "byte 4 is 0xff" in result.stderr
