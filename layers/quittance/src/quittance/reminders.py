"""Invoice reminders: which registered open invoice gets which reminder today, each once,
and never one for an invoice that is paid, cancelled or disputed.

The daily run reads the open invoices from the ledger's sparse index (never a Scan), reads
each invoice again, then claims the reminder with one conditional write that also requires
the invoice to be unchanged (same version, still open). A payment committed between the
read and the claim changes the version, so the claim fails and the invoice is read again:
the payment wins. The claim is per (invoice, step), so a step is queued once however often
the job runs. Notify checks the invoice once more just before sending (see
``still_unpaid``), because a payment may also land while the job waits in its queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

from quittance.ledger.service import WriteConflict
from quittance.ledger.state import OPEN_STATUSES, InvoiceStatus
from quittance.models.messages import InvoiceReminderJob
from quittance.models.money import Money

MAX_ATTEMPTS = 8
REMINDER_LOG_RETENTION = timedelta(days=396)  # like the notification log: about 13 months

Outcome = Literal["queued", "already_sent", "settled", "no_customer", "not_due", "conflict"]


@dataclass(frozen=True)
class Cadence:
    """Days relative to the due date on which reminders go out (negative: before it).

    On any day, the step an invoice is at is the latest one whose day has come, until the
    next step's day (or, for the last step, ``catch_up_days`` after it): a missed daily run
    is caught up the next day, but an invoice never gets a stale step after a newer one.
    """

    offsets: tuple[int, ...] = (-3, 1, 7, 15)
    catch_up_days: int = 7

    def __post_init__(self) -> None:
        if not self.offsets:
            raise ValueError("a cadence needs at least one step")
        if list(self.offsets) != sorted(set(self.offsets)):
            raise ValueError("cadence offsets must be distinct and in increasing order")
        if self.catch_up_days < 1:
            raise ValueError("catch_up_days must be at least 1")

    def step_on(self, due: date, today: date) -> str | None:
        """The step an invoice due on ``due`` is at on ``today``, or None."""
        days = (today - due).days
        for index, offset in enumerate(self.offsets):
            until = (
                self.offsets[index + 1]
                if index + 1 < len(self.offsets)
                else offset + self.catch_up_days
            )
            if offset <= days < until:
                return step_name(offset)
        return None

    def due_dates_for(self, today: date) -> tuple[date, date]:
        """The earliest and latest due dates that can be at some step on ``today``."""
        return (
            today - timedelta(days=self.offsets[-1] + self.catch_up_days - 1),
            today - timedelta(days=self.offsets[0]),
        )


def step_name(offset: int) -> str:
    """``d-3``, ``d+1``: the step's name in keys, change ids and logs."""
    return f"d{offset:+d}"


@dataclass(frozen=True)
class InvoiceStanding:
    """What the reminder needs to know about an invoice, as read at send time."""

    number: str
    version: int
    status: InvoiceStatus
    cancelled: bool
    due_date: date | None
    balance_due: Money
    customer_id: str | None

    @property
    def awaits_payment(self) -> bool:
        return self.status in OPEN_STATUSES and not self.cancelled and self.due_date is not None


class ReminderBook(Protocol):
    def open_invoices_due(self, first_month: date, last_day: date) -> list[tuple[date, str]]: ...

    def invoice_standing(self, number: str) -> InvoiceStanding | None: ...

    def claim_reminder(
        self, number: str, step: str, *, version: int, at: datetime, expires_at: datetime
    ) -> bool:
        """Record the step as claimed if the invoice is still at ``version`` and awaiting
        payment. False if the step was already queued; WriteConflict if the invoice moved."""
        ...

    def reminder_queued(self, number: str, step: str, at: datetime) -> None: ...


class JobQueue(Protocol):
    def send(self, body: str, *, correlation_id: str) -> str: ...


@dataclass(frozen=True)
class ReminderResult:
    invoice_number: str
    step: str | None
    outcome: Outcome


def run_reminders(
    today: date,
    *,
    book: ReminderBook,
    queue: JobQueue,
    cadence: Cadence,
    now: datetime,
    correlation_id: str,
) -> list[ReminderResult]:
    """Queue today's reminders; one result per open invoice looked at."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must carry a timezone")
    first_due, last_due = cadence.due_dates_for(today)
    results = []
    for due, number in book.open_invoices_due(first_due, last_due):
        if due < first_due:
            continue
        results.append(
            _remind(
                number, today, book=book, queue=queue, cadence=cadence, now=now, cid=correlation_id
            )
        )
    return results


def _remind(
    number: str,
    today: date,
    *,
    book: ReminderBook,
    queue: JobQueue,
    cadence: Cadence,
    now: datetime,
    cid: str,
) -> ReminderResult:
    for _ in range(MAX_ATTEMPTS):
        # Read at send time, consistently: the index only said the invoice was open once.
        standing = book.invoice_standing(number)
        if standing is None or not standing.awaits_payment or standing.due_date is None:
            return ReminderResult(number, None, "settled")
        step = cadence.step_on(standing.due_date, today)
        if step is None:
            return ReminderResult(number, None, "not_due")
        if standing.customer_id is None:
            # Registered but no payment attempt yet: nobody to write to.
            return ReminderResult(number, step, "no_customer")
        try:
            claimed = book.claim_reminder(
                number,
                step,
                version=standing.version,
                at=now,
                expires_at=now + REMINDER_LOG_RETENTION,
            )
        except WriteConflict:
            continue  # the invoice changed under us (a payment?): read it again
        if not claimed:
            return ReminderResult(number, step, "already_sent")
        job = reminder_job(standing, step, now=now, correlation_id=cid)
        queue.send(job.model_dump_json(), correlation_id=cid)
        book.reminder_queued(number, step, now)
        return ReminderResult(number, step, "queued")
    return ReminderResult(number, None, "conflict")


def reminder_job(
    standing: InvoiceStanding, step: str, *, now: datetime, correlation_id: str
) -> InvoiceReminderJob:
    if standing.customer_id is None or standing.due_date is None:
        raise ValueError("a reminder needs the invoice's customer and due date")
    return InvoiceReminderJob(
        correlation_id=correlation_id,
        kind="invoice_reminder",
        # Notify sends once per change id: a step queued twice (a crash between the queue
        # and its record) still reaches the customer once.
        change_id=f"{standing.number}#reminder#{step}",
        customer_id=standing.customer_id,
        invoice_number=standing.number,
        amount=standing.balance_due,
        queued_at=now,
        due_date=standing.due_date,
    )


class Standings(Protocol):
    def invoice_standing(self, number: str) -> InvoiceStanding | None: ...


def why_not_send(job: InvoiceReminderJob, invoices: Standings) -> str | None:
    """Notify's last check before sending a reminder, as late as it can be: None when the
    invoice still awaits the amount the reminder states; ``"settled"`` when it is paid,
    cancelled or disputed by now; ``"balance_changed"`` when a partial payment came in
    meanwhile (its own notice told the customer the new balance)."""
    standing = invoices.invoice_standing(job.invoice_number)
    if standing is None or not standing.awaits_payment:
        return "settled"
    if standing.balance_due != job.amount:
        return "balance_changed"
    return None


def summary(results: Sequence[ReminderResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    return counts
