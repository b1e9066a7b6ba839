"""`cob import FILE.837` on malformed files and a batch with a claim for an unknown payer
(run as a billing team runs it; --dry-run, so no Temporal server is needed)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_cli import cob
from tests.x12_batch import batch_837, example_encounter


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "batch.837"
    path.write_text(text)
    return path


def test_wrong_separators_are_refused_naming_the_segment(tmp_path: Path) -> None:
    text = batch_837(example_encounter("01-commercial", encounter_id="B1"))
    isa, rest = text.split("~", 1)
    piped = isa + "~" + rest.replace("*", "|")  # the ISA says '*', the body uses '|'
    result = cob("import", str(write(tmp_path, piped)), "--dry-run")
    assert result.returncode == 2, result.stdout
    assert re.search(r"segment \S+ at position 2", result.stderr), result.stderr
    assert "the ISA declares '*' as the element separator" in result.stderr


def test_isa_delimiters_that_are_not_distinct_are_refused(tmp_path: Path) -> None:
    text = batch_837(example_encounter("01-commercial", encounter_id="B1"))
    same = text[:104] + "*" + text[105:]  # ISA16, the component separator, made '*'
    result = cob("import", str(write(tmp_path, same)), "--dry-run")
    assert result.returncode == 2
    assert "segment ISA at position 1" in result.stderr and "distinct" in result.stderr


def test_a_wrong_group_count_is_refused_naming_ge(tmp_path: Path) -> None:
    text = batch_837(example_encounter("01-commercial", encounter_id="B1"))
    wrong = re.sub(r"GE\*1\*", "GE*2*", text)
    result = cob("import", str(write(tmp_path, wrong)), "--dry-run")
    assert result.returncode == 2
    assert re.search(r"segment GE at position \d+: GE says 2 transactions", result.stderr)


def test_a_claim_for_an_unknown_payer_is_skipped_and_the_others_are_ready(tmp_path: Path) -> None:
    stranger = example_encounter("01-commercial", encounter_id="B2")
    coverage = stranger.coverages[0].model_copy(update={"payer_id": "NOPE9"})
    stranger = stranger.model_copy(update={"coverages": [coverage]})
    text = batch_837(
        example_encounter("01-commercial", encounter_id="B1"),
        stranger,
        example_encounter("04-working-aged", encounter_id="B3"),
    )
    result = cob("import", str(write(tmp_path, text)), "--dry-run")
    assert result.returncode == 1
    assert "ready claim B1" in result.stdout and "ready claim B3" in result.stdout
    assert "skipped claim B2: coverages[0].payer_id: unknown payer id 'NOPE9'" in result.stderr
    assert "2 of 3 claims ready, 1 skipped" in result.stdout
