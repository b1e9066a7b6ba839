"""The money invariant across a whole chain of payers: for any encounter, any number of payers
in any order with any of their COB methods, every line balances to the cent
(charge = Σ paid + Σ adjustments + patient responsibility), no later payer pays more than the
earlier payers left open, and the patient never owes a negative amount."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cob.model import ClaimSubmission, Coverage, Encounter, PlanType
from cob.money import ZERO, account_line, patient_responsibility
from payers.adjudication import adjudicate
from payers.profiles import load_profiles

PROFILES = load_profiles()
MEMBER_IDS = {"ACME01": "ACM100000001", "BLUE02": "BSH00000001", "EMPL03": "E1000000001",
              "MCARE": "1EG4TE5MK72", "MGAP01": "LMG00000001", "MCAID": "430000000001",
              "TRIC01": "10000000001"}  # fmt: skip
CODES = ["99213", "99214", "80053", "36415", "73721", "93000", "20610", "J3490"]
DOS = date(2026, 10, 1)

charges = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
lines = st.lists(st.tuples(st.sampled_from(CODES), charges), min_size=1, max_size=5)
payer_chains = st.lists(st.sampled_from(sorted(PROFILES)), min_size=1, max_size=4, unique=True)
deductibles = st.decimals(min_value=Decimal("0"), max_value=Decimal("600"), places=2)


def encounter(line_specs) -> Encounter:
    return Encounter.model_validate({
        "encounter_id": "P1",
        "patient": {"first_name": "Pat", "last_name": "Doe", "birth_date": "1950-01-01"},
        "service_date": DOS.isoformat(),
        "billing_provider": {"name": "Clinic", "npi": "1234567893", "tax_id": "123456789"},
        "rendering_provider_npi": "1427051234",
        "diagnoses": ["I10"],
        "lines": [{"line_number": n, "procedure_code": code, "charge": str(charge)}
                  for n, (code, charge) in enumerate(line_specs, start=1)],
    })  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(line_specs=lines, chain=payer_chains, remaining=st.lists(deductibles, min_size=4, max_size=4))
def test_every_line_balances_through_any_chain_of_payers(line_specs, chain, remaining):
    claim = encounter(line_specs)
    remittances = []
    for sequence, payer_id in enumerate(chain, start=1):
        profile = PROFILES[payer_id]
        coverage = Coverage(payer_id=payer_id, member_id=MEMBER_IDS[payer_id],
                            plan_type=PlanType(profile.plan_type), effective_date=date(2020, 1, 1))  # fmt: skip
        submission = ClaimSubmission(
            claim_control_number=f"P1-{sequence}-1",
            payer_sequence=sequence,
            encounter=claim,
            coverage=coverage,
            prior_authorization_number="AUTH1",
            prior_remittances=list(remittances),
        )
        remittance, _ = adjudicate(profile, submission, remaining[sequence - 1], DOS)
        for line in remittance.lines:
            before = (
                patient_responsibility(remittances[-1].lines[line.line_number - 1])
                if remittances
                else line.charge
            )
            assert ZERO <= line.paid <= before  # never more than the earlier payers left open
        remittances.append(remittance)
    for line in claim.lines:
        account = account_line(line.line_number, line.procedure_code, line.charge, remittances)
        assert account.paid + account.adjustments + account.patient_responsibility == line.charge
        assert account.patient_responsibility >= ZERO
        assert account.paid <= line.charge
