"""The ledger table as one object, for the handlers and tools that use several of its
concepts: each concept is its own adapter over the same table (see ``ledger_items`` for the
item layout), and this class only puts them together."""

from __future__ import annotations

from quittance.aws.invoice_events import InvoiceEvents
from quittance.aws.invoice_registrations import InvoiceRegistrations
from quittance.aws.ledger_items import COUNTER_SK, INVOICE_SK, invoice_pk
from quittance.aws.ledger_retirement import LedgerRetirement
from quittance.aws.message_log import MessageLog
from quittance.aws.receipt_records import ReceiptRecords
from quittance.aws.reminder_claims import ReminderClaims
from quittance.aws.series_counters import SeriesCounters

__all__ = ["COUNTER_SK", "INVOICE_SK", "LedgerTable", "invoice_pk"]


class LedgerTable(
    InvoiceEvents,
    InvoiceRegistrations,
    ReceiptRecords,
    SeriesCounters,
    MessageLog,
    ReminderClaims,
    LedgerRetirement,
):
    """``LedgerTable(name, client)``: every port the ledger table serves, on one object."""
