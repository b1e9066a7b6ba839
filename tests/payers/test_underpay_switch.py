"""The simulator's underpay switch over real HTTP (`POST /admin/underpay`): a payer that pays
less than it adjudicated, the difference moved to the patient as PR-2, every 835 line still
balanced (005010X221A1 loop 2110: SVC02 - Σ CAS = SVC03)."""

from __future__ import annotations

import re
from decimal import Decimal as D

import httpx

from payers.x12.remittance_835 import check_835_balance
from tests.payers.test_simulator import cas, claim, coverage

MET = coverage("ACME01", "ACM100200300")  # payers/simulator/members.json: 2026 deductible met


def underpay(url: str, payer_id: str, percent: str) -> httpx.Response:
    return httpx.post(f"{url}/admin/underpay", json={"payer_id": payer_id, "percent": percent})


async def latest_835(payers) -> str:
    return (await payers.era(None, limit=1000)).documents[-1].x12


async def test_underpay_10_percent_moves_4_03_of_40_32_and_8_30_of_83_04_to_pr_2(payers, simulator):
    # ACME01: 71046 allowed 50.40, 20% coinsurance 10.08, paid 40.32; 99213 allowed 128.80,
    # copay 25.00, coinsurance 20.76, paid 83.04 (payers/simulator/plan_terms/ACME01.json)
    lines = [("71046", "100.00"), ("99213", "150.00")]
    await payers.submit_claim(claim("UP0", MET, lines))
    full = (await payers.remittance("UP0")).lines
    assert [(ln.paid, cas(ln).get("PR-2")) for ln in full] == [
        (D("40.32"), D("10.08")),
        (D("83.04"), D("20.76")),
    ]

    answer = underpay(simulator.url, "ACME01", "10")
    assert answer.status_code == 200 and answer.json() == {"payer_id": "ACME01", "percent": "10"}
    await payers.submit_claim(claim("UP1", MET, lines))
    text = await latest_835(payers)
    check_835_balance(text)
    svc = re.findall(r"SVC\*HC:(\d+)\*([\d.]+)\*([\d.]+)", text)
    assert svc == [("71046", "100", "36.29"), ("99213", "150", "74.74")]
    assert re.findall(r"CAS\*PR\*[^~]*", text) == ["CAS*PR*2*14.11", "CAS*PR*3*25**2*29.06"]
    first, second = (await payers.remittance("UP1")).lines
    assert (first.allowed, first.paid, cas(first)) == (
        D("50.40"),
        D("36.29"),
        {"CO-45": D("49.60"), "PR-2": D("14.11")},
    )
    assert (second.paid, cas(second)) == (
        D("74.74"),
        {"CO-45": D("21.20"), "PR-3": D("25.00"), "PR-2": D("29.06")},
    )
    for line in (first, second):
        assert line.paid + sum(a.amount for a in line.adjustments) == line.charge


async def test_underpay_0_percent_stops_it_and_other_payers_pay_in_full(payers, simulator):
    blue = coverage("BLUE02", "BSH7K2M9Q01")  # members.json: 2026 deductible met
    await payers.submit_claim(claim("UP2", blue, [("99213", "150.00")]))
    assert underpay(simulator.url, "ACME01", "10").status_code == 200
    await payers.submit_claim(claim("UP3", blue, [("99213", "150.00")]))
    before, after = [(await payers.remittance(ccn)).lines[0] for ccn in ("UP2", "UP3")]
    assert (after.paid, cas(after)) == (before.paid, cas(before))

    assert underpay(simulator.url, "ACME01", "0").json()["percent"] == "0"
    await payers.submit_claim(claim("UP4", MET, [("71046", "100.00")]))
    line = (await payers.remittance("UP4")).lines[0]
    assert (line.paid, cas(line)) == (D("40.32"), {"CO-45": D("49.60"), "PR-2": D("10.08")})


async def test_underpay_refuses_an_unknown_payer_and_a_percent_over_100(simulator):
    unknown = underpay(simulator.url, "NOPE9", "10")
    assert unknown.status_code == 404 and "unknown payer id NOPE9" in unknown.text
    over = underpay(simulator.url, "ACME01", "101")
    assert over.status_code == 422 and "percent" in over.text
