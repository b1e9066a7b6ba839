"""An 835 picked up from the ERA mailbox is read once, and its claims travel with it to the
claim that waits for them (activities/remittances.mailbox_posting)."""

from pathlib import Path

from activities.remittances import mailbox_posting
from payers.era import EraDocument

CORPUS = Path(__file__).resolve().parents[1] / "x12_corpus" / "linuxforhealth"


def test_a_picked_up_835_hands_on_every_claim_it_read_with_its_clp_position():
    text = (CORPUS / "835_005010X221A1" / "managed-care.835").read_text()
    posting = mailbox_posting(EraDocument(cursor="m.1", payer_id="ACME01", x12=text))
    assert posting.duplicates == [] and posting.document.problem == ""
    claims = posting.claims
    assert claims
    assert [link.claim_control_number for link in posting.links] == [
        remittance.claim_control_number for remittance, _ in claims
    ]
