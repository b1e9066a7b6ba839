"""`cob x12 read` over the public X12 corpus (tests/x12_corpus/README.md): each file is refused
at the segment and position a plain reading finds at fault, or read into the transactions and
facts that tests/x12_corpus/expected.json records from the file's own segments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from payers.x12.read import read_x12
from payers.x12.segments import X12Error, decode_x12

CORPUS = Path(__file__).parents[1] / "x12_corpus"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text())
NOT_CORPUS = {"LICENSE", "README.md", "expected.json"}
# what expected.json says about a transaction without being one of the summary's facts
NOT_FACTS = {"type", "refused", "balanced", "balance_note", "balance_fault"}


def corpus_file(path: str) -> str:
    return decode_x12((CORPUS / path).read_bytes())


def refusal(expected: dict) -> dict | None:
    """The segment and position a refusal must name, or None when the file is to be read. An 835
    whose money does not balance cannot be posted, so the whole file is refused at the CLP, SVC
    or BPR whose sum fails (README: Money)."""
    if expected["verdict"] == "refused":
        return {key: expected[key] for key in ("segment", "position") if key in expected}
    unbalanced = [t for t in expected["transactions"] if t.get("balanced") is False]
    return unbalanced[0]["balance_fault"] if unbalanced else None


def as_printed(summary: dict) -> dict:
    """The summary as `cob x12 read` prints it: amounts in their string form."""
    return json.loads(json.dumps(summary, default=str))


def cut_to(want: object, have: object) -> object:
    """`have` cut down to the keys `want` has, at every depth: the summary may say more."""
    if isinstance(want, dict) and isinstance(have, dict):
        return {key: cut_to(value, have.get(key)) for key, value in want.items()}
    if isinstance(want, list) and isinstance(have, list) and len(want) == len(have):
        return [cut_to(w, h) for w, h in zip(want, have, strict=True)]
    return have


def test_every_corpus_file_has_an_expectation():
    files = {
        p.relative_to(CORPUS).as_posix()
        for p in CORPUS.rglob("*")
        if p.is_file() and p.name not in NOT_CORPUS
    }
    assert files == set(EXPECTED)


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=str)
def test_corpus_file_reads_as_a_plain_reading_says(path: str):
    expected = EXPECTED[path]
    text = corpus_file(path)
    fault = refusal(expected)
    if fault is not None:
        with pytest.raises(X12Error) as raised:
            read_x12(text)
        found = {"segment": raised.value.segment_id, "position": raised.value.position}
        assert {key: found[key] for key in fault} == fault, str(raised.value)
        return

    summary = as_printed(read_x12(text))
    got = summary["transactions"]
    assert [t["type"] for t in got] == [t["type"] for t in expected["transactions"]]
    for n, (want, have) in enumerate(zip(expected["transactions"], got, strict=True), start=1):
        assert ("refused" in have) == want.get("refused", False), f"transaction {n}: {have}"
        facts = {key: value for key, value in want.items() if key not in NOT_FACTS}
        assert cut_to(facts, have) == facts, f"transaction {n}"
