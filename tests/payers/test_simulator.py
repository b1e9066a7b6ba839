"""The payer simulator over real HTTP, through the client the activities use (no mocks)."""

import asyncio
import json
import re
import time
from datetime import date, datetime
from decimal import Decimal as D

import httpx
import pytest

from cob.model import (
    ClaimSubmission,
    Coverage,
    Encounter,
    Person,
    PlanType,
    PriorAuthRequest,
    Provider,
    ServiceLine,
)
from cob.money import account_line, check_remittance_line
from payers.client import (
    CannotBuildRequest,
    PayerClient,
    PayerRefusedRequest,
    PayerRejected,
    PayerUnavailable,
)
from payers.simulator.plans import PLAN_TERMS_DIR, ProfileError, load_profiles
from payers.simulator.serve import free_port, start_in_thread
from payers.x12.acknowledgments import parse_277ca, parse_999
from payers.x12.claim_837p import build_837p
from payers.x12.remittance_835 import check_835_balance, parse_835

DOS = date(2026, 3, 2)
PATIENT = Person(first_name="Jane", last_name="Smith", birth_date=date(1961, 5, 1), sex="F")
CLINIC = Provider(
    name="Ben Kildare Service",
    npi="1234567893",
    tax_id="587654321",
    address="200 River St, Hartwell, CT 06101",
    phone="860-555-0100",
)
RENDERING_NPI = "1760000001"


def coverage(payer_id: str, member_id: str, plan_type=PlanType.COMMERCIAL, **extra) -> Coverage:
    return Coverage(
        payer_id=payer_id,
        member_id=member_id,
        plan_type=plan_type,
        effective_date=date(2020, 1, 1),
        **extra,
    )


ACME = coverage("ACME01", "ACM900000001")
EMPL = coverage("EMPL03", "E1002003004")
BLUE = coverage("BLUE02", "BSH12345678")


def claim(
    ccn: str,
    cov: Coverage,
    lines: list[tuple[str, str]],
    sequence: int = 1,
    npi: str | None = RENDERING_NPI,
    **extra,
) -> ClaimSubmission:
    encounter = Encounter(
        encounter_id=f"E-{ccn}",
        patient=PATIENT,
        service_date=DOS,
        billing_provider=CLINIC,
        rendering_provider_npi=npi,
        diagnoses=["I10"],
        lines=[
            ServiceLine(line_number=n, procedure_code=code, charge=D(charge))
            for n, (code, charge) in enumerate(lines, start=1)
        ],
    )
    return ClaimSubmission(
        claim_control_number=ccn,
        payer_sequence=sequence,
        encounter=encounter,
        coverage=cov,
        **extra,
    )


def cas(line) -> dict[str, D]:
    return {f"{adj.group}-{adj.reason}": adj.amount for adj in line.adjustments}


async def test_eligibility_active_member_starts_with_the_full_deductible(payers):
    benefits = await payers.eligibility(ACME, PATIENT, DOS, CLINIC)
    assert benefits.active and benefits.plan_type == PlanType.COMMERCIAL
    assert (benefits.deductible_remaining, benefits.coinsurance, benefits.copay) == (
        D("500.00"),
        D("0.20"),
        D("25.00"),
    )
    assert benefits.prior_auth_procedures == ["73721", "70553"]


async def test_eligibility_inactive_for_an_mbi_the_payer_does_not_know(payers):
    # The 271 answers AAA*N**72 (invalid member id); coverage dates are the engine's own
    # check (cob/order.py), since a 270 does not carry them.
    bad_mbi = coverage("MCARE", "1EG4-TE5-MK73", PlanType.MEDICARE)
    benefits = await payers.eligibility(bad_mbi, PATIENT, DOS, CLINIC)
    assert not benefits.active and benefits.reason.startswith("member id 1EG4-TE5-MK73 not found")
    assert "AAA*N**72*C~" in payers.exchanges[-1].text


async def test_eligibility_for_an_unknown_payer_is_refused_not_retried(payers):
    with pytest.raises(PayerRefusedRequest) as refused:
        await payers.eligibility(coverage("NOPE9", "X1"), PATIENT, DOS, CLINIC)
    assert refused.value.code == "404" and "unknown payer id NOPE9" in refused.value.detail


async def test_prior_auth_is_approved_with_a_number_and_unlocks_the_line(payers):
    request = PriorAuthRequest(
        encounter_id="E-PA1",
        coverage=ACME,
        patient=PATIENT,
        service_date=DOS,
        procedure_codes=["73721"],
        provider_npi=CLINIC.npi,
    )
    decision = await payers.prior_auth(request)
    assert decision.status == "approved" and decision.authorization_number.startswith("PA")
    not_needed = await payers.prior_auth(request.model_copy(update={"procedure_codes": ["99213"]}))
    assert (not_needed.status, not_needed.authorization_number) == ("approved", None)

    await payers.submit_claim(claim("PA1", ACME, [("73721", "900.00")]))
    denied = (await payers.remittance("PA1")).lines[0]
    assert (denied.paid, cas(denied)) == (D("0.00"), {"CO-197": D("900.00")})
    number = decision.authorization_number
    await payers.submit_claim(
        claim("PA2", ACME, [("73721", "900.00")], prior_authorization_number=number)
    )
    line = (await payers.remittance("PA2")).lines[0]
    assert (line.allowed, cas(line)) == (D("308.00"), {"CO-45": D("592.00"), "PR-1": D("308.00")})


async def test_primary_claim_by_hand(payers):
    # EMPL03: no deductible, 10% coinsurance, 20 copay once per visit; 99213 fee 142.60, 80053 17.05
    ack = await payers.submit_claim(claim("P1", EMPL, [("99213", "200.00"), ("80053", "45.00")]))
    assert ack.accepted and ack.status_code == "A2" and ack.payer_claim_number.startswith("EMPL03")
    remit = await payers.remittance("P1")
    assert remit.status == "1" and remit.payer_claim_number == ack.payer_claim_number
    office, panel = remit.lines
    # 200 - 142.60 = 57.40 CO-45; copay 20; 10% of 122.60 = 12.26; paid 110.34
    assert (office.allowed, office.paid) == (D("142.60"), D("110.34"))
    assert cas(office) == {"CO-45": D("57.40"), "PR-3": D("20.00"), "PR-2": D("12.26")}
    # 10% of 17.05 = 1.705 -> 1.71 half-up; paid 15.34; no second copay
    assert (panel.allowed, panel.paid) == (D("17.05"), D("15.34"))
    assert cas(panel) == {"CO-45": D("27.95"), "PR-2": D("1.71")}
    for line in remit.lines:
        check_remittance_line(line, remit.payer_id)


async def test_secondary_claim_reports_the_primary_as_oa_23_and_balances(payers):
    # ACME01 primary: the 500 deductible takes both lines (allowed 128.80 and 15.40)
    lines = [("99213", "200.00"), ("80053", "45.00")]
    await payers.submit_claim(claim("S1", ACME, lines))
    primary = await payers.remittance("S1")
    assert [cas(line)["PR-1"] for line in primary.lines] == [D("128.80"), D("15.40")]

    # EMPL03 secondary, standard COB: normal benefit 110.34, open balance 128.80 -> pays 110.34
    # the same claim control number goes to both payers (CLM01, ASC X12 005010X222A1 loop 2300)
    secondary_claim = claim("S1", EMPL, lines, sequence=2, prior_remittances=[primary])
    assert (await payers.submit_claim(secondary_claim)).accepted
    with pytest.raises(PayerRejected, match="ACME01, EMPL03"):
        await payers.remittance("S1")
    secondary = await payers.remittance("S1", payer_id="EMPL03")
    office, panel = secondary.lines
    assert secondary.status == "2"
    assert office.paid == D("110.34")
    assert cas(office) == {"OA-23": D("71.20"), "PR-3": D("18.46")}
    assert (panel.paid, cas(panel)) == (D("15.34"), {"OA-23": D("29.60"), "PR-2": D("0.06")})

    account = account_line(1, "99213", D("200.00"), [primary, secondary])
    assert account.paid_by_payer == {"ACME01": D("0.00"), "EMPL03": D("110.34")}
    assert (account.adjustments, account.patient_responsibility) == (D("71.20"), D("18.46"))


async def test_secondary_without_the_primary_remittance_is_rejected(payers):
    ack = await payers.submit_claim(claim("S2", EMPL, [("99213", "200.00")], sequence=2))
    assert (ack.accepted, ack.status_code) == (False, "A6")


async def test_duplicate_claim_is_adjudicated_once(payers, simulator):
    sub = claim("D1", ACME, [("99214", "250.00")])  # ACME allows 182.00, all to the deductible
    first, second = await payers.submit_claim(sub), await payers.submit_claim(sub)
    assert first == second
    rows = [
        row
        for row in httpx.get(f"{simulator.url}/admin/claims").json()
        if row["claim_control_number"] == "D1"
    ]
    assert [(row["received_count"], row["adjudicated_count"]) for row in rows] == [(2, 1)]
    benefits = await payers.eligibility(ACME, PATIENT, DOS, CLINIC)
    assert benefits.deductible_remaining == D("318.00")  # 500 - 182, taken once


async def test_void_reverses_the_payment_and_gives_the_deductible_back(payers):
    ack = await payers.submit_claim(claim("V1", ACME, [("99214", "250.00")]))
    void = claim("V1", ACME, [("99214", "250.00")], frequency="8")
    void.original_payer_claim_number = ack.payer_claim_number
    assert (await payers.submit_claim(void)).accepted
    reversal = await payers.remittance("V1")
    assert reversal.status == "22"
    assert cas(reversal.lines[0]) == {"CO-45": D("-68.00"), "PR-1": D("-182.00")}
    assert (await payers.eligibility(ACME, PATIENT, DOS, CLINIC)).deductible_remaining == D(
        "500.00"
    )


async def test_member_id_that_does_not_match_is_rejected_a7(payers):
    ack = await payers.submit_claim(claim("R1", coverage("ACME01", "XYZ"), [("99213", "100.00")]))
    assert (ack.accepted, ack.status_code) == (False, "A7") and "XYZ" in ack.reason


async def test_missing_rendering_provider_denied_then_replacement_paid(payers, simulator):
    lines = [("73721", "400.00")]
    await payers.submit_claim(claim("B1", BLUE, lines, npi=None))
    denied = await payers.remittance("B1")
    assert denied.status == "4"
    assert (cas(denied.lines[0]), denied.lines[0].remarks) == ({"CO-16": D("400.00")}, ["N290"])

    original = denied.payer_claim_number
    with pytest.raises(CannotBuildRequest) as unwritable:  # our 837 builder never sends one
        await payers.submit_claim(claim("B1", BLUE, lines, frequency="7"))
    assert "REF*F8" in unwritable.value.detail
    # Another sender's replacement without REF*F8 gets a 277CA rejection (005010X222A1 loop 2300: a frequency 7 replacement carries REF*F8).
    sent = build_837p(claim("B1", BLUE, lines, frequency="7", original_payer_claim_number=original),
                      datetime(2026, 3, 3, 9, 0), 41)  # fmt: skip
    without_ref = re.sub(r"REF\*F8\*[^~]*~\n", "", sent)
    without_ref = re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m[1]) - 1}*", without_ref)
    answer = httpx.post(f"{simulator.url}/x12/837", content=without_ref).json()
    assert parse_999(answer["ack_999"]) == (True, [])
    no_ref = parse_277ca(answer["ack_277ca"])[0]
    assert (no_ref.accepted, no_ref.status_code) == (False, "A7")
    assert no_ref.reason == "frequency 7 requires the original payer claim number (REF F8)"

    fixed = claim("B1", BLUE, lines, frequency="7", original_payer_claim_number=original)
    ack = await payers.submit_claim(fixed)
    assert ack.accepted and ack.payer_claim_number != original
    # The replacement's 835 takes the original back first (CLP02 22), then pays the new one.
    newest = (await payers.era(None, limit=1000)).documents[-1].x12
    taken_back, replacement = parse_835(newest)
    assert (taken_back.status, taken_back.payer_claim_number) == ("22", original)
    assert (replacement.status, replacement.payer_claim_number) == ("1", ack.payer_claim_number)
    check_835_balance(newest)
    # allowed 275.00: deductible 250, 20% of 25 = 5.00, paid 20.00
    line = (await payers.remittance("B1")).lines[0]
    assert (line.paid, cas(line)) == (
        D("20.00"),
        {"CO-45": D("125.00"), "PR-1": D("250.00"), "PR-2": D("5.00")},
    )
    rows = {
        row["payer_claim_number"]: row for row in httpx.get(f"{simulator.url}/admin/claims").json()
    }
    assert (rows[original]["status"], rows[original]["replaced_by"]) == (
        "replaced",
        ack.payer_claim_number,
    )


async def test_client_waits_for_a_payer_that_is_still_starting(tmp_path):
    port = free_port()
    async with PayerClient(f"http://127.0.0.1:{port}") as payers:
        asking = asyncio.create_task(payers.eligibility(ACME, PATIENT, DOS, CLINIC))
        await asyncio.sleep(0.5)  # connection refused meanwhile; tenacity keeps trying
        running = await asyncio.to_thread(start_in_thread, tmp_path / "late.sqlite", port=port)
        try:
            assert (await asking).active
        finally:
            running.stop()


async def test_client_honours_retry_after_through_an_outage(payers, simulator):
    httpx.post(f"{simulator.url}/admin/outage", json={"requests": 2, "retry_after": 1})
    started = time.monotonic()
    assert (await payers.eligibility(ACME, PATIENT, DOS, CLINIC)).active
    assert time.monotonic() - started >= 1.9  # two 503s, one second each


async def test_client_gives_up_after_its_budget():
    async with PayerClient(f"http://127.0.0.1:{free_port()}", retry_budget=1.0) as payers:
        with pytest.raises(PayerUnavailable):
            await payers.eligibility(ACME, PATIENT, DOS, CLINIC)


def test_a_bad_profile_names_its_file_and_field(tmp_path):
    profile = json.loads((PLAN_TERMS_DIR / "ACME01.json").read_text())
    (tmp_path / "ACME01.json").write_text(json.dumps({**profile, "coinsurance": "1.20"}))
    with pytest.raises(ProfileError, match=r"ACME01\.json: coinsurance"):
        load_profiles(tmp_path)


async def test_eligibility_counts_the_deductible_a_member_already_met_this_year(payers):
    # payers/simulator/members.json: ACME01 member ACM100200300 had met the 500.00 deductible in 2026.
    benefits = await payers.eligibility(coverage("ACME01", "ACM100200300"), PATIENT, DOS, CLINIC)
    assert benefits.deductible_remaining == D("0.00")
