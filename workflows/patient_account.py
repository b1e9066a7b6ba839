"""One guarantor's patient account: every encounter billed to them, one statement for all of
them, and the collection cycle on durable timers (cob.dunning's rules; the days are the
practice's policy).

- An encounter joins when it closes with a balance for the patient (activities/accounts.py
  signals it, starting the account if need be): never while a payer is pending.
- The first balance starts the cycle: statement 1 that day, then the past-due notice, the
  second notice (with a payment plan offer), the final notice naming the collections date,
  and the final action (a collections referral task, or a bad-debt write-off). A balance at
  or under the practice's small-balance threshold is written off instead of billed.
- A payment (the `post_payment` update, idempotent by its id) is applied at once; money beyond
  every balance is credit, which pays a later balance or, with nothing owed, becomes a refund
  task. A paid-up account ends its cycle.
- A dispute pauses the cycle and opens a task; its resolution upholds the bill or writes off
  the amount adjusted, and the cycle resumes where it paused.

The state is balances and dates (contract.accounts.AccountState); the account continues as
new when Temporal suggests it, so its history stays small however long it lives.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.accounts import AccountActivities
    from cob.accounts import PatientPayment, account_balance, apply_credit, apply_payment, write_off
    from cob.dunning import (
        NOTICES,
        DunningStep,
        days_paused,
        next_step,
        small_balance_write_off,
        statement_due_date,
    )
    from cob.money import ZERO
    from contract.accounts import (
        AccountRun,
        AccountStatus,
        AccountStep,
        AccountTask,
        BilledEncounter,
        Dispute,
        DisputeResolution,
        PaymentReceipt,
        StatementRequest,
    )
    from workflows.policies import LEDGER_WRITE

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

    @workflow.run
    async def run(self, run: AccountRun) -> AccountStatus:
        self._run = run
        for payment in run.state.payments:
            self._receipts[payment.payment_id] = self._receipt(payment, duplicate=True)
        while True:
            await self._catch_up()
            if self._finished():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._finished():
                    return self.status()
                continue
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(run)
            self._changed = False
            wake = self._next_wake()
            timeout = None if wake is None else max(wake - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)
            except TimeoutError:
                pass

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
        assert self._run is not None
        if payment.payment_id in self._receipts:
            return self._receipts[payment.payment_id].model_copy(update={"duplicate": True})
        state = self._run.state
        state.lines, state.credit, applied = apply_payment(state.lines, state.credit, payment)
        posted = payment.model_copy(update={"applied": applied})
        state.payments.append(posted)
        receipt = self._receipt(posted)
        self._receipts[payment.payment_id] = receipt
        self._record(f"payment:{payment.payment_id}", "patient_payment", {
            "amount": str(payment.amount), "method": payment.method,
            "received_on": payment.received_on.isoformat(), "reference": payment.reference,
            "applied": str(sum((a.amount for a in applied), ZERO)),
            "credit": str(state.credit),
        })  # fmt: skip
        self._changed = True
        return receipt

    @post_payment.validator
    def _check_payment(self, payment: PatientPayment) -> None:
        if payment.received_on > today():
            raise ValueError(f"received_on: {payment.received_on} is after today ({today()})")

    @workflow.update
    def open_dispute(self, dispute: Dispute) -> AccountStatus:
        """The guarantor disputes the bill: the cycle stands still and a person looks."""
        assert self._run is not None
        state = self._run.state
        if dispute.dispute_id in state.disputes:
            return self.status()
        if not state.disputes:
            state.pauses.append((today(), None))
        state.disputes[dispute.dispute_id] = dispute.reason
        self._record(f"dispute:{dispute.dispute_id}:opened", "dispute_opened",
                     {"dispute_id": dispute.dispute_id, "reason": dispute.reason,
                      "by": dispute.by},
                     task=self._task("dispute", f"dispute {dispute.dispute_id}: "
                                     f"{dispute.reason}; resolve it to resume the cycle"))  # fmt: skip
        self._changed = True
        return self.status()

    @open_dispute.validator
    def _check_dispute(self, dispute: Dispute) -> None:
        assert self._run is not None
        if not self._run.state.lines:
            raise ValueError("dispute: the account has no encounter to dispute")

    @workflow.update
    def resolve_dispute(self, resolution: DisputeResolution) -> AccountStatus:
        """Uphold the bill, or write off the amount adjusted; with no dispute left open the
        cycle resumes where it paused."""
        assert self._run is not None
        state = self._run.state
        if resolution.outcome == "adjusted" and resolution.amount > 0:
            state.lines, _ = write_off(
                state.lines, "dispute", resolution.amount, resolution.encounter_id
            )
        del state.disputes[resolution.dispute_id]
        if not state.disputes and state.pauses and state.pauses[-1][1] is None:
            state.pauses[-1] = (state.pauses[-1][0], today())
        self._record(f"dispute:{resolution.dispute_id}:resolved", "dispute_resolved",
                     {"dispute_id": resolution.dispute_id, "outcome": resolution.outcome,
                      "amount": str(resolution.amount), "note": resolution.note,
                      "by": resolution.by},
                     closes="dispute" if not state.disputes else None)  # fmt: skip
        self._changed = True
        return self.status()

    @resolve_dispute.validator
    def _check_resolution(self, resolution: DisputeResolution) -> None:
        assert self._run is not None
        state = self._run.state
        if resolution.dispute_id not in state.disputes:
            raise ValueError(f"dispute_id: no open dispute {resolution.dispute_id!r}")
        if resolution.outcome == "adjusted":
            owed = account_balance(
                [ln for ln in state.lines
                 if resolution.encounter_id in (None, ln.encounter_id)]
            )  # fmt: skip
            if not 0 < resolution.amount <= owed:
                raise ValueError(
                    f"amount: {resolution.amount} is not between 0.01 and the {owed} owed"
                )

    @workflow.query
    def status(self) -> AccountStatus:
        assert self._run is not None
        state = self._run.state
        coming = self._next_step()
        return AccountStatus(
            account_id=self._run.account_id,
            balance=account_balance(state.lines),
            credit=state.credit,
            refund_due=state.refund_due,
            cycle_start=state.cycle_start,
            steps_taken=state.steps_taken,
            next_step=coming[0] if coming else None,
            next_step_on=coming[1] if coming else None,
            paused=bool(state.disputes),
            open_disputes=sorted(state.disputes),
            statements=state.statements,
            encounters=sorted(state.patients),
        )

    # --- the cycle ---

    async def _catch_up(self) -> None:
        """Take in what arrived, settle credit, and take every step that is due today."""
        assert self._run is not None
        state, policy = self._run.state, self._run.policy
        for billed in self._arrived:
            if billed.encounter_id in state.patients:
                continue
            state.patients[billed.encounter_id] = billed.patient_name
            state.lines = [*state.lines, *billed.lines]
            self._record(f"encounter:{billed.encounter_id}", "account_encounter_added",
                         {"encounter_id": billed.encounter_id,
                          "balance": str(account_balance(billed.lines))})  # fmt: skip
        self._arrived = []
        if state.credit > 0:
            state.lines, state.credit, _ = apply_credit(state.lines, state.credit)
            if state.credit > state.refund_due:
                state.refund_due = state.credit
                self._record(f"refund:{len(state.payments)}:{state.credit}", "refund_due",
                             {"credit": str(state.credit)},
                             task=self._task("refund_due", f"the patient paid {state.credit} "
                                             "more than the account owes: refund it"))  # fmt: skip
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
        while (coming := self._next_step()) is not None and coming[1] <= today():
            await self._take(coming[0])
        await self._flush()

    def _next_step(self) -> tuple[DunningStep, date] | None:
        """The cycle's next step and its day; None with no cycle or while a dispute stands."""
        assert self._run is not None
        state = self._run.state
        if state.cycle_start is None or state.disputes:
            return None
        paused = days_paused(state.pauses, state.cycle_start, today())
        return next_step(self._run.policy, state.cycle_start, state.steps_taken, paused)

    def _next_wake(self) -> datetime | None:
        coming = self._next_step()
        if coming is None:
            return None
        return datetime.combine(coming[1], datetime.min.time(), UTC)

    async def _take(self, step: DunningStep) -> None:
        assert self._run is not None
        state = self._run.state
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
        assert self._run is not None and self._run.state.cycle_start is not None
        state, policy = self._run.state, self._run.policy
        await self._flush()  # the statement follows every step recorded before it
        start, collections_on = state.cycle_start, None
        if step is DunningStep.FINAL_NOTICE:
            paused = days_paused(state.pauses, start, today())
            final = next_step(policy, start, len(NOTICES), paused)
            collections_on = final[1] if final else None
        issued = await workflow.execute_activity_method(
            AccountActivities.issue_statement,
            StatementRequest(
                run=self._run,
                step=step,
                statement_date=today(),
                due_date=statement_due_date(policy, today()),
                collections_on=collections_on,
            ),
            **LEDGER_WRITE,
        )
        for line in state.lines:
            if line.balance > 0:
                state.first_billed.setdefault(line.encounter_id, today())
        state.last_statement, state.last_amount_due = today(), issued.amount_due
        state.statements = [*state.statements, (today(), step)]

    def _finished(self) -> bool:
        """Nothing owed, no credit, no dispute and nothing arrived: the account's work is
        done; the next encounter starts it again."""
        assert self._run is not None
        state = self._run.state
        return (
            not self._arrived
            and state.cycle_start is None
            and account_balance(state.lines) == 0
            and state.credit == 0
            and not state.disputes
        )

    # --- recording ---

    def _task(self, kind: str, reason: str) -> AccountTask:
        assert self._run is not None
        owing = [ln for ln in self._run.state.lines if ln.balance > 0] or self._run.state.lines
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
        while self._steps:
            step = self._steps.pop(0)
            await workflow.execute_activity_method(
                AccountActivities.record_step, step, **LEDGER_WRITE
            )

    def _receipt(self, payment: PatientPayment, duplicate: bool = False) -> PaymentReceipt:
        assert self._run is not None
        state = self._run.state
        return PaymentReceipt(
            payment_id=payment.payment_id,
            amount=payment.amount,
            applied=payment.applied,
            credit=state.credit,
            balance=account_balance(state.lines),
            duplicate=duplicate,
        )
