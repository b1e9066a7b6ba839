"""One guarantor's patient account: every encounter billed to them, one statement for all of
them, and the collection cycle on durable timers (cob.dunning's rules; the days are the
practice's policy).

- An encounter joins when it closes with a balance for the patient (activities/accounts.py
  signals it, starting the account if need be): never while a payer is pending.
- The first balance starts the cycle: statement 1 that day, then the past-due notice, the
  second notice (with a payment plan offer), the final notice naming the collections date,
  and the final action (a collections referral task, or a bad-debt write-off). A balance at
  or under the practice's small-balance threshold is written off instead of billed. A
  nonprofit hospital takes no collection action before 26 CFR 1.501(r)-6's 120 days and 30
  days' notice, and its statements name the last day of its assistance application period.
- A payment (`post_payment`, idempotent by its id) is applied at once; money beyond every
  balance is credit, which pays a later balance or, with nothing owed, becomes a refund task
  until `refund_made` records it paid back. A paid-up account ends its cycle and waits, with
  no timer, for the next encounter or a late payer's 835.
- The cycle stands still while a dispute is open (a task), a payment plan is kept, or an
  assistance application waits for its decision; then it resumes where it paused. A missed
  installment gets a reminder, then after the grace period the plan defaults.
- A payer's late 835 or reversal (`repost`) recomputes the patient's share of the lines it
  names: what the patient paid beyond the new share becomes credit (a refund), a larger
  share a new balance.
- A self-pay encounter billed at least 400.00 above its Good Faith Estimate may be disputed
  (45 CFR 149.620): its statements say so with the deadline, and collections wait for it.

The state is balances and dates (contract.accounts.AccountState); the account continues as
new when Temporal suggests it, so its history stays small however long it lives.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.accounts import AccountActivities
    from cob.accounts import (
        PatientPayment,
        account_balance,
        apply_credit,
        apply_payment,
        check_account,
        repost_line,
        write_off,
    )
    from cob.dunning import (
        NOTICES,
        DunningStep,
        PaymentPlan,
        PlanStanding,
        check_plan,
        days_paused,
        fap_application_deadline,
        next_step,
        plan_standing,
        ppdr,
        prompt_pay_discount,
        small_balance_write_off,
        statement_due_date,
    )
    from cob.money import ZERO, cents
    from contract.accounts import (
        AccountRun,
        AccountState,
        AccountStatus,
        AccountStep,
        AccountTask,
        AssistanceApplication,
        AssistanceDecision,
        BilledEncounter,
        Dispute,
        DisputeResolution,
        PaymentReceipt,
        RefundMade,
        Repost,
        StatementRequest,
    )
    from workflows.policies import LEDGER_WRITE
    from workflows.wake import wake_time

TASK_DAYS = 14  # a refund or a dispute is worked within two weeks (industry practice)


def today() -> date:
    return workflow.now().date()


@workflow.defn
class PatientAccountWorkflow:
    def __init__(self) -> None:
        self._run: AccountRun | None = None
        self._arrived: list[BilledEncounter] = []
        self._steps: list[AccountStep] = []  # recorded by the main loop, in order
        self._receipts: dict[str, PaymentReceipt] = {}
        self._changed = False
        self._working = 0  # activities in flight

    @workflow.run
    async def run(self, run: AccountRun) -> None:
        """The account lives as long as its guarantor may be billed: idle (no timer) while
        nothing is owed, so a late payer's 835 or a new encounter finds it."""
        self.generation = run.generation  # which changes it takes (workflows/versions.py)
        self._run = run
        for payment in run.state.payments:
            self._receipts[payment.payment_id] = self._receipt(payment, duplicate=True)
        while True:
            self._changed = False  # before catching up: what comes meanwhile wakes it again
            await self._catch_up()
            if self._history_full():
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._catch_up()
                workflow.continue_as_new(run)
            wake = self._next_wake()
            timeout = None if wake is None else max(wake - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)
            except TimeoutError:
                pass

    def _history_full(self) -> bool:
        assert self._run is not None
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._run.history_limit
        )

    @property
    def _state(self) -> AccountState:
        assert self._run is not None
        return self._run.state

    # --- what people and the engine tell it ---

    @workflow.signal
    def add_encounter(self, billed: BilledEncounter) -> None:
        """An encounter closed with a balance for the patient; told again (a retried
        activity), it is the same encounter and changes nothing."""
        self._arrived.append(billed)
        self._changed = True

    @workflow.update
    def post_payment(self, payment: PatientPayment) -> PaymentReceipt:
        """Apply a patient payment: to the designated encounter, else the oldest balance
        first; what is beyond every balance is credit. Posting the same payment id again
        answers its first receipt."""
        if payment.payment_id in self._receipts:
            return self._receipts[payment.payment_id].model_copy(update={"duplicate": True})
        state = self._state
        self._prompt_pay(payment)
        state.lines, state.credit, applied = apply_payment(state.lines, state.credit, payment)
        posted = payment.model_copy(update={"applied": applied})
        state.payments.append(posted)
        if state.plan is not None:
            state.plan_paid += payment.amount
        receipt = self._receipt(posted)
        self._receipts[payment.payment_id] = receipt
        self._record(f"payment:{payment.payment_id}", "patient_payment", {
            "amount": str(payment.amount), "method": payment.method,
            "received_on": payment.received_on.isoformat(), "reference": payment.reference,
            "applied": str(sum((a.amount for a in applied), ZERO)),
            "credit": str(state.credit), "by": payment.by,
        })  # fmt: skip
        self._changed = True
        return receipt

    def _prompt_pay(self, payment: PatientPayment) -> None:
        """The practice's prompt-pay discount, written off before the payment is applied when
        it settles what is owed, less the discount, by the first statement's due date."""
        assert self._run is not None
        state, policy = self._state, self._run.policy
        if state.cycle_start is None or payment.encounter_id is not None:
            return
        first_due = statement_due_date(policy, state.cycle_start)
        owed = account_balance(state.lines)
        discount = prompt_pay_discount(policy, owed, payment.amount, first_due,
                                       payment.received_on)  # fmt: skip
        if discount > 0:
            state.lines, _ = write_off(state.lines, "prompt_pay", discount)
            self._record(f"prompt_pay:{payment.payment_id}", "prompt_pay_discount",
                         {"amount": str(discount), "payment_id": payment.payment_id,
                          "due": first_due.isoformat()})  # fmt: skip

    @post_payment.validator
    def _check_payment(self, payment: PatientPayment) -> None:
        if payment.received_on > today():
            raise ValueError(f"received_on: {payment.received_on} is after today ({today()})")
        if payment.encounter_id is not None and payment.encounter_id not in self._state.patients:
            raise ValueError(f"encounter_id: {payment.encounter_id} is not on this account")

    @workflow.update
    def refund_made(self, refund: RefundMade) -> AccountStatus:
        """A person paid (part of) the credit back: the refund task closes when none is due."""
        state = self._state
        state.credit -= refund.amount
        state.refund_due = max(ZERO, state.refund_due - refund.amount)
        step = f"refund_made:{state.refunded}:{refund.reference}"  # refunded so far: unique
        state.refunded += refund.amount
        self._record(step, "refund_made",
                     {"amount": str(refund.amount), "reference": refund.reference,
                      "by": refund.by},
                     closes="refund_due" if state.refund_due == 0 else None)  # fmt: skip
        self._changed = True
        return self.status()

    @refund_made.validator
    def _check_refund(self, refund: RefundMade) -> None:
        if refund.amount > self._state.credit:
            raise ValueError(
                f"amount: {refund.amount} is more than the {self._state.credit} credit"
            )

    @workflow.update
    def open_dispute(self, dispute: Dispute) -> AccountStatus:
        """The guarantor disputes the bill: the cycle stands still and a person looks."""
        state = self._state
        if dispute.dispute_id in state.disputes:
            return self.status()
        state.disputes[dispute.dispute_id] = dispute.reason
        state.dispute_ids = [*state.dispute_ids, dispute.dispute_id]
        self._pause_or_resume()
        self._record(f"dispute:{dispute.dispute_id}:opened", "dispute_opened",
                     {"dispute_id": dispute.dispute_id, "reason": dispute.reason,
                      "by": dispute.by},
                     task=self._task("dispute", f"dispute {dispute.dispute_id}: "
                                     f"{dispute.reason}; resolve it to resume the cycle"))  # fmt: skip
        self._changed = True
        return self.status()

    @open_dispute.validator
    def _check_dispute(self, dispute: Dispute) -> None:
        state = self._state
        if dispute.dispute_id in state.disputes:
            return  # the same dispute again: answered with the status, nothing changes
        if dispute.dispute_id in state.dispute_ids:
            raise ValueError(f"dispute_id: {dispute.dispute_id} was resolved; give a new id")
        if account_balance(state.lines) == 0:
            raise ValueError("dispute: the account owes nothing to dispute")

    @workflow.update
    def resolve_dispute(self, resolution: DisputeResolution) -> AccountStatus:
        """Uphold the bill, or write off the amount adjusted; with nothing else holding it
        the cycle resumes where it paused."""
        state = self._state
        if resolution.outcome == "adjusted" and resolution.amount > 0:
            state.lines, _ = write_off(
                state.lines, "dispute", resolution.amount, resolution.encounter_id
            )
        del state.disputes[resolution.dispute_id]
        self._pause_or_resume()
        self._record(f"dispute:{resolution.dispute_id}:resolved", "dispute_resolved",
                     {"dispute_id": resolution.dispute_id, "outcome": resolution.outcome,
                      "amount": str(resolution.amount), "note": resolution.note,
                      "by": resolution.by},
                     closes="dispute" if not state.disputes else None)  # fmt: skip
        self._changed = True
        return self.status()

    @resolve_dispute.validator
    def _check_resolution(self, resolution: DisputeResolution) -> None:
        state = self._state
        if resolution.dispute_id not in state.disputes:
            raise ValueError(f"dispute_id: no open dispute {resolution.dispute_id!r}")
        if resolution.outcome == "adjusted":
            self._check_amount(resolution.amount, resolution.encounter_id)

    def _check_amount(self, amount: Decimal, encounter_id: str | None) -> None:
        owed = account_balance(
            [ln for ln in self._state.lines if encounter_id in (None, ln.encounter_id)]
        )
        if not 0 < amount <= owed:
            raise ValueError(f"amount: {amount} is not between 0.01 and the {owed} owed")

    @workflow.update
    def set_plan(self, plan: PaymentPlan) -> AccountStatus:
        """A payment plan for what the account owes: the cycle stands still while it is
        kept; a missed installment gets a reminder, then the plan defaults."""
        state = self._state
        state.plan, state.plan_paid, state.plan_reminded = plan, ZERO, []
        state.plan_ids = [*state.plan_ids, plan.plan_id]
        self._pause_or_resume()
        self._record(f"plan:{plan.plan_id}", "plan_agreed",
                     {"plan_id": plan.plan_id, "total": str(plan.total),
                      "installments": str(plan.installment_count),
                      "day_of_month": str(plan.day_of_month), "by": plan.by})  # fmt: skip
        self._changed = True
        return self.status()

    @set_plan.validator
    def _check_plan(self, plan: PaymentPlan) -> None:
        assert self._run is not None
        owed = account_balance(self._state.lines)
        if self._state.plan is not None:
            raise ValueError(f"plan_id: plan {self._state.plan.plan_id} is active")
        if plan.plan_id in self._state.plan_ids:
            raise ValueError(f"plan_id: {plan.plan_id} was used before; give a new id")
        if plan.total != owed:
            raise ValueError(f"total: {plan.total} is not the {owed} the account owes")
        if plan.start < today():
            raise ValueError(f"start: {plan.start} is before today ({today()})")
        check_plan(plan, self._run.policy)

    @workflow.update
    def apply_for_assistance(self, application: AssistanceApplication) -> AccountStatus:
        """A financial-assistance application: the cycle waits for its decision."""
        state = self._state
        if application.application_id not in state.assistance:
            state.assistance[application.application_id] = application.received_on
            state.assistance_ids = [*state.assistance_ids, application.application_id]
            self._pause_or_resume()
            self._record(f"assistance:{application.application_id}:applied",
                         "assistance_applied", {"application_id": application.application_id,
                                                "by": application.by},
                         task=self._task("assistance", f"decide financial-assistance "
                                         f"application {application.application_id}"))  # fmt: skip
            self._changed = True
        return self.status()

    @apply_for_assistance.validator
    def _check_application(self, application: AssistanceApplication) -> None:
        assert self._run is not None
        known = application.application_id
        if known not in self._state.assistance and known in self._state.assistance_ids:
            raise ValueError(f"application_id: {known} was decided; give a new id")
        start = self._state.cycle_start
        if self._run.policy.nonprofit_hospital and start is not None:
            last = fap_application_deadline(start)
            if application.received_on > last:
                raise ValueError(f"received_on: the application period ended on {last}")

    @workflow.update
    def decide_assistance(self, decision: AssistanceDecision) -> AccountStatus:
        """Approved: `percent` of what the account owes is written off as charity care;
        denied: the bill stands. Either way the cycle resumes where it paused."""
        state = self._state
        del state.assistance[decision.application_id]
        owed = account_balance(state.lines)
        granted = cents(owed * decision.percent / 100) if decision.outcome == "approved" else ZERO
        if granted > 0:
            state.lines, _ = write_off(state.lines, "financial_assistance", granted)
        self._pause_or_resume()
        self._record(f"assistance:{decision.application_id}:decided", "assistance_decided",
                     {"application_id": decision.application_id, "outcome": decision.outcome,
                      "written_off": str(granted), "note": decision.note, "by": decision.by},
                     closes="assistance" if not state.assistance else None)  # fmt: skip
        self._changed = True
        return self.status()

    @decide_assistance.validator
    def _check_decision(self, decision: AssistanceDecision) -> None:
        if decision.application_id not in self._state.assistance:
            raise ValueError(f"application_id: no pending application {decision.application_id!r}")

    @workflow.update
    def repost(self, repost: Repost) -> AccountStatus:
        """A payer's late 835 or reversal changed the lines it names: each line's patient
        share is recomputed; what the patient paid beyond it is credit, a larger share a new
        balance. The same repost twice changes nothing."""
        state = self._state
        if repost.repost_id in state.reposted:
            return self.status()
        state.reposted = [*state.reposted, repost.repost_id]
        freed_total = ZERO
        lines = list(state.lines)
        for new in repost.lines:
            at = next(i for i, ln in enumerate(lines)
                      if (ln.encounter_id, ln.line_number) == (repost.encounter_id, new.line_number))  # fmt: skip
            lines[at], freed = repost_line(
                lines[at], new.paid_by_payer, new.payer_adjustments, new.responsibility
            )
            freed_total += freed
        state.lines, state.credit = lines, state.credit + freed_total
        self._record(f"repost:{repost.repost_id}", "payer_reposted",
                     {"encounter_id": repost.encounter_id, "reason": repost.reason,
                      "freed": str(freed_total), "balance": str(account_balance(lines)),
                      "by": repost.by})  # fmt: skip
        self._changed = True
        return self.status()

    @repost.validator
    def _check_repost(self, repost: Repost) -> None:
        known = {(ln.encounter_id, ln.line_number) for ln in self._state.lines}
        for new in repost.lines:
            if (repost.encounter_id, new.line_number) not in known:
                raise ValueError(
                    f"lines: encounter {repost.encounter_id} line {new.line_number} is not "
                    "on this account"
                )

    @workflow.query
    def status(self) -> AccountStatus:
        assert self._run is not None
        state = self._state
        coming = self._next_step()
        standing = self._plan_standing()
        return AccountStatus(
            account_id=self._run.account_id,
            balance=account_balance(state.lines),
            credit=state.credit,
            refund_due=state.refund_due,
            cycle_start=state.cycle_start,
            steps_taken=state.steps_taken,
            next_step=coming[0] if coming else None,
            next_step_on=coming[1] if coming else None,
            paused=self._paused(),
            open_disputes=sorted(state.disputes),
            statements=state.statements,
            encounters=sorted(state.patients),
            plan=state.plan,
            plan_standing=standing,
            assistance_pending=sorted(state.assistance),
            ppdr=state.ppdr,
            busy=bool(self._steps or self._working or self._arrived),
        )

    # --- the cycle ---

    async def _catch_up(self) -> None:
        """Take in what arrived, keep the plan, settle credit, and take every step that is
        due today."""
        assert self._run is not None
        state, policy = self._state, self._run.policy
        for billed in self._arrived:
            if billed.encounter_id in state.patients:
                continue
            state.patients[billed.encounter_id] = billed.patient_name
            state.lines = [*state.lines, *billed.lines]
            if billed.self_pay and billed.estimate is not None:
                state.estimates[billed.encounter_id] = billed.estimate
            self._record(f"encounter:{billed.encounter_id}", "account_encounter_added",
                         {"encounter_id": billed.encounter_id,
                          "balance": str(account_balance(billed.lines))})  # fmt: skip
        self._arrived = []
        self._keep_plan()
        self._settle_credit()
        balance = account_balance(state.lines)
        if state.cycle_start is None and balance > 0:
            small = small_balance_write_off(policy, balance)
            if small > 0:
                state.lines, _ = write_off(state.lines, "small_balance", small)
                self._record(f"small_balance:{today()}", "small_balance_written_off",
                             {"amount": str(small)})  # fmt: skip
            else:
                state.cycle_start, state.steps_taken = today(), 0
        elif state.cycle_start is not None and balance == 0:
            self._record(f"settled:{state.cycle_start}", "account_settled",
                         {"cycle_start": state.cycle_start.isoformat()})  # fmt: skip
            state.cycle_start, state.steps_taken, state.pauses = None, 0, []
            state.first_billed, state.ppdr = {}, {}
            self._pause_or_resume()
        while (coming := self._next_step()) is not None and coming[1] <= today():
            await self._take(coming[0])
        # every line to the cent, and every patient payment on a line, in the credit or
        # refunded: a failure stops the account's progress (its task fails, visibly, and is
        # retried), never a statement with money wrong
        check_account(state.lines, state.credit, state.payments, state.refunded)
        await self._flush()

    def _settle_credit(self) -> None:
        """Credit pays what is owed; what is left beyond every balance is to be refunded."""
        state = self._state
        if state.credit <= 0:
            return
        state.lines, state.credit, _ = apply_credit(state.lines, state.credit)
        if state.credit > state.refund_due:
            state.refund_due = state.credit
            self._record(f"refund_due:{len(state.payments)}:{state.refunded}:{state.credit}",
                         "refund_due", {"credit": str(state.credit)},
                         task=self._task("refund_due", f"the patient paid {state.credit} "
                                         "more than the account owes: refund it"))  # fmt: skip
        elif state.credit < state.refund_due:
            state.refund_due = state.credit

    def _plan_standing(self) -> PlanStanding | None:
        assert self._run is not None
        plan = self._state.plan
        if plan is None:
            return None
        return plan_standing(plan, self._run.policy, self._state.plan_paid, today())

    def _keep_plan(self) -> None:
        """The plan's standing today: completed or paid off ends it, a missed installment
        gets one reminder, the end of its grace period defaults it."""
        state = self._state
        plan, standing = state.plan, self._plan_standing()
        if plan is None or standing is None:
            return
        if standing.status == "completed" or account_balance(state.lines) == 0:
            self._record(f"plan:{plan.plan_id}:completed", "plan_completed",
                         {"plan_id": plan.plan_id})  # fmt: skip
            state.plan = None
        elif standing.status == "reminder" and standing.installment not in state.plan_reminded:
            state.plan_reminded = [*state.plan_reminded, standing.installment or 0]
            self._record(f"plan:{plan.plan_id}:reminder:{standing.installment}", "plan_reminder",
                         {"plan_id": plan.plan_id, "installment": str(standing.installment),
                          "due": str(standing.due), "past_due": str(standing.past_due),
                          "defaults_on": str(standing.defaults_on)})  # fmt: skip
        elif standing.status == "defaulted":
            self._record(f"plan:{plan.plan_id}:defaulted", "plan_defaulted",
                         {"plan_id": plan.plan_id, "installment": str(standing.installment),
                          "past_due": str(standing.past_due)})  # fmt: skip
            state.plan = None
        self._pause_or_resume()

    def _paused(self) -> bool:
        state = self._state
        return bool(state.disputes or state.assistance or state.plan is not None)

    def _pause_or_resume(self) -> None:
        """The cycle's clock stops while a dispute, a plan or an application holds it, and
        runs again when none does (cob.dunning.days_paused counts the days it stood)."""
        state = self._state
        running = not state.pauses or state.pauses[-1][1] is not None
        if self._paused() and running:
            state.pauses = [*state.pauses, (today(), None)]
        elif not self._paused() and not running:
            state.pauses = [*state.pauses[:-1], (state.pauses[-1][0], today())]

    def _collections_not_before(self) -> date | None:
        holds = [status.collections_not_before for status in self._state.ppdr.values()]
        return max(holds) if holds else None

    def _next_step(self) -> tuple[DunningStep, date] | None:
        """The cycle's next step and its day; None with no cycle or while it is paused."""
        assert self._run is not None
        state = self._state
        if state.cycle_start is None or self._paused():
            return None
        paused = days_paused(state.pauses, state.cycle_start, today())
        return next_step(self._run.policy, state.cycle_start, state.steps_taken, paused,
                         self._collections_not_before())  # fmt: skip

    def _next_wake(self) -> datetime | None:
        """The first of the cycle's next step and the plan's next check, at the account's
        time of that day (workflows/wake.py)."""
        coming, standing = self._next_step(), self._plan_standing()
        days = [coming[1]] if coming else []
        if standing is not None and standing.next_check is not None:
            days.append(standing.next_check)
        if not days:
            return None
        return wake_time(min(days)) if min(days) > today() else workflow.now()

    async def _take(self, step: DunningStep) -> None:
        state = self._state
        state.steps_taken += 1
        if step in NOTICES:
            await self._statement(step)
            return
        owed = account_balance(state.lines)
        if step is DunningStep.BAD_DEBT:
            state.lines, _ = write_off(state.lines, "bad_debt", owed)
            self._record(f"bad_debt:{state.cycle_start}", "bad_debt_written_off",
                         {"amount": str(owed)})  # fmt: skip
        else:
            self._record(f"collections:{state.cycle_start}", "collections_referral",
                         {"amount": str(owed)},
                         task=self._task("collections_referral",
                                         f"refer {owed} to the collection agency: the final "
                                         "notice's date has passed unpaid"))  # fmt: skip

    async def _statement(self, step: DunningStep) -> None:
        assert self._run is not None
        state, policy = self._state, self._run.policy
        start = state.cycle_start
        assert start is not None
        for line in state.lines:  # billed to the patient from this statement on
            if line.balance > 0 and line.encounter_id not in state.first_billed:
                state.first_billed[line.encounter_id] = today()
                estimate = state.estimates.get(line.encounter_id)
                if estimate is not None:
                    self._check_estimate(line.encounter_id, estimate.total)
        await self._flush()  # the statement follows every step recorded before it
        collections_on = None
        if step is DunningStep.FINAL_NOTICE:
            paused = days_paused(state.pauses, start, today())
            final = next_step(policy, start, len(NOTICES), paused, self._collections_not_before())
            collections_on = final[1] if final else None
        self._working += 1
        issued = await workflow.execute_activity_method(
            AccountActivities.issue_statement,
            StatementRequest(
                run=self._run,
                step=step,
                statement_date=today(),
                due_date=statement_due_date(policy, today()),
                collections_on=collections_on,
                assistance_deadline=fap_application_deadline(start),
            ),
            **LEDGER_WRITE,
        )
        self._working -= 1
        state.last_statement, state.last_amount_due = today(), issued.amount_due
        state.statements = [*state.statements, (today(), step)]

    def _check_estimate(self, encounter_id: str, estimate_total: Decimal) -> None:
        """45 CFR 149.620: a self-pay bill at least 400.00 above its Good Faith Estimate may
        be disputed within 120 days of the bill; collections wait for the window."""
        billed = sum(
            (ln.charge for ln in self._state.lines if ln.encounter_id == encounter_id), ZERO
        )
        status = ppdr(estimate_total, billed, today())
        if status is not None:
            self._state.ppdr[encounter_id] = status
            self._record(f"ppdr:{encounter_id}", "ppdr_eligible",
                         {"encounter_id": encounter_id, "estimate": str(status.gfe_total),
                          "billed": str(status.billed_total),
                          "deadline": status.deadline.isoformat()})  # fmt: skip

    # --- recording ---

    def _task(self, kind: str, reason: str) -> AccountTask:
        state = self._state
        owing = [ln for ln in state.lines if ln.balance > 0] or state.lines
        oldest = min(owing, key=lambda ln: (ln.service_date, ln.encounter_id))
        return AccountTask(kind=kind, reason=reason, due=today() + timedelta(days=TASK_DAYS),
                           encounter_id=oldest.encounter_id)  # fmt: skip

    def _record(
        self,
        step: str,
        kind: str,
        detail: dict[str, str],
        task: AccountTask | None = None,
        closes: str | None = None,
    ) -> None:
        self._steps.append(
            AccountStep(
                workflow_id=workflow.info().workflow_id,
                step=step,
                kind=kind,
                on=today(),
                detail=detail,
                task=task,
                closes_kind=closes,
            )  # fmt: skip
        )

    async def _flush(self) -> None:
        """Record the steps in order; each leaves the queue once recorded, so `busy` holds
        until the last is in the ledger."""
        while self._steps:
            self._working += 1
            try:
                await workflow.execute_activity_method(
                    AccountActivities.record_step, self._steps[0], **LEDGER_WRITE
                )
            finally:
                self._working -= 1
            self._steps.pop(0)

    def _receipt(self, payment: PatientPayment, duplicate: bool = False) -> PaymentReceipt:
        state = self._state
        return PaymentReceipt(
            payment_id=payment.payment_id,
            amount=payment.amount,
            applied=payment.applied,
            credit=state.credit,
            balance=account_balance(state.lines),
            duplicate=duplicate,
        )
