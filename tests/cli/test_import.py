"""`cob import FILE.837` on malformed files and a batch with a claim for an unknown payer
(run as a billing team runs it; --dry-run, so no Temporal server is needed); each claim goes
through the door an encounter file goes through, and garbage is refused in one line."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cli.imports import MAX_837_BYTES, read_837_batch, read_837_file
from cob.model import (
    ClaimSubmission,
    Encounter,
    LineAdjudication,
    PlanType,
    Relationship,
    Remittance,
)
from cob.validation import InvalidInput
from payers.directory import known_payer_ids
from payers.x12.claim_837p import build_837p
from payers.x12.claim_837p_parse import encounter_id_of
from payers.x12.segments import build_interchange, parse_interchange, seg
from tests.cli.test_cli import cob
from tests.x12.x12_batch import WHEN, batch_837, example_encounter

TODAY = date.today()  # as `cob import` checks service dates


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


# --- real practice-management batches ----------------------------------------------------

CORPUS = Path(__file__).resolve().parents[1] / "x12_corpus"
LFH_837P = CORPUS / "linuxforhealth" / "837_005010X222A2"


def one_transaction(*encounters: Encounter) -> str:
    """The claims of `encounters` in ONE ST: one billing provider (HL 20) and, per claim, its
    subscriber HL 22 (and patient HL 23), numbered on from the first claim's."""
    bodies = [t.body for t in parse_interchange(batch_837(*encounters)).transactions]
    body, numbers = list(bodies[0]), {"1": "1"}
    for other in bodies[1:]:
        start = next(i for i, s in enumerate(other) if s.id == "HL" and s[3] == "22")
        for s in other[start:]:
            if s.id == "HL":
                numbers[s[1]] = str(sum(1 for b in body if b.id == "HL") + 1)
                s = seg("HL", numbers[s[1]], numbers[s[2]], s[3], s[4])
            body.append(s)
    return build_interchange(
        "HC", "005010X222A1", [("837", body)], "PMSYSTEM", "COBENGINE", 7, WHEN
    )


def test_two_subscribers_in_one_st_are_two_claims_each_with_its_own_payer(tmp_path: Path) -> None:
    text = one_transaction(
        example_encounter("01-commercial", encounter_id="S1"),
        example_encounter("02-child-birthday-rule", encounter_id="S2"),
    )
    assert text.count("ST*837*") == 1 and text.count("*22*") == 2  # HL 2 and HL 3 are HL03 22
    assert "HL*3*1*22*1~" in text and "HL*4*3*23*0~" in text
    result = cob("import", str(write(tmp_path, text)), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "ready claim S1" in result.stdout and "ready claim S2" in result.stdout
    assert "2 of 2 claims ready, 0 skipped" in result.stdout

    batch = read_837_batch(text, known_payer_ids(), TODAY)
    alice, noah = batch.encounters
    assert [(c.payer_id, c.member_id) for c in alice.coverages] == [("ACME01", "ACM100200300")]
    assert [(c.payer_id, c.member_id, c.relationship) for c in noah.coverages] == [
        ("EMPL03", "E2200456789", Relationship.CHILD)
    ]  # before: Noah's subscriber became an "other payer" of Alice's claim
    assert (alice.patient.last_name, noah.patient.last_name) == ("MORENO", "PARK")
    assert (alice.total_charge, noah.total_charge) == (Decimal("195.00"), Decimal("250.00"))
    assert noah.coverages[0].subscriber.first_name == "DANIEL"


def test_an_837i_is_refused_in_one_line_with_exit_2() -> None:
    path = CORPUS / "linuxforhealth" / "837_005010X223A3" / "two-claims-single-provider.837i"
    result = cob("import", str(path), "--dry-run")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        f"cannot import {path}: ST 987654 is an 837I (005010X223A3, institutional); "
        "only the 837P (005010X222A1) is read"
    ]


def test_an_837i_beside_an_837p_is_skipped_and_the_837p_claims_are_ready(tmp_path: Path) -> None:
    institutional = CORPUS / "linuxforhealth" / "837_005010X223A3" / "institutional-claim.837i"
    text = batch_837(example_encounter("01-commercial", encounter_id="B1"))
    result = cob("import", str(write(tmp_path, text + institutional.read_text())), "--dry-run")
    assert result.returncode == 1
    assert "skipped transaction: ST 987654 is an 837I (005010X223A3" in result.stderr
    assert "1 of 1 claims ready, 0 skipped, 1 transactions refused" in result.stdout


def test_a_4010_837p_is_refused_in_one_line_with_exit_2() -> None:
    path = CORPUS / "linuxforhealth" / "837_004010X098A1" / "patient-is-subscriber.837"
    result = cob("import", str(path), "--dry-run")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"cannot import {path}: ST 0021 is a 4010 837P (004010X098A1, professional); "
        "only the 837P (005010X222A1) is read"
    ]


def test_a_utf16_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    text = batch_837(example_encounter("01-commercial", encounter_id="B1"))
    path = tmp_path / "batch.837"
    path.write_bytes(text.encode("utf-16"))  # BOM first, as Windows tools write it
    result = cob("import", str(path), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "ready claim B1" in result.stdout and "1 of 1 claims ready" in result.stdout


def test_utf16_without_a_byte_order_mark_and_binary_are_refused_in_one_line(tmp_path: Path) -> None:
    text = batch_837(example_encounter("01-commercial", encounter_id="B1"))
    path = tmp_path / "batch.837"
    path.write_bytes(text.encode("utf-16-le"))
    result = cob("import", str(path), "--dry-run")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        == f"cannot import {path}: the file holds a NUL byte at offset 1: not X12 text"
    )
    path.write_bytes(b"ISA*00*\xff\xfe\x00binary")
    result = cob("import", str(path), "--dry-run")
    assert result.returncode == 2
    assert "the file is not UTF-8 or ASCII text: byte 7 is 0xff" in result.stderr


def test_other_separators_split_the_composites_on_the_declared_isa16(tmp_path: Path) -> None:
    text = batch_837(
        example_encounter("01-commercial", encounter_id="B1"),
        example_encounter("02-child-birthday-rule", encounter_id="B2"),
    )
    # element '|', component '^' (ISA16), repetition '}' (ISA11), all at once
    piped = text.translate(str.maketrans("*:^", "|^}"))
    assert piped.startswith("ISA|00|") and piped[82] == "}" and piped[104] == "^"
    assert "SV1|HC^99213|150|UN|1|||1^2~" in piped and "CLM|B2|250|||11^B^1|" in piped
    result = cob("import", str(write(tmp_path, piped)), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "2 of 2 claims ready" in result.stdout
    noah = read_837_batch(piped, known_payer_ids(), TODAY).encounters[1]
    assert [(ln.procedure_code, ln.charge) for ln in noah.lines] == [
        ("99214", Decimal("210")), ("85025", Decimal("40"))]  # fmt: skip
    assert noah.diagnoses == ["J020"] and noah.place_of_service == "11"


def test_the_imsweb_file_with_other_separators_is_read_with_them(tmp_path: Path) -> None:
    path = CORPUS / "imsweb" / "837_5010" / "x12_valid_different_separators.txt"
    result = cob("import", str(path), "--dry-run")  # its SE01 says 25; ST..SE holds 34
    assert result.returncode == 2
    assert (
        "segment SE at position 36: SE01 says 25 segments, the transaction has 34" in result.stderr
    )
    # With SE01 made 34, a plain reading: two claims of 500.00 with one 12.25 line each. The
    # first's subscriber is the patient and has no DMG (birth date); the second sits under a
    # second HL 2 (whose HL02 names HL 3, which does not exist): both skipped, segment named.
    fixed = path.read_text().replace("SE~25~", "SE~34~")
    result = cob("import", str(write(tmp_path, fixed)), "--dry-run")
    assert result.returncode == 1
    assert ("skipped claim A37YH556: segment NM1 at position 20: the subscriber has no DMG: the "
            "patient's birth date is required") in result.stderr  # fmt: skip
    assert ("skipped claim A37YH667: segment HL at position 27: HL01 2 is used twice (also at "
            "position 18)") in result.stderr  # fmt: skip
    assert "0 of 2 claims ready, 2 skipped" in result.stdout


def sbr09(text: str, code: str) -> str:
    return text.replace("SBR*P*18*G-77120******CI~", f"SBR*P*18*G-77120******{code}~")


def test_sbr09_hm_is_a_commercial_plan_and_zz_or_empty_sbr09_skip_the_claim(tmp_path: Path) -> None:
    first = batch_837(example_encounter("01-commercial", encounter_id="B1"))
    second = batch_837(example_encounter("01-commercial", encounter_id="B2"))
    third = batch_837(example_encounter("01-commercial", encounter_id="B3"))
    text = sbr09(first, "HM") + sbr09(second, "ZZ") + sbr09(third, "")  # three interchanges
    result = cob("import", str(write(tmp_path, text)), "--dry-run")
    assert result.returncode == 1
    assert "ready claim B1" in result.stdout
    assert ("skipped claim B2: segment SBR at position 43: SBR09 'ZZ' (mutually defined) has no "
            "plan type") in result.stderr  # fmt: skip
    assert ("skipped claim B3: segment SBR at position 72: SBR09 (claim filing indicator) is "
            "empty") in result.stderr  # fmt: skip
    assert "KeyError" not in result.stderr and "1 of 3 claims ready, 2 skipped" in result.stdout
    (b1,) = read_837_batch(sbr09(first, "HM"), known_payer_ids(), TODAY).encounters
    assert b1.coverages[0].plan_type == PlanType.COMMERCIAL


def test_a_2320_without_its_2330b_payer_skips_the_claim() -> None:
    path = LFH_837P / "demo.cob.example3.A.837"  # 2320 SBR*S*01 with NM1*IL and no NM1*PR
    result = cob("import", str(path), "--dry-run")
    assert result.returncode == 1
    assert ("skipped claim 26407789: segment SBR at position 39: this 2320 (other subscriber) has "
            "no 2330B other payer (NM1*PR)") in result.stderr  # fmt: skip
    assert "0 of 1 claims ready, 1 skipped" in result.stdout


# A secondary claim to BLUE02 after ACME01 paid 60 on the line and took 10 of deductible at
# claim level (2320 CAS PR-1): AMT*D 50 = SVD02 60 - 10; CLM02 100 = 50 + 10 + 2430 CAS 40.
COB_BODY = """\
BHT*0019*00*C7*20261101*0900*CH
NM1*41*2*RIVERSIDE FAMILY MEDICINE*****46*1234567893
PER*IC*BILLING*TE*8605550142
NM1*40*2*BLUE02*****46*BLUE02
HL*1**20*1
NM1*85*2*RIVERSIDE FAMILY MEDICINE*****XX*1234567893
N3*200 RIVER ST
N4*HARTWELL*CT*06101
REF*EI*123456789
HL*2*1*22*0
SBR*S*18*******CI
NM1*IL*1*MORENO*ALICE****MI*BLU5550001
DMG*D8*19850402*F
NM1*PR*2*BLUE02*****PI*BLUE02
CLM*C7001*100***11:B:1*Y*A*Y*Y
HI*ABK:J029
SBR*P*18*G-77120******CI
CAS*PR*1*10
AMT*D*50
OI***Y*P**Y
NM1*IL*1*MORENO*ALICE****MI*ACM100200300
NM1*PR*2*ACME01*****PI*ACME01
LX*1
SV1*HC:99213*100*UN*1***1
DTP*472*D8*20261005
SVD*ACME01*60*HC:99213**1
CAS*CO*45*20
CAS*PR*2*20
DTP*573*D8*20261015"""


def cob_claim(body: str, claim: str = "C7001") -> list:
    return [seg(*line.split("*")) for line in body.replace("C7001", claim).splitlines()]


def test_cob_claims_are_balanced_per_claim_with_the_2320_cas(tmp_path: Path) -> None:
    unbalanced = COB_BODY.replace("AMT*D*50", "AMT*D*60")  # 100 != 60 + 10 + 40
    text = build_interchange("HC", "005010X222A1", [
        ("837", cob_claim(COB_BODY, "C7001")), ("837", cob_claim(unbalanced, "C7002"))],
        "PMSYSTEM", "COBENGINE", 7, WHEN)  # fmt: skip
    result = cob("import", str(write(tmp_path, text)), "--dry-run")
    assert result.returncode == 1
    assert "ready claim C7001" in result.stdout
    assert ("skipped claim C7002: segment AMT at position 53: CLM02 100 != AMT*D 60 + 2320 CAS 10 "
            "+ 2430 CAS 40 for payer ACME01 (rule 2)") in result.stderr  # fmt: skip
    assert "1 of 2 claims ready, 1 skipped" in result.stdout
    (ready,) = read_837_batch(text, known_payer_ids(), TODAY).encounters
    assert [c.payer_id for c in ready.coverages] == ["BLUE02", "ACME01"]


def test_a_clm01_the_encounter_refuses_becomes_a_stable_encounter_id(tmp_path: Path) -> None:
    text = cob_claim(COB_BODY, "R03996273 #01")
    batch = build_interchange("HC", "005010X222A1", [("837", text)], "PM", "COB", 7, WHEN)
    result = cob("import", str(write(tmp_path, batch)), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert re.search(
        r"ready claim R03996273 #01 as encounter R03996273-01-[0-9a-f]{6}\n", result.stdout
    )
    assert (
        encounter_id_of("R03996273 #01")
        == encounter_id_of("R03996273 #01")
        != encounter_id_of("R03996273/01")
    )


def test_an_other_payer_sbr09_with_no_plan_type_skips_the_claim() -> None:
    body = COB_BODY.replace("SBR*P*18*G-77120******CI", "SBR*P*18*G-77120******VA")
    text = build_interchange("HC", "005010X222A1", [("837", cob_claim(body))], "PM", "COB", 7, WHEN)
    batch = read_837_batch(text, known_payer_ids(), TODAY)
    assert [(s.claim_control_number, s.reason) for s in batch.skipped] == [
        ("C7001", "segment SBR at position 20: SBR09 'VA' (Veterans Affairs plan) has no plan type")
    ]


def test_a_child_on_both_parents_plans_is_skipped_rather_than_ordered_on_guessed_birthdays(
    tmp_path: Path,
) -> None:
    """Noah (example 02) billed to EMPL03 after ACME01 paid: the 2330A names his mother but
    carries no birth date, so the birthday rule cannot be applied to the imported claim."""
    noah = example_encounter("02-child-birthday-rule", encounter_id="K1")
    empl, acme = noah.coverages
    primary = Remittance(
        claim_control_number="K1", payer_id="ACME01", member_id=acme.member_id,
        payer_claim_number="ICN1", payer_sequence=1, status="1", adjudication_date=noah.service_date,
        lines=[LineAdjudication(line_number=ln.line_number, procedure_code=ln.procedure_code,
                                charge=ln.charge, allowed=ln.charge, paid=ln.charge)
               for ln in noah.lines],
    )  # fmt: skip
    secondary = ClaimSubmission(claim_control_number="K1", payer_sequence=2, encounter=noah,
                                coverage=empl, prior_remittances=[primary])  # fmt: skip
    result = cob("import", str(write(tmp_path, build_837p(secondary, WHEN, 3))), "--dry-run")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "skipped claim K1: the patient is a dependent child on 2 plans (EMPL03, ACME01): " \
        "the birthday rule needs each subscriber's birth date" in result.stderr


# --- the door an encounter file goes through, for each claim; garbage in one line ---------------


def b1_with(old: str, new: str) -> str:
    text = batch_837(example_encounter("01-commercial", encounter_id="B1"))
    assert old in text
    return text.replace(old, new)


def test_a_claim_whose_name_x12_can_carry_but_the_encounter_cannot_is_skipped_naming_the_field(
    tmp_path: Path,
) -> None:
    long_name = b1_with("NM1*IL*1*MORENO*ALICE", "NM1*IL*1*" + "M" * 61 + "*ALICE")
    accented = b1_with("NM1*IL*1*MORENO*ALICE", "NM1*IL*1*MORENO*AL\u00cfCE")
    for text, reason in [
        (long_name, "patient.last_name: is 61 characters; NM103 holds at most 60"),
        (accented, "patient.first_name: 'AL\u00cfCE' holds '\u00cf', which X12 cannot carry "
                   "(printable ASCII only)"),
    ]:  # fmt: skip
        batch = read_837_batch(text, known_payer_ids(), TODAY)
        assert [(s.claim_control_number, s.reason) for s in batch.skipped] == [("B1", reason)]
    result = cob("import", str(write(tmp_path, long_name)), "--dry-run")
    assert result.returncode == 1  # the file was read; its one claim skipped
    assert "skipped claim B1: patient.last_name: is 61 characters" in result.stderr


def test_a_claim_of_51_service_lines_is_skipped_as_the_2400_loop_repeats_50_times() -> None:
    line = "LX*1~\nSV1*HC:85025*1*UN*1***1~\nDTP*472*D8*20261005~\n"
    text = b1_with(
        "LX*1~\nSV1*HC:99213*150*UN*1***1:2~\nDTP*472*D8*20261005~\nLX*2~\n"
        "SV1*HC:85025*45*UN*1***2~\nDTP*472*D8*20261005~\n", line * 51
    ).replace("CLM*B1*195*", "CLM*B1*51*")
    text = re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m[1]) - 6 + 3 * 51}*", text)
    batch = read_837_batch(text, known_payer_ids(), TODAY)
    assert [s.reason for s in batch.skipped] == ["lines: must have at most 50 item(s), got 51"]


def test_a_claim_with_a_service_date_before_the_patients_birth_is_skipped() -> None:
    text = b1_with("DMG*D8*19850402*F", "DMG*D8*20261006*F")  # served 2026-10-05
    batch = read_837_batch(text, known_payer_ids(), TODAY)
    assert [s.reason for s in batch.skipped] == [
        "service_date: 2026-10-05 is before the patient's birth date 2026-10-06"
    ]


def test_random_bytes_a_directory_and_a_missing_file_are_exit_2_in_one_line(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.837"
    garbage.write_bytes(bytes(range(256)) * 4)
    for path, reason in [
        (garbage, "the file is not UTF-8 or ASCII text: byte 128 is 0x80"),
        (tmp_path, "a directory, not a file"),
        (tmp_path / "none.837", "no such file"),
    ]:
        result = cob("import", str(path), "--dry-run")
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines() == [f"cannot import {path}: {reason}"]


def test_a_file_over_50_mb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.837"
    with path.open("wb") as file:
        file.truncate(MAX_837_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(InvalidInput) as raised:
        read_837_file(path)
    assert raised.value.message == "over 50,000,000 bytes: split the batch"
