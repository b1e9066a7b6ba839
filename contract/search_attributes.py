"""Our custom search attributes: one declaration, used by workflows, the CLI and the server
bootstrap, so "list claims in appeal" works the same in the Temporal UI and in `cob list`."""

from datetime import UTC, datetime, time

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from cob.deadlines import Deadline

STAGE = SearchAttributeKey.for_keyword("CobStage")
CURRENT_PAYER = SearchAttributeKey.for_keyword("CobCurrentPayer")
PATIENT_BALANCE = SearchAttributeKey.for_float("CobPatientBalance")
# The nearest deadline the encounter's open claim is working against (cob/deadlines.py), and its
# kind (timely_filing, appeal, ...); unset when nothing is pending.
NEXT_DEADLINE = SearchAttributeKey.for_datetime("CobNextDeadline")
NEXT_DEADLINE_KIND = SearchAttributeKey.for_keyword("CobNextDeadlineKind")
# A payer paid less than the engine expected on one of the encounter's claims (cob.expected).
UNDERPAID = SearchAttributeKey.for_bool("CobUnderpaid")

ALL = (STAGE, CURRENT_PAYER, PATIENT_BALANCE, NEXT_DEADLINE, NEXT_DEADLINE_KIND, UNDERPAID)


def deadline_updates(deadline: Deadline | None) -> list[SearchAttributeUpdate]:
    """Set the next deadline (its day, 00:00 UTC) and kind, or unset both."""
    if deadline is None:
        return [NEXT_DEADLINE.value_unset(), NEXT_DEADLINE_KIND.value_unset()]
    due = datetime.combine(deadline.due, time(), tzinfo=UTC)
    return [NEXT_DEADLINE.value_set(due), NEXT_DEADLINE_KIND.value_set(deadline.kind)]
