"""Import a statement: every booked credit is decided once per bank entry reference, matched
credits go on the payment-events queue as any gateway's payments do, the rest wait for staff.

Crash- and replay-safe: an entry's decision (with the events it produced) is recorded before
those events are published, and a known entry is never decided again; its recorded events
are published again instead, which the deduplicating publisher and the ledger absorb. So a
statement imported twice, or two overlapping statements, change nothing the second time,
even though the invoices the first import paid are no longer open.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from quittance.bank.matching import (
    Allocation,
    InvoiceIndex,
    Matched,
    NeedsReview,
    NotACredit,
    OpenInvoice,
    decide,
    payment_events,
)
from quittance.bank.statement import BankEntry, Statement
from quittance.errors import NotFound, PayloadInvalid
from quittance.models.events import PaymentEvent, UtcDateTime
from quittance.models.messages import PaymentEventMessage

EntryState = Literal["matched", "review", "ignored"]
_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,300}$")


def entry_id(reference: str) -> str:
    """The bank reference as one URL path segment: base64url of its UTF-8, unpadded.

    A camt.053 ``AcctSvcrRef``/``NtryRef`` may hold "/", " ", "+" or "#", and API Gateway
    HTTP APIs decode the path before routing (a "%2F" becomes a segment separator and the
    route does not match), so the staff API's URLs carry this id instead; reversible, so no
    lookup table is kept. The CLI and the review list show the reference itself."""
    return base64.urlsafe_b64encode(reference.encode()).decode().rstrip("=")


def reference_of(entry: str) -> str:
    """The bank reference an :func:`entry_id` names; NotFound for anything else."""
    unknown = NotFound(f"no bank entry with id {entry[:60]}")
    if not _ENTRY_ID.fullmatch(entry) or len(entry) % 4 == 1:
        raise unknown
    try:
        reference = base64.urlsafe_b64decode(entry + "=" * (-len(entry) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise unknown from None  # not an id this service issued
    if not reference or entry_id(reference) != entry:
        raise unknown
    return reference


class EntryRecord(BaseModel):
    """What quittance decided about one bank entry, and who decided."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry: BankEntry
    state: EntryState
    reason: str | None = None
    """Why it waits (unknown, ambiguous, split_mismatch, currency) or why staff ignored it."""
    candidates: tuple[str, ...] = ()
    invoices: tuple[str, ...] = ()
    events: tuple[PaymentEvent, ...] = ()
    statement: str = Field(max_length=200)
    recorded_at: UtcDateTime
    decided_by: str
    """``matching`` (reference or amount_and_name), or the staff member's IAM identity."""


class OpenInvoices(Protocol):
    def open_invoices(self, today: date) -> Sequence[OpenInvoice]:
        """Registered invoices still waiting for money, with what is outstanding."""

    def open_invoice(self, number: str) -> OpenInvoice | None: ...

    def customer_name(self, invoice: OpenInvoice) -> str | None:
        """The registered customer's name (opened from their sealed profile when the
        invoice does not carry it)."""


class EntryBook(Protocol):
    def record(self, record: EntryRecord) -> EntryRecord | None:
        """Keep the record unless its entry is known: then answer what is already kept."""

    def get(self, reference: str) -> EntryRecord | None: ...

    def resolve(self, record: EntryRecord) -> bool:
        """Replace a ``review`` record by its resolution; False if it no longer waits."""

    def waiting(self) -> list[EntryRecord]:
        """The review list, oldest first."""


class PaymentEvents(Protocol):
    def publish_once(self, message: PaymentEventMessage) -> bool: ...


class ImportReport(BaseModel):
    """What one import did: the staff API's answer, and the status record of an upload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    statement: str
    entries: int
    matched: int
    """Entries matched now (by reference or by amount and name)."""
    to_review: int
    not_credits: int
    """Debits and entries the bank has not booked."""
    already_known: int
    events_published: int
    by: dict[str, int]


def import_statement(
    statement: Statement,
    *,
    invoices: OpenInvoices,
    book: EntryBook,
    events: PaymentEvents,
    now: datetime,
    correlation_id: str,
    calendar: str = "Europe/Paris",
) -> ImportReport:
    index = InvoiceIndex(invoices.open_invoices(now.date()), names=invoices.customer_name)
    counts: Counter[str] = Counter()
    published = 0
    for entry in statement.entries:
        decision = decide(entry, index)
        if isinstance(decision, NotACredit):
            counts["not_credit"] += 1
            continue
        record = _record_of(decision, statement.message_id, now, calendar)
        known = book.record(record)
        if known is not None:
            counts["known"] += 1
            record = known
        elif isinstance(decision, Matched):
            counts["matched"] += 1
            counts[decision.by] += 1
            index.settled(*(a.invoice for a in decision.allocations))
        else:
            counts["review"] += 1
        published += _publish(record, events, now, correlation_id)
    return ImportReport(
        statement=statement.message_id,
        entries=len(statement.entries),
        matched=counts["matched"],
        to_review=counts["review"],
        not_credits=counts["not_credit"],
        already_known=counts["known"],
        events_published=published,
        by={k: counts[k] for k in ("reference", "amount_and_name")},
    )


def ignore(
    reference: str, reason: str, *, book: EntryBook, actor: str, now: datetime
) -> EntryRecord:
    """Staff take an entry off the review list without settling anything (a refund by the
    bank, a transfer between the business's own accounts); the reason is kept."""
    if not reason.strip():
        raise PayloadInvalid("say why the entry is ignored")
    waiting = _waiting(book, reference)
    resolved = waiting.model_copy(
        update={
            "state": "ignored",
            "reason": reason.strip()[:500],
            "recorded_at": now,
            "decided_by": actor,
        }
    )
    if not book.resolve(resolved):
        raise PayloadInvalid(f"entry {reference} no longer waits for review")
    return resolved


def _waiting(book: EntryBook, reference: str) -> EntryRecord:
    record = book.get(reference)
    if record is None:
        raise NotFound(f"no bank entry {reference}")
    if record.state != "review":
        raise PayloadInvalid(f"entry {reference} is already {record.state}")
    return record


def _allocate(entry: BankEntry, chosen: Sequence[OpenInvoice]) -> tuple[Allocation, ...]:
    allocations: list[Allocation] = []
    rest = entry.amount.amount_minor
    for position, invoice in enumerate(chosen):
        last = position == len(chosen) - 1
        share = rest if last else min(rest, invoice.outstanding.amount_minor)
        if share <= 0:
            raise PayloadInvalid(
                f"entry {entry.reference} is used up before invoice {invoice.number}"
            )
        allocations.append(
            Allocation(invoice, entry.amount.model_copy(update={"amount_minor": share}))
        )
        rest -= share
    return tuple(allocations)


def _record_of(
    decision: Matched | NeedsReview, statement: str, now: datetime, calendar: str
) -> EntryRecord:
    if isinstance(decision, Matched):
        return EntryRecord(
            entry=decision.entry,
            state="matched",
            invoices=tuple(a.invoice.number for a in decision.allocations),
            events=tuple(payment_events(decision, calendar=calendar)),
            statement=statement,
            recorded_at=now,
            decided_by=f"matching:{decision.by}",
        )
    return EntryRecord(
        entry=decision.entry,
        state="review",
        reason=decision.reason.value,
        candidates=decision.candidates,
        statement=statement,
        recorded_at=now,
        decided_by="matching",
    )


def _publish(record: EntryRecord, events: PaymentEvents, now: datetime, correlation_id: str) -> int:
    sent = 0
    for event in record.events:
        message = PaymentEventMessage(correlation_id=correlation_id, received_at=now, event=event)
        sent += events.publish_once(message)
    return sent


@dataclass(frozen=True)
class BankDesk:
    """The bank's ports, wired once: what the staff API and the drop-folder import call."""

    invoices: OpenInvoices
    book: EntryBook
    events: PaymentEvents
    calendar: str = "Europe/Paris"

    def import_statement(
        self, statement: Statement, *, now: datetime, correlation_id: str
    ) -> ImportReport:
        return import_statement(
            statement,
            invoices=self.invoices,
            book=self.book,
            events=self.events,
            now=now,
            correlation_id=correlation_id,
            calendar=self.calendar,
        )

    def match(
        self,
        reference: str,
        invoice_numbers: Sequence[str],
        *,
        actor: str,
        now: datetime,
        correlation_id: str,
    ) -> EntryRecord:
        """Staff say which invoice(s) a waiting entry pays; split in the order given, each
        invoice its outstanding amount, the last one the rest (partial or overpaid)."""
        waiting = _waiting(self.book, reference)
        if not invoice_numbers:
            raise PayloadInvalid("name at least one invoice")
        found = [self.invoices.open_invoice(n) for n in invoice_numbers]
        missing = [n for n, i in zip(invoice_numbers, found, strict=True) if i is None]
        if missing:
            raise NotFound(f"no open registered invoice {', '.join(missing)}")
        chosen = [i for i in found if i is not None]
        entry = waiting.entry
        if any(i.outstanding.currency != entry.amount.currency for i in chosen):
            raise PayloadInvalid(f"entry {reference} is in {entry.amount.currency}")
        allocations = _allocate(entry, chosen)
        matched = Matched(entry, allocations, "staff")
        resolved = waiting.model_copy(
            update={
                "state": "matched",
                "invoices": tuple(a.invoice.number for a in allocations),
                "events": tuple(payment_events(matched, calendar=self.calendar)),
                "recorded_at": now,
                "decided_by": actor,
            }
        )
        if not self.book.resolve(resolved):
            raise PayloadInvalid(f"entry {reference} no longer waits for review")
        _publish(resolved, self.events, now, correlation_id)
        return resolved

    def ignore(self, reference: str, reason: str, *, actor: str, now: datetime) -> EntryRecord:
        return ignore(reference, reason, book=self.book, actor=actor, now=now)

    def waiting(self) -> list[EntryRecord]:
        return self.book.waiting()
