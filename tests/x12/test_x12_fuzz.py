"""Corpus files mangled the way files arrive damaged (a segment dropped, doubled or moved, the
file cut short, a character turned into a separator or a letter, line breaks and a byte-order
mark added): `cob x12 read`, `cob import`, `cob era post` and each transaction reader answer
with a result or an X12Error naming the fault, never another exception."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities.remittances import file_posting
from cli.imports import read_837_batch
from payers.directory import known_payer_ids
from payers.x12.acknowledgments import parse_277ca, parse_999
from payers.x12.claim_837p_parse import parse_837p
from payers.x12.claim_status import parse_277
from payers.x12.eligibility_parse import parse_271
from payers.x12.read import read_x12
from payers.x12.remittance_835 import parse_835
from payers.x12.segments import X12Error, decode_x12

CORPUS = Path(__file__).parents[1] / "x12_corpus"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text())
TEXTS = {path: decode_x12((CORPUS / path).read_bytes()) for path in EXPECTED}
# the 330 KB and 378 KB 837 files would only make each example slow
SEEDS = sorted(p for p, text in TEXTS.items() if text.startswith("ISA") and len(text) < 20_000)

READERS: dict[str, Callable[[str], Any]] = {
    "835": parse_835,
    "835 (cob era post)": lambda text: file_posting(text, lambda ccn: None, "MCARE"),
    "837P": parse_837p,
    "837P (cob import)": lambda text: read_837_batch(text, known_payer_ids(), date(2026, 11, 30)),
    "999": parse_999,
    "277CA": parse_277ca,
    "277": parse_277,
    "271": parse_271,
}
FUZZ = settings(
    derandomize=True, deadline=None, max_examples=120, suppress_health_check=[HealthCheck.too_slow]
)
DAMAGE = ["drop", "duplicate", "swap", "truncate", "character", "whitespace", "bom"]
WHITESPACE = ["\r\n", "\n", "\r", " ", "  \r\n", "\t"]
BOM = "\ufeff"


def read_by(kind: str) -> list[str]:
    """Corpus files whose transactions are all of `kind` and all read (the reader's own input)."""
    kind = kind.split(" ")[0]
    return [
        path for path in SEEDS
        if EXPECTED[path]["verdict"] == "read"
        and all(t["type"] == kind and "refused" not in t for t in EXPECTED[path]["transactions"])
    ]  # fmt: skip


def separators(text: str) -> tuple[str, str, str]:
    """(element, component, segment terminator) as the ISA declares them: the terminator is the
    character after ISA16, found by counting the ISA's 16 element separators."""
    element, at = text[3], 3
    for _ in range(15):
        at = text.index(element, at + 1)
    return element, text[at + 1], text[at + 2]


def segments(text: str) -> tuple[list[str], str]:
    """Each segment with its terminator (and any whitespace before it), and what follows the last."""
    terminator = separators(text)[2]
    *pieces, tail = text.split(terminator)
    return [piece + terminator for piece in pieces], tail


def index(items: list) -> st.SearchStrategy[int]:
    return st.integers(0, len(items) - 1)


@st.composite
def damaged(draw: st.DrawFn, paths: list[str]) -> str:
    text = TEXTS[draw(st.sampled_from(paths))]
    parts, tail = segments(text)
    how = draw(st.sampled_from(DAMAGE))
    if how == "drop":
        del parts[draw(index(parts))]
    elif how == "duplicate":
        i = draw(index(parts))
        parts.insert(i, parts[i])
    elif how == "swap":
        i, j = draw(index(parts)), draw(index(parts))
        parts[i], parts[j] = parts[j], parts[i]
    elif how == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    elif how == "character":
        at = draw(st.integers(0, len(text) - 1))
        element, component, terminator = separators(text)
        new = draw(st.sampled_from([element, component, terminator, "^", "A", "Z", "9", "-", "."]))
        return text[:at] + new + text[at + 1 :]
    elif how == "whitespace":
        return draw(spaced(text))
    else:
        return BOM + text
    return "".join(parts) + tail


@st.composite
def spaced(draw: st.DrawFn, text: str) -> str:
    """`text` with CR, LF, tabs or spaces added between some of its segments."""
    parts, tail = segments(text)
    for i in sorted(draw(st.sets(st.integers(1, len(parts) - 1), min_size=1)), reverse=True):
        parts.insert(i, draw(st.sampled_from(WHITESPACE)))
    return "".join(parts) + tail


def read_or_refused(reader: Callable[[str], Any], text: str) -> None:
    try:
        reader(text)
    except X12Error:
        pass  # a refusal that names the fault is an answer; anything else is a crash


def outcome(text: str) -> object:
    try:
        return json.loads(json.dumps(read_x12(text), default=str))
    except X12Error as error:
        return ("refused", error.segment_id, error.position)


@FUZZ
@given(text=damaged(SEEDS))
def test_damaged_file_is_read_or_refused_by_cob_x12_read(text: str):
    read_or_refused(read_x12, text)


@pytest.mark.parametrize("kind", sorted(READERS))
@FUZZ
@given(data=st.data())
def test_damaged_file_is_read_or_refused_by_its_transaction_reader(kind: str, data: st.DataObject):
    text = data.draw(damaged(read_by(kind)))
    read_or_refused(READERS[kind], text)
    read_or_refused(read_x12, text)


VALID = [p for p in SEEDS if EXPECTED[p]["verdict"] == "read"]


@settings(derandomize=True, deadline=None, max_examples=60)
@given(path=st.sampled_from(VALID), data=st.data(), bom=st.booleans())
def test_line_breaks_between_segments_and_a_bom_change_nothing(
    path: str, data: st.DataObject, bom: bool
):
    text = data.draw(spaced(TEXTS[path]))
    delivered = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    assert outcome(decode_x12(delivered)) == outcome(TEXTS[path])
