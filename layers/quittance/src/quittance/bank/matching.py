"""Which open invoice a bank credit pays, and the canonical payment event it becomes.

Order of evidence: the invoice number in the remittance information (structured first, then
free text, tolerant of spaces, dashes, dots, slashes, case and a leading "FACT"/"FACTURE"),
then, when no number is given, the exact outstanding amount together with the payer's name.
Anything else (no candidate, two candidates, several invoices whose outstanding amounts do
not add up to the credit, another currency) is not guessed: it waits for staff review.

A matched entry becomes ``payment.succeeded`` events from provider ``bank`` whose ids derive
from the bank's entry reference, so a re-read statement or an overlapping one produces the
same events, which the ledger applies once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from quittance.bank.statement import BankEntry
from quittance.models.events import (
    CustomerDetails,
    EventType,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
)
from quittance.models.money import Money

PROVIDER = "bank"
_WINDOW = 5
"""An invoice number written with separators spans at most this many tokens ("F 2026 0042")."""
_PREFIXES = ("FACTURE", "FACT")


@dataclass(frozen=True)
class OpenInvoice:
    """A registered invoice still waiting for money. The customer's name is sealed in their
    profile: ``customer_name`` when it is already at hand, else ``customer_id`` to open the
    profile with, only if the amount-and-name rule needs it (:class:`InvoiceIndex`)."""

    number: str
    outstanding: Money
    customer_reference: str
    customer_name: str | None = None
    customer_id: str | None = None


NameOf = Callable[[OpenInvoice], str | None]


def known_name(invoice: OpenInvoice) -> str | None:
    return invoice.customer_name


class ReviewReason(StrEnum):
    UNKNOWN = "unknown"
    """No invoice number, and no open invoice of that amount for that payer."""
    AMBIGUOUS = "ambiguous"
    """Several open invoices fit the amount and the payer."""
    SPLIT_MISMATCH = "split_mismatch"
    """Several invoice numbers whose outstanding amounts do not add up to the credit."""
    CURRENCY = "currency"


@dataclass(frozen=True)
class Allocation:
    invoice: OpenInvoice
    amount: Money


@dataclass(frozen=True)
class Matched:
    entry: BankEntry
    allocations: tuple[Allocation, ...]
    by: str
    """"reference" or "amount_and_name"."""


@dataclass(frozen=True)
class NeedsReview:
    entry: BankEntry
    reason: ReviewReason
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotACredit:
    """A debit, or a credit the bank has not booked yet: nothing to settle."""

    entry: BankEntry


Decision = Matched | NeedsReview | NotACredit


def reference_key(text: str) -> str:
    """An invoice number as compared: letters and digits only, upper case, no accents."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]", "", folded.upper())


def name_key(text: str | None) -> str:
    """A payer's name as compared: words sorted ("MARTIN CAMILLE" is "Camille Martin")."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(sorted(re.findall(r"[A-Z0-9]+", folded.upper())))


class InvoiceIndex:
    """Open invoices indexed by reference key and by (amount, currency).

    A customer's name is asked of ``names`` only for an invoice whose outstanding amount is
    that of a credit naming no invoice, once per invoice: opening a sealed profile is a read
    and a KMS call, so an import asks for the few names the amount-and-name rule compares,
    not for every customer with an open invoice."""

    def __init__(self, invoices: Iterable[OpenInvoice], names: NameOf = known_name) -> None:
        self._by_key: dict[str, OpenInvoice] = {}
        self._by_amount: dict[tuple[int, str], list[OpenInvoice]] = {}
        self._names = names
        self._name_keys: dict[str, str] = {}
        for invoice in invoices:
            self._by_key[reference_key(invoice.number)] = invoice
            key = (invoice.outstanding.amount_minor, invoice.outstanding.currency)
            self._by_amount.setdefault(key, []).append(invoice)

    def mentioned(self, lines: Sequence[str]) -> list[OpenInvoice]:
        """Invoices named in the remittance lines, in the order they are first named."""
        found: dict[str, OpenInvoice] = {}
        for line in lines:
            folded = unicodedata.normalize("NFKD", line).encode("ascii", "ignore").decode()
            tokens = re.findall(r"[A-Z0-9]+", folded.upper())
            for start in range(len(tokens)):
                joined = ""
                for end in range(start, min(start + _WINDOW, len(tokens))):
                    joined += tokens[end]
                    for candidate in (joined, *_unprefixed(joined)):
                        invoice = self._by_key.get(candidate)
                        if invoice is not None:
                            found.setdefault(invoice.number, invoice)
        return list(found.values())

    def settled(self, *invoices: OpenInvoice) -> None:
        """Paid by an entry of this import: no longer a fit for another entry's amount and
        name (a second transfer that names the invoice still lands on it, as an excess)."""
        for invoice in invoices:
            key = (invoice.outstanding.amount_minor, invoice.outstanding.currency)
            rest = [i for i in self._by_amount.get(key, ()) if i.number != invoice.number]
            if rest:
                self._by_amount[key] = rest
            else:
                self._by_amount.pop(key, None)

    def by_amount_and_name(self, amount: Money, name: str | None) -> list[OpenInvoice]:
        wanted = name_key(name)
        if not wanted:
            return []
        fitting = self._by_amount.get((amount.amount_minor, amount.currency), ())
        return [i for i in fitting if self._name_key(i) == wanted]

    def _name_key(self, invoice: OpenInvoice) -> str:
        if invoice.number not in self._name_keys:
            self._name_keys[invoice.number] = name_key(self._names(invoice))
        return self._name_keys[invoice.number]


def _unprefixed(joined: str) -> tuple[str, ...]:
    return tuple(joined[len(p) :] for p in _PREFIXES if joined.startswith(p) and joined != p)


def decide(entry: BankEntry, index: InvoiceIndex) -> Decision:
    if entry.direction != "credit" or entry.status != "BOOK":
        return NotACredit(entry)
    named = index.mentioned(entry.remittance)
    if len(named) == 1:
        return _single(entry, named[0], "reference")
    if len(named) > 1:
        return _several(entry, named)
    fitting = index.by_amount_and_name(entry.amount, entry.payer_name)
    if len(fitting) == 1:
        return _single(entry, fitting[0], "amount_and_name")
    if len(fitting) > 1:
        return NeedsReview(entry, ReviewReason.AMBIGUOUS, tuple(i.number for i in fitting))
    return NeedsReview(entry, ReviewReason.UNKNOWN)


def _several(entry: BankEntry, named: list[OpenInvoice]) -> Decision:
    """One transfer for several invoices is split only when it pays each exactly."""
    numbers = tuple(i.number for i in named)
    if any(i.outstanding.currency != entry.amount.currency for i in named):
        return NeedsReview(entry, ReviewReason.CURRENCY, numbers)
    if sum(i.outstanding.amount_minor for i in named) != entry.amount.amount_minor:
        return NeedsReview(entry, ReviewReason.SPLIT_MISMATCH, numbers)
    return Matched(entry, tuple(Allocation(i, i.outstanding) for i in named), "reference")


def _single(entry: BankEntry, invoice: OpenInvoice, by: str) -> Decision:
    if invoice.outstanding.currency != entry.amount.currency:
        return NeedsReview(entry, ReviewReason.CURRENCY, (invoice.number,))
    # Partial or in excess: the ledger settles it as partial or overpaid, like any payment.
    return Matched(entry, (Allocation(invoice, entry.amount),), by)


def payment_events(
    matched: Matched, *, calendar: str = "Europe/Paris", livemode: bool = True
) -> list[PaymentEvent]:
    """One ``payment.succeeded`` per invoice the credit pays, with the transfer's proofs."""
    entry = matched.entry
    day = entry.value_date or entry.booking_date
    if day is None:
        raise ValueError(f"bank entry {entry.reference} has neither a value nor a booking date")
    # Money reaches the account on the value date; noon there is a time inside that day.
    occurred = datetime.combine(day, time(12), tzinfo=ZoneInfo(calendar)).astimezone(UTC)
    split = len(matched.allocations) > 1
    events = []
    for allocation in matched.allocations:
        suffix = f"#{allocation.invoice.number}" if split else ""
        payment_id = f"{entry.reference}{suffix}"
        events.append(
            PaymentEvent(
                event_id=f"{payment_id}:succeeded",
                provider=PROVIDER,
                type=EventType.PAYMENT_SUCCEEDED,
                occurred_at=occurred,
                payment_id=payment_id,
                invoice_number=allocation.invoice.number,
                amount=allocation.amount,
                method=PaymentMethod(
                    kind=MethodKind.SEPA_TRANSFER,
                    transaction_id=entry.end_to_end_id,
                    transfer_reference=entry.reference,
                    iban_masked=entry.payer_iban_masked,
                    value_date=entry.value_date,
                ),
                # The invoice's registered customer; the payer's name is not copied anywhere.
                customer=CustomerDetails(reference=allocation.invoice.customer_reference),
                livemode=livemode,
            )
        )
    return events
