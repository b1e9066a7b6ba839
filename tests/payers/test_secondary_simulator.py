"""The payer simulator applying each plan's declared COB method over HTTP: Medicare secondary
with the OTAF it derives from the primary's CAS, and a plan with a credit reserve kept per
member and calendar year (NAIC MDL-120 §7; 42 CFR 411.33)."""

from datetime import date
from decimal import Decimal as D

from cob.model import PlanType
from cob.money import account_line
from tests.payers.test_simulator import cas, claim, coverage

ACME_MET = coverage("ACME01", "ACM100200300")  # payers/simulator/members.json: 2026 deductible met
EMPL = coverage("EMPL03", "E1002003004")
CASCADE = coverage("CASC05", "CMH00000001")  # standard COB with a credit reserve; excludes 97110
MEDICARE_MET = coverage("MCARE", "1EG4TE5MK72", PlanType.MEDICARE)  # 2026 deductible met
MEDICARE_NEW = coverage("MCARE", "1EG4TE5MK73", PlanType.MEDICARE)  # nothing met yet


def on(submission, service_date: date | None):
    if service_date is None:
        return submission
    encounter = submission.encounter.model_copy(update={"service_date": service_date})
    return submission.model_copy(update={"encounter": encounter})


async def primary_then(payers, ccn, primary, secondary, lines, service_date=None):
    """Bill the primary, then the secondary with the primary's remittance (2320/2430)."""
    await payers.submit_claim(on(claim(ccn, primary, lines), service_date))
    first = await payers.remittance(ccn, payer_id=primary.payer_id)
    later = claim(ccn, secondary, lines, sequence=2, prior_remittances=[first])
    assert (await payers.submit_claim(on(later, service_date))).accepted
    return first, await payers.remittance(ccn, payer_id=secondary.payer_id)


async def test_medicare_secondary_pays_by_411_33_with_the_derived_otaf(payers):
    # EMPL03 allows 142.60 for 99213: copay 20, 10% of 122.60 = 12.26, pays 110.34.
    # Medicare (fee 92.00, deductible met): (1) min(200, OTAF 142.60) - 110.34 = 32.26,
    # (2) 92 x 80% = 73.60, (3) max(92, 142.60) - 110.34 = 32.26 -> pays 32.26
    first, medicare = await primary_then(payers, "M1", EMPL, MEDICARE_MET, [("99213", "200.00")])
    line = medicare.lines[0]
    assert (medicare.status, line.paid, cas(line)) == ("2", D("32.26"), {"OA-23": D("167.74")})
    account = account_line(1, "99213", D("200.00"), [first, medicare])
    assert account.patient_responsibility == D("0.00")


async def test_medicare_with_its_deductible_unmet_pays_nothing_and_the_patient_owes_it(payers):
    # (2) max(0, 92 - 257 unmet) x 80% = 0: the 32.26 stays with the patient as deductible
    _, medicare = await primary_then(payers, "M2", EMPL, MEDICARE_NEW, [("99213", "200.00")])
    line = medicare.lines[0]
    assert (line.paid, cas(line)) == (D("0.00"), {"OA-23": D("167.74"), "PR-1": D("32.26")})


async def test_a_plan_exclusion_as_primary_is_the_patients_pr_96(payers):
    await payers.submit_claim(claim("X1", CASCADE, [("97110", "80.00")]))
    line = (await payers.remittance("X1")).lines[0]
    assert (line.paid, cas(line), line.remarks) == (D("0.00"), {"PR-96": D("80.00")}, ["N130"])


async def test_credit_reserve_saves_then_pays_an_excluded_service_until_it_runs_out(payers):
    # 1. 71046: ACME allows 50.40 and pays 40.32, leaving 10.08. Cascade allows 55.80, normal
    #    benefit 44.64; pays the 10.08 and saves 44.64 - 10.08 = 34.56
    _, saved = await primary_then(payers, "R1", ACME_MET, CASCADE, [("71046", "120.00")])
    assert (saved.lines[0].paid, cas(saved.lines[0])) == (D("10.08"), {"OA-23": D("109.92")})

    # 2. 97110, which Cascade excludes: ACME allows 40.60 and leaves 8.12; the reserve pays it
    #    (34.56 -> 26.44)
    _, excluded = await primary_then(payers, "R2", ACME_MET, CASCADE, [("97110", "80.00")])
    assert (excluded.lines[0].allowed, excluded.lines[0].paid) == (D("0.00"), D("8.12"))

    # 3. four more excluded lines: 8.12, 8.12, 8.12, then the last 2.08 of the reserve
    four = [("97110", "80.00")] * 4
    _, drained = await primary_then(payers, "R3", ACME_MET, CASCADE, four)
    assert [line.paid for line in drained.lines] == [D("8.12")] * 3 + [D("2.08")]
    assert cas(drained.lines[3]) == {"OA-23": D("71.88"), "PR-2": D("6.04")}

    # 4. voiding claim 3 gives its 26.44 back: the next excluded line is paid again
    void = claim("R3", CASCADE, four, sequence=2, frequency="8",
                 original_payer_claim_number=drained.payer_claim_number,
                 prior_remittances=[await payers.remittance("R3", payer_id="ACME01")])  # fmt: skip
    assert (await payers.submit_claim(void)).accepted
    _, again = await primary_then(payers, "R4", ACME_MET, CASCADE, [("97110", "80.00")])
    assert again.lines[0].paid == D("8.12")


async def test_credit_reserve_starts_again_each_calendar_year(payers):
    await primary_then(payers, "Y1", ACME_MET, CASCADE, [("71046", "120.00")])  # saves 34.56
    # the same excluded service in 2027 finds no reserve: ACME's 2027 deductible takes 40.60,
    # and Cascade pays nothing
    first, next_year = await primary_then(
        payers, "Y2", ACME_MET, CASCADE, [("97110", "80.00")], service_date=date(2027, 1, 5)
    )
    assert next_year.lines[0].paid == D("0.00")
    assert cas(first.lines[0])["PR-1"] == D("40.60")
