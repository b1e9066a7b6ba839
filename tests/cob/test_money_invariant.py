"""The money invariant across a whole chain of payers: for any encounter, one to five payers
in any order, each applying any COB method, every line balances to the cent
(charge = Σ paid + Σ adjustments + patient responsibility), no later payer pays more than the
earlier payers left open or than the unpaid allowable expense, and the patient never owes a
negative amount. Denials (no authorization, no rendering provider) included."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cob.model import ClaimSubmission, CobMethod, Coverage, Encounter, PlanType, Remittance
from cob.money import ZERO, account_line, patient_responsibility
from payers.simulator.adjudication import adjudicate
from payers.simulator.plans import load_profiles

PROFILES = load_profiles()
MEMBER_IDS = {"ACME01": "ACM100000001", "BLUE02": "BSH00000001", "EMPL03": "E1000000001",
              "MCARE": "1EG4TE5MK72", "MGAP01": "LMG00000001", "MCAID": "430000000001",
              "TRIC01": "10000000001", "CASC05": "CMH00000001"}  # fmt: skip
CODES = ["99213", "99214", "80053", "36415", "73721", "93000", "20610", "97110", "J3490"]
DOS = date(2026, 10, 1)

charges = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
lines = st.lists(st.tuples(st.sampled_from(CODES), charges), min_size=1, max_size=5)
payer_chains = st.lists(st.sampled_from(sorted(PROFILES)), min_size=1, max_size=5, unique=True)
methods = st.lists(st.none() | st.sampled_from(list(CobMethod)), min_size=5, max_size=5)
deductibles = st.decimals(min_value=Decimal("0"), max_value=Decimal("600"), places=2)
reserves = st.decimals(min_value=Decimal("0"), max_value=Decimal("300"), places=2)


def encounter(line_specs, rendering_npi: str | None) -> Encounter:
    return Encounter.model_validate({
        "encounter_id": "P1",
        "patient": {"first_name": "Pat", "last_name": "Doe", "birth_date": "1950-01-01"},
        "service_date": DOS.isoformat(),
        "billing_provider": {"name": "Clinic", "npi": "1234567893", "tax_id": "123456789"},
        "rendering_provider_npi": rendering_npi,
        "diagnoses": ["I10"],
        "lines": [{"line_number": n, "procedure_code": code, "charge": str(charge)}
                  for n, (code, charge) in enumerate(line_specs, start=1)],
    })  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    line_specs=lines,
    chain=payer_chains,
    method_of=methods,  # None: the payer's own method; else any COB method
    remaining=st.lists(deductibles, min_size=5, max_size=5),
    reserve=st.lists(reserves, min_size=5, max_size=5),
    authorized=st.booleans(),
    rendering_npi=st.sampled_from(["1427051234", None]),
)
def test_every_line_balances_through_any_chain_of_payers(
    line_specs, chain, method_of, remaining, reserve, authorized, rendering_npi
):
    claim = encounter(line_specs, rendering_npi)
    remittances: list[Remittance] = []
    for sequence, payer_id in enumerate(chain, start=1):
        profile = PROFILES[payer_id]
        method = method_of[sequence - 1]
        if method is not None:
            profile = profile.model_copy(update={"cob_method": method})
        coverage = Coverage(payer_id=payer_id, member_id=MEMBER_IDS[payer_id],
                            plan_type=PlanType(profile.plan_type), effective_date=date(2020, 1, 1))  # fmt: skip
        submission = ClaimSubmission(
            claim_control_number=f"P1-{sequence}-1",
            payer_sequence=sequence,
            encounter=claim,
            coverage=coverage,
            prior_authorization_number="AUTH1" if authorized else None,
            prior_remittances=list(remittances),
        )
        outcome = adjudicate(
            profile, submission, remaining[sequence - 1], DOS, reserve[sequence - 1]
        )
        assert outcome.credit_reserve >= 0
        if profile.cob_method != CobMethod.STANDARD_WITH_CREDIT_RESERVE or sequence == 1:
            assert outcome.credit_reserve == reserve[sequence - 1]  # only that method moves it
        for line in outcome.remittance.lines:
            earlier = [r.lines[line.line_number - 1] for r in remittances]
            before = patient_responsibility(earlier[-1]) if earlier else line.charge
            assert ZERO <= line.paid <= before  # never more than the earlier payers left open
            allowable = max([line.allowed, *(e.allowed for e in earlier)])
            unpaid = allowable - sum((e.paid for e in earlier), ZERO)
            assert line.paid <= max(ZERO, unpaid)  # nor than the unpaid allowable expense
        remittances.append(outcome.remittance)
    for line in claim.lines:
        account = account_line(line.line_number, line.procedure_code, line.charge, remittances)
        assert account.paid + account.adjustments + account.patient_responsibility == line.charge
        assert account.patient_responsibility >= ZERO
        assert account.paid <= line.charge
