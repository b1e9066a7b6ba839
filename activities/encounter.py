"""What touches the world for an encounter: payer calls, ledger writes, the statement file.

Every activity is idempotent. Payer submissions carry a stable claim control number that the
payer deduplicates on; ledger writes are upserts; audit events are keyed by workflow id + step.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

from temporalio import activity

from activities import metrics
from activities.accounts import AccountActivities
from activities.base import PayerAndLedger, Steps, business_error
from activities.statement import render_statement
from cob.deadlines import claim_filing_deadline, overdue
from cob.expected import PaymentReview
from cob.model import (
    Benefits,
    ClaimAcknowledgment,
    PayerOrder,
    PriorAuthDecision,
    PriorAuthRequest,
)
from cob.money import ZERO, UnbalancedLine, account_line, patient_balance
from cob.order_review import ORDER_REVIEW_KIND
from cob.statements import statement_due
from contract.accounts import JoinAccount
from contract.ids import encounter_id_of
from contract.messages import (
    CloseEncounter,
    CobReview,
    EligibilityCheck,
    EncounterClosed,
    EncounterRecord,
    OrderChosen,
    OrderRecord,
    SubmitClaim,
)
from ledger import worklist, writes
from payers.directory import payer_deadlines, payer_names

T = TypeVar("T")


class EncounterActivities(PayerAndLedger):
    def __init__(self, *args, accounts: AccountActivities | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.accounts = accounts or AccountActivities(self.ledger, self.statements_dir)

    @activity.defn
    async def record_encounter(self, record: EncounterRecord) -> None:
        steps = Steps()
        steps.add(
            writes.record_encounter,
            workflow_id=record.workflow_id,
            encounter=record.encounter,
            status=record.status,
        )
        await self._audit(
            record.workflow_id,
            "encounter",
            "encounter_started",
            {"encounter": record.encounter.model_dump(mode="json")},
            into=steps,
        )
        await self._commit(steps)

    @activity.defn
    async def check_eligibility(self, check: EligibilityCheck) -> Benefits:
        benefits = await self._ask_payer(
            lambda payers: payers.eligibility(
                check.coverage, check.patient, check.service_date, check.provider
            ),
            step=f"eligibility/{check.coverage.key}",
            encounter_id=encounter_id_of(check.workflow_id),
        )
        await self._audit(
            check.workflow_id,
            f"eligibility:{check.coverage.key}",
            "eligibility",
            {**benefits.model_dump(mode="json"), "reason": eligibility_line(benefits)},
        )
        return benefits

    def _record_coverages(self, record: OrderRecord, into: Steps) -> None:
        into.add(
            writes.record_coverages,
            encounter_id=record.encounter_id,
            benefits=record.benefits,
            order=record.order,
            coverages=record.coverages,
        )

    @activity.defn
    async def record_order(self, record: OrderRecord) -> None:
        steps = Steps()
        self._record_coverages(record, into=steps)
        await self._audit(
            record.workflow_id,
            "order",
            "payer_order",
            {
                "order": [c.key for c in record.order.coverages],
                "decisions": [d.model_dump() for d in record.order.decisions],
                "excluded": record.order.excluded,
                "needs_manual_review": record.order.needs_manual_review,
                "reason": order_line(record.order),
            },
            into=steps,
        )
        await self._commit(steps)

    @activity.defn
    async def record_order_choice(self, chosen: OrderChosen) -> None:
        """The order a person set when no rule decided: the coverages' positions, the
        encounter's order-review task closed with who and why, and the audit event."""
        record = chosen.order
        coverages = Steps()
        self._record_coverages(record, into=coverages)
        await self._commit(coverages)
        await self._write(
            worklist.close_tasks,
            workflow_id=record.workflow_id,
            resolution=chosen.reason,
            kind=ORDER_REVIEW_KIND,
        )
        await self._audit(
            record.workflow_id,
            "order_choice",
            "order_chosen",
            {
                "reason": chosen.reason,
                "order": [c.key for c in record.order.coverages],
                "payer_ids": chosen.choice.payer_ids,
                "by": chosen.choice.by,
                "why": chosen.choice.reason,
                "decisions": [d.model_dump() for d in record.order.decisions],
            },
        )

    @activity.defn
    async def review_order(self, review: CobReview) -> None:
        """A COB review: the coverages' new positions, the denied claims set aside, and why."""
        record = review.order
        coverages = Steps()
        self._record_coverages(record, into=coverages)
        await self._commit(coverages)
        await self._write(writes.set_aside_claims, ccns=review.set_aside)
        await self._write(
            worklist.close_tasks, workflow_id=review.claim_workflow_id, resolution=review.reason
        )
        await self._audit(
            record.workflow_id,
            f"cob_review:{','.join(review.set_aside)}",
            "cob_review",
            {
                "reason": review.reason,
                "order": [c.key for c in record.order.coverages],
                "set_aside": review.set_aside,
            },
        )

    @activity.defn
    async def request_prior_auth(self, request: PriorAuthRequest) -> PriorAuthDecision:
        asked = f"/follow-up-{request.follow_up}" if request.follow_up else ""
        decision = await self._ask_payer(
            lambda payers: payers.prior_auth(request),
            step=f"prior_auth/{request.coverage.key}{asked}",
            encounter_id=request.encounter_id,
        )
        await self._audit(
            activity.info().workflow_id,
            f"prior_auth:{request.coverage.key}{asked.replace('/', ':')}",
            "prior_auth",
            decision.model_dump(mode="json"),
        )
        return decision

    @activity.defn
    async def submit_claim(self, claim: SubmitClaim) -> ClaimAcknowledgment:
        submission = claim.submission
        ack = await self._ask_payer(
            lambda payers: payers.submit_claim(submission),
            step=f"claim/{submission.claim_control_number}",
            encounter_id=submission.encounter.encounter_id,
            ccn=submission.claim_control_number,
        )
        steps = Steps()  # the claim, its acknowledgment and its filing: one transaction
        self._record_claim(claim, ack, None, into=steps)
        if ack.accepted:
            await self._record_filing(claim, into=steps)
        await self._commit(steps)
        metrics.claim_submitted(submission.coverage.payer_id, ack.accepted)
        return ack

    async def _record_filing(self, claim: SubmitClaim, into: Steps) -> None:
        """Proof of timely filing: the 277CA accepted it today; the payer's rule says by when
        it had to be filed (cob.deadlines.claim_filing_deadline). A late claim is still sent,
        and flagged."""
        submission = claim.submission
        rules = payer_deadlines(submission.coverage.payer_id)
        deadline = claim_filing_deadline(rules, submission)
        filed_on = activity.info().current_attempt_scheduled_time.date()
        ccn = submission.claim_control_number
        into.add(
            writes.record_filing,
            ccn=ccn,
            payer_id=submission.coverage.payer_id,
            filed_on=filed_on,
            deadline=deadline,
        )
        await self._audit(
            claim.workflow_id,
            f"claim:{ccn}:timely_filing",
            "timely_filing",
            {
                **deadline.model_dump(mode="json"),
                "filed_on": filed_on,
                "on_time": not overdue(deadline, filed_on),
            },
            into=into,
        )

    @activity.defn
    async def close_encounter(self, close: CloseEncounter) -> EncounterClosed:
        encounter = close.encounter
        try:
            accounts = [
                account_line(line.line_number, line.procedure_code, line.charge, close.remittances)
                for line in encounter.lines
            ]
        except UnbalancedLine as error:
            raise business_error(error) from error
        total = patient_balance(accounts)
        statement_path: str | None = None
        if statement_due(total):  # every payer has adjudicated: the workflow held otherwise
            names = payer_names()
            text = render_statement(
                encounter, accounts, close.remittances, names, close.statement_date
            )
            statement_path = str(self._write_statement(encounter.encounter_id, text))
        status = "closed"
        steps = Steps()  # the balance and the audit events: one transaction
        steps.add(
            writes.record_patient_balance,
            encounter_id=encounter.encounter_id,
            accounts=accounts,
            statement_path=statement_path,
            status=status,
        )
        for claim in close.claims:
            if claim.payment_review is not None:
                await self._audit(
                    close.workflow_id,
                    f"payment_review:{claim.payer_sequence}:{claim.payer_id}",
                    "payment_review",
                    {
                        "reason": payment_review_line(claim.payment_review),
                        "summary": claim.payment_review.summary(),
                        "underpaid": claim.payment_review.underpaid,
                        "lines": [
                            line.model_dump(mode="json") for line in claim.payment_review.lines
                        ],
                    },
                    into=steps,
                )
        await self._audit(
            close.workflow_id,
            "closed",
            "encounter_closed",
            {"patient_responsibility": str(total), "statement": statement_path},
            into=steps,
        )
        await self._commit(steps)
        account_id = None
        if close.bill_account and total > 0:  # every payer has adjudicated
            account_id = await self.accounts.join(
                JoinAccount(
                    encounter_workflow_id=close.workflow_id,
                    encounter=encounter,
                    lines=accounts,
                    remittances=close.remittances,
                )
            )
        return EncounterClosed(
            lines=accounts,
            patient_responsibility=total,
            statement_path=statement_path,
            account_id=account_id,
        )

    def _write_statement(self, encounter_id: str, text: str) -> Path:
        self.statements_dir.mkdir(parents=True, exist_ok=True)
        path = self.statements_dir / f"{encounter_id}.txt"
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(text)
        temporary.replace(path)  # a retried attempt rewrites the same file whole
        return path

    def all(self) -> list:
        return [
            self.record_encounter,
            self.check_eligibility,
            self.record_order,
            self.record_order_choice,
            self.review_order,
            self.request_prior_auth,
            self.submit_claim,
            self.close_encounter,
        ]


# One line per audit step for `cob timeline` (its `reason`): payer ids, plan types, rules and
# amounts; never a member id or a name.


def eligibility_line(benefits: Benefits) -> str:
    if not benefits.active:
        return f"{benefits.payer_id}: not active ({benefits.reason or 'no reason given'})"
    terms = [f"{benefits.plan_type} plan", f"deductible left {benefits.deductible_remaining}"]
    if benefits.coinsurance:
        terms.append(f"coinsurance {benefits.coinsurance * 100:.0f}%")
    if benefits.copay:
        terms.append(f"copay {benefits.copay}")
    return f"{benefits.payer_id}: active, {', '.join(terms)}"


def order_line(order: PayerOrder) -> str:
    payers = ", ".join(c.payer_id for c in order.coverages) or "none"
    rules = ", ".join(dict.fromkeys(d.rule for d in order.decisions))
    not_billed = ", ".join(key.split(":", 1)[0] for key in order.excluded)  # payer ids
    excluded = f"; not billed: {not_billed}" if not_billed else ""
    if order.needs_manual_review:
        return (
            f"manual review: no rule decides ({rules or 'see the task'}); tentative order "
            f"{payers}, held until a person sets it{excluded}"
        )
    return f"order {payers}" + (f" by {rules}" if rules else "") + excluded


def payment_review_line(review: PaymentReview) -> str:
    """Expected and paid over the lines reviewed as payments (a denied line is routed by its
    CARC instead)."""
    reviewed = [ln for ln in review.lines if ln.expected is not None]
    expected = sum((ln.expected for ln in reviewed if ln.expected is not None), ZERO)
    paid = sum((ln.paid for ln in reviewed), ZERO)
    denied = len(review.lines) - len(reviewed)
    return (
        f"{review.payer_id}: expected {expected}, paid {paid}, variance {review.variance}"
        + (f" ({denied} denied line(s) not reviewed)" if denied else "")
        + ("; UNDERPAID: review or appeal" if review.underpaid else "")
    )
