"""Encounter files and 837 batches as a fuzzer mangles them: examples/*.json with fields
replaced, added and dropped, wrong types, unicode, delimiters, huge text, odd dates and numbers,
bytes flipped and files cut short; and the 837Ps written from them (and the public corpus's)
with segments dropped, repeated and swapped, elements replaced, bytes flipped.

(a) `cob submit`'s reader (load_encounter) returns an Encounter or raises InvalidInput naming
    the field, and nothing else;
(b) every encounter it accepts can be put on the wire: its 270s and 837Ps are written, every
    element within the guide's length and character set, and each 837P reads back with the
    same names, ids, lines and charges, and is accepted again: nothing accepted that a payer
    will reject;
(c) `cob import`'s reader (read_837_batch) answers any bytes with a batch or an X12Error,
    and every claim it readies passes (b).

The tests print and keep nothing. A larger run prints the counts by class (field paths and
segment ids, never a value):

    .venv/bin/python -m tests.cli.test_input_fuzz [EXAMPLES [SEED]]
"""

from __future__ import annotations

import copy
import io
import json
import logging
import re
import sys
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pyx12.params
import pyx12.x12n_document
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from cli.demo import example_files
from cli.encounters import load_encounter
from cli.imports import read_837_batch
from cob.model import ADDRESS, ClaimSubmission, Encounter
from cob.validation import InvalidInput, validate_encounter
from payers.directory import known_payer_ids
from payers.x12.claim_837p import build_837p
from payers.x12.claim_837p_parse import ParsedClaim, parse_837p
from payers.x12.eligibility import build_270, inquiry_for
from payers.x12.segments import (
    Segment,
    X12Error,
    build_interchange,
    parse_interchange,
    transactions_of,
)
from tests.x12.x12_batch import WHEN

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 30)  # the examples' services are in October 2026
KNOWN = known_payer_ids()
EXAMPLES = [
    json.loads(path.read_text())
    for path in example_files(ROOT / "examples")
]
FAST = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- (a) mangled encounter files ---------------------------------------------------------------

# characters the wire refuses or that sit at its edges: delimiters, control characters, beyond
# ASCII (accents, an emoji, a right-to-left override, a no-break space), markup, quotes
ODD_CHARACTERS = list("*~:^|>\\`'\"[]{}#$%@_!&") + [
    "\x00", "\t", "\n", "\r", "\x7f", "\u00e9", "\U0001f600", "\u202e", "\u00a0", "\u0661", "\ufeff",
]  # fmt: skip
PLAIN = "ABCXYZabcxyz0189 -.'&,#/"
LENGTHS = [0, 1, 2, 15, 16, 30, 31, 35, 36, 50, 51, 55, 56, 60, 61, 80, 81, 300, 100_000]
ODD_DATES = [
    "0001-01-01", "1899-12-31", "1900-01-01", "1970-01-01", "2016-02-29", "2026-02-29",
    "2026-10-05", "2026-11-30", "2026-12-01", "9999-12-31", "2026-13-01", "2026-10-05T00:00:00",
    "20261005", "10/05/2026", "2026-10-5", 0, 20261005, 1.7e9, -1, True, None,
]  # fmt: skip
ODD_NUMBERS = [
    0, 1, 2, 3, 4, 12, 13, 50, 51, -1, 1.5, 150.001, 99999999.99, 100000000, 10**20, -(10**20),
    1e308, float("nan"), float("inf"), True, False, "1", "150.00", "NaN", "1e400", None,
]  # fmt: skip
ODD_VALUES = [*ODD_DATES, *ODD_NUMBERS, "", " ", [], {}, [1], {"a": 1}, [[[[[]]]]], "[/red]"]


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every node of a JSON value but the root, as its path of keys and indexes."""
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    else:
        return []
    found: list[tuple] = []
    for key, child in children:
        found += [(*prefix, key), *paths(child, (*prefix, key))]
    return found


def parent(data: Any, path: tuple) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def odd_text(draw: st.DrawFn, original: str) -> str:
    how = draw(st.sampled_from(["insert", "length", "unicode", "printable", "plain", "plain",
                                "case", "spaces"]))  # fmt: skip
    if how == "plain":  # what a name or id may well be: often taken
        return draw(st.text(st.sampled_from(PLAIN), min_size=1, max_size=36))
    if how == "insert":
        at = draw(st.integers(0, len(original)))
        return original[:at] + draw(st.sampled_from(ODD_CHARACTERS)) + original[at:]
    if how == "length":  # around an element's limit, or far past it
        base, length = original or "A", draw(st.sampled_from(LENGTHS))
        return (base * (length // len(base) + 1))[:length]
    if how == "unicode":
        return draw(st.text(max_size=40))
    if how == "printable":
        return draw(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=70))
    if how == "case":
        return original.swapcase()
    return f"  {original}  "


@st.composite
def mangled_encounter(draw: st.DrawFn) -> bytes:
    """An example encounter with one to three things changed, as the bytes of its file."""
    data = copy.deepcopy(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        nodes = paths(data)
        how = draw(st.sampled_from(["text"] * 4 + ["replace", "date", "number", "delete",
                                    "insert", "repeat", "renumber"]))  # fmt: skip
        strings = [p for p in nodes if isinstance(parent(data, p)[p[-1]], str)]
        if how == "text" and strings:
            path = draw(st.sampled_from(strings))
            parent(data, path)[path[-1]] = draw(odd_text(parent(data, path)[path[-1]]))
        elif how in ("replace", "date", "number") and nodes:
            wanted = {"replace": lambda p: True, "date": lambda p: "date" in str(p[-1]) or p[-1] in ("start", "end"),
                      "number": lambda p: isinstance(parent(data, p)[p[-1]], int | float)}[how]  # fmt: skip
            path = draw(st.sampled_from([p for p in nodes if wanted(p)] or nodes))
            values = {"replace": ODD_VALUES, "date": ODD_DATES, "number": ODD_NUMBERS}[how]
            parent(data, path)[path[-1]] = draw(st.sampled_from(values))
        elif how == "delete" and nodes:
            path = draw(st.sampled_from(nodes))
            del parent(data, path)[path[-1]]
        elif how == "insert":
            objects = [()] + [p for p in nodes if isinstance(parent(data, p)[p[-1]], dict)]
            where = draw(st.sampled_from(objects))
            target = data if where == () else parent(data, where)[where[-1]]
            key = draw(
                st.sampled_from(["note", "Encounter_id", "line_number", "", "sex", "\u00e9"])
            )
            target[key] = draw(st.sampled_from(ODD_VALUES))
        elif how == "repeat":  # a list cut short or grown past its limit (50 lines, 12 HI...)
            lists = [p for p in nodes if isinstance(parent(data, p)[p[-1]], list)]
            path = draw(st.sampled_from(lists)) if lists else None
            items = parent(data, path)[path[-1]] if path else []
            if path and items:
                size = draw(st.sampled_from([0, 2, 4, 5, 11, 12, 13, 50, 51]))
                parent(data, path)[path[-1]] = (items * 60)[:size]
        elif how == "renumber" and isinstance(data.get("lines"), list):
            lines = [ln for ln in data["lines"] if isinstance(ln, dict)]
            numbers = draw(st.permutations(range(1, len(lines) + 1)))
            shift = draw(st.sampled_from([0, 0, 1, -1]))
            for ln, number in zip(lines, numbers, strict=True):
                ln["line_number"] = number + shift
    text = json.dumps(data, ensure_ascii=draw(st.booleans()))
    return damaged_bytes(draw, text, intact=16, encoding=("latin-1", "replace"))


def loaded(raw: bytes) -> Encounter:
    """load_encounter on `raw` as a file, removed as soon as it is read."""
    with tempfile.TemporaryDirectory(prefix="cob-input-fuzz-") as folder:
        path = Path(folder) / "encounter.json"
        path.write_bytes(raw)
        return load_encounter(path, TODAY)


def by_field(field: str) -> str:
    return re.sub(r"\[\d+\]", "[]", field)  # lines[2].charge and lines[0].charge are one class


def outcome_of_encounter_file(raw: bytes, sent: list[str] | None = None) -> str:
    """'accepted' (and put on the wire; its 837Ps added to `sent`) or 'refused <field>'; any
    other exception escapes."""
    try:
        encounter = loaded(raw)
    except (
        InvalidInput
    ) as error:  # a key not in the model is counted as one class: its name is data
        unknown = error.message.startswith("is not a known field")
        return f"refused {'(an unknown field)' if unknown else by_field(error.field)}"
    texts = put_on_the_wire(encounter)
    if sent is not None:
        sent += texts
    return "accepted"


# --- (b) what is accepted can be sent ----------------------------------------------------------

# The 5010 elements the engine's fields land in, and their maximum lengths (005010X222A1 and
# 005010X279A1): names, ids, address parts, claim and trace numbers.
ELEMENT_LENGTH = {
    ("NM1", 3): 60, ("NM1", 4): 35, ("NM1", 9): 80, ("N3", 1): 55, ("N4", 1): 30, ("N4", 2): 2,
    ("N4", 3): 15, ("REF", 2): 50, ("CLM", 1): 38, ("SBR", 3): 50, ("TRN", 2): 50,
    ("BHT", 3): 50, ("PER", 2): 60, ("PER", 4): 256, ("GS", 3): 15,
}  # fmt: skip


def within_the_guide(text: str) -> None:
    assert all(" " <= c <= "~" or c == "\n" for c in text), "a character X12 cannot carry"
    for transaction in parse_interchange(text).transactions:
        for segment in [transaction.gs, *transaction.body]:
            for n, value in enumerate(segment.elements, start=1):
                limit = ELEMENT_LENGTH.get((segment.id, n))
                assert limit is None or len(value) <= limit, f"{segment.id}{n:02d} over {limit}"
                assert value == value.rstrip(), f"{segment.id}{n:02d} has trailing spaces"


def put_on_the_wire(encounter: Encounter) -> list[str]:
    """The 270 and 837P for each coverage, written, checked against the guide, and read back;
    returns the 837Ps."""
    sent = []
    provider = encounter.billing_provider
    for n, coverage in enumerate(encounter.coverages, start=1):
        trace = f"{coverage.payer_id}-{coverage.member_id}-{encounter.service_date:%Y%m%d}"
        inquiry = inquiry_for(coverage, encounter.patient, encounter.service_date, provider, trace)
        within_the_guide(build_270(inquiry, WHEN, n))  # as payers/client.py traces it
        ccn = f"{encounter.encounter_id}-{n}-1"
        submission = ClaimSubmission(
            claim_control_number=ccn, payer_sequence=n, encounter=encounter, coverage=coverage
        )
        text = build_837p(submission, WHEN, n)
        within_the_guide(text)
        [claim] = parse_837p(text)
        assert_reads_back(claim, submission)
        validate_encounter(claim.encounter_data(), KNOWN, TODAY)  # and would be taken again
        sent.append(text)
    return sent


def assert_reads_back(claim: ParsedClaim, submission: ClaimSubmission) -> None:
    encounter, coverage = submission.encounter, submission.coverage
    patient = encounter.patient
    assert claim.claim_control_number == submission.claim_control_number
    assert (claim.patient.last_name, claim.patient.first_name, claim.patient.birth_date) == (
        patient.last_name.upper(), patient.first_name.upper(), patient.birth_date)  # fmt: skip
    assert (claim.payer_id, claim.member_id, claim.group_number, claim.relationship) == (
        coverage.payer_id, coverage.member_id, coverage.group_number or None, coverage.relationship)  # fmt: skip
    assert claim.charge == encounter.total_charge
    assert claim.diagnoses == encounter.diagnoses
    assert [(ln.line_number, ln.procedure_code, ln.modifiers, ln.charge, ln.units,
             ln.diagnosis_pointers, ln.service_date) for ln in claim.lines] == [
        (ln.line_number, ln.procedure_code, ln.modifiers, ln.charge, ln.units,
         ln.diagnosis_pointers, encounter.service_date) for ln in encounter.lines]  # fmt: skip
    provider = encounter.billing_provider
    assert (claim.billing_provider.npi, claim.billing_provider.tax_id) == (
        provider.npi,
        provider.tax_id,
    )
    assert claim.billing_provider.address == as_written(provider.address)
    assert claim.rendering_provider_npi == encounter.rendering_provider_npi
    if claim.patient_address is not None:
        assert claim.patient_address == as_written(encounter.patient_address or "")


def as_written(address: str) -> str:
    """An address as the 837P writes it (N3/N4): upper case, the ZIP without its hyphen."""
    parts = ADDRESS.match(address)
    assert parts is not None
    return f"{parts['street']}, {parts['city']}, {parts['state']} {parts['zip'].replace('-', '')}".upper()


def pyx12_accepts(text: str) -> bool:
    """pyx12, the independent X12 validator, finds no error in `text`; its log (which quotes
    values) is silenced and its input file removed."""
    logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)
    with tempfile.TemporaryDirectory(prefix="cob-input-fuzz-") as folder:
        path = Path(folder) / "claim.x12"
        path.write_text(text)
        return bool(pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=str(path), fd_997=io.StringIO(), fd_html=None
        ))  # fmt: skip


# --- (c) mangled 837 files ---------------------------------------------------------------------


@cache
def bodies() -> list[list[Segment]]:
    """The segments of 837Ps: the examples with a coverage, written by the engine, and the
    public corpus's smaller 837Ps."""
    from tests.x12.x12_batch import batch_837

    found = []
    for data in EXAMPLES:
        if data.get("coverages"):
            encounter = Encounter.model_validate(data)
            found.append(parse_interchange(batch_837(encounter)).transactions[0].body)
    corpus = ROOT / "tests" / "x12_corpus" / "linuxforhealth" / "837_005010X222A2"
    for path in sorted(corpus.glob("*.837")):
        if path.stat().st_size < 20_000:
            found += [t.body for t in transactions_of(path.read_text())]
    return found


ODD_ELEMENTS = [
    "", "9" * 40, "1E5", "-0", "-5", "0.001", "NaN", "99999999999999999", "20241399", "00000000",
    "18991231", "99991231", "A" * 100, "\u00e9", "\U0001f600", "\x01", "HC:", "HC:99213:25:59:XX:YY:ZZ",
    "1:2:3:4:5", "ABK:", "11:B", "P", "X", "ZZ", "19", "22", "23", "20",
]  # fmt: skip


def enveloped(body: list[Segment]) -> str:
    """`body` in an ISA/GS/ST envelope with its counts right, written as it stands (a value
    holding a separator splits where a damaged file would: the builder refuses to write it)."""
    envelope = build_interchange(
        "HC", "005010X222A1", [("837", [])], "PMSYSTEM", "COBENGINE", 7, WHEN
    )
    head, tail = envelope.split("SE*2*0001~\n")
    segments = "".join("*".join([s.id, *s.elements]) + "~\n" for s in body)
    return f"{head}{segments}SE*{len(body) + 2}*0001~\n{tail}"


@st.composite
def mangled_837(draw: st.DrawFn) -> bytes:
    """An 837P with one to three segments dropped, repeated, swapped or changed, its envelope
    counted again (so the claims are read); sometimes its bytes damaged, or random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=600) | st.binary(max_size=600).map(lambda b: b"ISA*00*" + b))
    body = [Segment(s.id, list(s.elements)) for s in draw(st.sampled_from(bodies()))]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(body) - 1))
        how = draw(st.sampled_from(["drop", "repeat", "swap", "element", "element"]))
        if how == "drop" and len(body) > 1:
            del body[at]
        elif how == "repeat":  # a service line block 60 times is a 2400 loop past its 50
            size, times = draw(st.integers(1, 3)), draw(st.sampled_from([2, 3, 51, 60]))
            body[at:at] = body[at : at + size] * times
        elif how == "swap":
            other = draw(st.integers(0, len(body) - 1))
            body[at], body[other] = body[other], body[at]
        elif body[at].elements:
            n = draw(st.integers(0, len(body[at].elements) - 1))
            body[at].elements[n] = draw(st.sampled_from(ODD_ELEMENTS) | st.text(max_size=12))
    text = enveloped(body)
    return damaged_bytes(draw, text, intact=6, encoding=("utf-16", "surrogatepass"))


FIELD = re.compile(r"[\w.\[\]() ]+")  # a field path or 'segment XYZ'; anything else is data


def outcomes_of_837(raw: bytes) -> list[str]:
    """'file refused' (an X12Error), or a class for each claim and refused transaction; each
    ready claim is put on the wire. Any other exception escapes."""
    try:
        batch = read_837_batch(raw, KNOWN, TODAY)
    except X12Error:
        return ["file refused (X12Error)"]
    found = ["transaction refused" for _ in batch.refused]
    for ready in batch.claims:
        put_on_the_wire(ready.encounter)
        found.append("claim ready")
    for skipped in batch.skipped:  # by the segment or field named, never a value
        segment = re.match(r"segment (\w+)", skipped.reason)
        field = segment[0] if segment else by_field(skipped.reason.split(":")[0])
        found.append(f"claim skipped {field if FIELD.fullmatch(field) else '(other)'}")
    return found


# --- the tests ---------------------------------------------------------------------------------


@FAST
@given(raw=mangled_encounter())
def test_a_mangled_encounter_file_is_accepted_and_sendable_or_refused_naming_a_field(raw: bytes):
    assert re.fullmatch(r"accepted|refused .+", outcome_of_encounter_file(raw))


@settings(FAST, max_examples=100)
@given(raw=mangled_837())
def test_a_mangled_837_is_read_or_refused_and_every_ready_claim_is_sendable(raw: bytes):
    assert outcomes_of_837(raw)


def test_an_encounter_at_every_limit_is_valid_x12_for_pyx12():
    """Names at NM103 60 and NM104 35, the extended characters, a street of 55 and a city of
    30, 50 lines of the largest charge, 12 diagnoses, 4 pointers and 4 modifiers a line."""
    data = copy.deepcopy(EXAMPLES[1])  # 02: a child on a parent's plan, so 2010CA is written
    data["patient"].update(last_name="O'BRIEN-SMITH & SONS (JR.) #2 [A] {B} @C $D %E _F `G` \\H"[:60].ljust(60, "X"),
                           first_name="F" * 35)  # fmt: skip
    data["patient_address"] = f"{'S' * 55}, {'C' * 30}, CT 06101-1234"
    data["diagnoses"] = ["J02.0", "R50.9", "E11.9", "I10", "J20.9", "M25.561", "R05.9", "J45.909",
                         "K21.9", "E78.5", "F41.1", "G43.909"]  # fmt: skip
    data["lines"] = [
        {"line_number": n, "procedure_code": "99213", "modifiers": ["25", "59", "GT", "XE"],
         "charge": "99999999.99", "units": 99_999, "diagnosis_pointers": [12, 11, 10, 9]}
        for n in range(1, 51)
    ]  # fmt: skip
    data["coverages"][0]["member_id"] = "M" * (40 - len(data["coverages"][0]["payer_id"]))
    data["coverages"][0]["group_number"] = "G" * 50
    for text in put_on_the_wire(loaded(json.dumps(data).encode())):
        assert pyx12_accepts(text)


# --- the larger run ----------------------------------------------------------------------------


def tally(strategy: st.SearchStrategy[bytes], outcomes: Callable[[bytes], list[str]],
          examples: int, random_seed: int | None, counts: Counter, tracebacks: Counter) -> None:  # fmt: skip
    """Run `outcomes` on `examples` draws (the tests' own draws first unless `random_seed` is
    given), counting the classes; an exception is counted by its type and the function it came
    from, never with the data."""

    @settings(FAST, max_examples=examples, phases=[Phase.generate],
              derandomize=random_seed is None)  # fmt: skip
    @given(raw=strategy)
    def run(raw: bytes) -> None:
        try:
            counts.update(outcomes(raw))
        except Exception as error:
            where = traceback.extract_tb(error.__traceback__)[-1].name
            tracebacks[f"{type(error).__name__} in {where}"] += 1

    (run if random_seed is None else seed(random_seed)(run))()


PYX12_SAMPLE = 60  # pyx12 takes 0.3 s a claim: every n-th 837P sent, up to this many


def main(argv: list[str]) -> int:
    """`python -m tests.cli.test_input_fuzz [EXAMPLES [SEED]]`: EXAMPLES draws of each kind (3000
    by default), and pyx12 on a sample of the accepted encounters' 837Ps; exit 1 when anything
    but an answer or a refusal came out, or pyx12 refused an 837P the engine would send."""
    examples = int(argv[1]) if len(argv) > 1 else 3000
    random_seed = int(argv[2]) if len(argv) > 2 else None
    files, batches, tracebacks = Counter(), Counter(), Counter()
    sent: list[str] = []
    tally(mangled_encounter(), lambda raw: [outcome_of_encounter_file(raw, sent)], examples,
          random_seed, files, tracebacks)  # fmt: skip
    tally(mangled_837(), outcomes_of_837, examples, random_seed, batches, tracebacks)
    sample = sent[:: max(1, len(sent) // PYX12_SAMPLE)][:PYX12_SAMPLE]
    refused_by_pyx12 = sum(not pyx12_accepts(text) for text in sample)
    print(f"fuzz counts by class (tracebacks: {sum(tracebacks.values())})")
    print(f"encounter files ({sum(files.values())} mangled examples/*.json):")
    for outcome, count in sorted(files.items(), key=lambda item: (-item[1], item[0])):
        label = (
            "accepted, its 270s and 837Ps written and read back"
            if outcome == "accepted"
            else outcome
        )
        print(f"  {label}: {count}")
    print(f"  pyx12 on {len(sample)} of their {len(sent)} 837Ps: "
          f"{len(sample) - refused_by_pyx12} valid, {refused_by_pyx12} refused")  # fmt: skip
    print(f"837 files ({examples} mangled 837Ps and random bytes):")
    for outcome, count in sorted(batches.items(), key=lambda item: (-item[1], item[0])):
        label = (
            "claim ready, its 270s and 837Ps written and read back"
            if outcome == "claim ready"
            else outcome
        )
        print(f"  {label}: {count}")
    for where, count in tracebacks.most_common():
        print(f"  traceback {where}: {count}")
    return 1 if tracebacks or refused_by_pyx12 else 0


def damaged_bytes(draw, text: str, *, intact: int, encoding: tuple[str, str]) -> bytes:
    """`text` as UTF-8 bytes, left whole `intact` times in `intact` + 4, else one byte
    flipped, cut short, written in another encoding (codec, errors) or behind a BOM."""
    raw = text.encode("utf-8", "surrogatepass")
    codec, errors = encoding
    damage = draw(st.sampled_from(["none"] * intact + ["flip", "truncate", codec, "bom"]))
    if damage == "flip":
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    elif damage == "truncate":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif damage == codec:
        raw = text.encode(codec, errors)
    elif damage == "bom":
        raw = b"\xef\xbb\xbf" + raw
    return raw


if __name__ == "__main__":
    sys.exit(main(sys.argv))
