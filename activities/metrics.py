"""The engine's own counters, emitted through the SDK's metric meter so that a worker's one
Prometheus endpoint (COB_METRICS_ADDRESS, workers/metrics.py) carries them beside the SDK's
temporal_* metrics; the meter adds the namespace, task queue and activity type. Each is one
call from the activity that does the thing. Labels are payer ids, X12 group codes and routes
only: never a member, patient, encounter or claim id.

Counted once per activity that completes its step: an attempt that fails after its payer
call and is retried counts once more (metrics, not the ledger).
"""

from __future__ import annotations

from temporalio import activity

from cob.denials import Route, is_denial, route_denial
from cob.model import Remittance

CLAIMS_SUBMITTED = "cob_claims_submitted"
DENIALS = "cob_denials"
PAYMENTS_POSTED = "cob_payments_posted_cents"
TASKS_OPEN = "cob_tasks_open"  # a gauge, set by the worker from the ledger


def claim_submitted(payer_id: str, accepted: bool) -> None:
    """An 837P sent and acknowledged (999/277CA), accepted or rejected by the front end."""
    counter = activity.metric_meter().create_counter(
        CLAIMS_SUBMITTED, "837P claims sent to payers, by payer and front-end acceptance"
    )
    counter.add(1, {"payer_id": payer_id, "accepted": str(accepted).lower()})


def remittance_posted(remittance: Remittance) -> None:
    """An 835's claim posted: what the payer paid (a reversal's negative amount is not
    counted: a counter only goes up), and a denial by its group code (CO, OA, PI) and the
    route cob.denials gives it."""
    meter = activity.metric_meter()
    cents = int(remittance.paid * 100)  # the 835's amounts are to the cent
    if cents > 0:
        meter.create_counter(
            PAYMENTS_POSTED, "payer payments posted from 835s, in cents, by payer", "cents"
        ).add(cents, {"payer_id": remittance.payer_id})
    decision = route_denial(remittance)
    if decision.route is Route.POST:
        return
    group = next(
        adjustment.group
        for line in remittance.lines
        for adjustment in line.adjustments
        if is_denial(adjustment) and adjustment.reason == decision.reason_code
    )
    meter.create_counter(DENIALS, "claims denied in an 835, by payer, CARC group and route").add(
        1, {"payer_id": remittance.payer_id, "group": group, "route": str(decision.route)}
    )
