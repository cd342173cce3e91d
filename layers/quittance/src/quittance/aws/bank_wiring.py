"""The bank desk's adapters, built from its settings (shared by the staff API's bank routes
and the drop-folder import, which read and write the same things)."""

from __future__ import annotations

from quittance.aws.bank_entries import BankEntries
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.idempotency import persistence_layer
from quittance.aws.open_invoices import OpenInvoiceIndex
from quittance.aws.publisher import DedupedPublisher
from quittance.aws.queue import SqsQueue
from quittance.bank.review import BankDesk
from quittance.clock import Clock
from quittance.settings import BankSettings


def open_invoices(settings: BankSettings, clock: Clock) -> OpenInvoiceIndex:
    dynamodb = make_client("dynamodb", settings.aws_region)
    # Opens the registered customers' names for amount-and-name matching; mints no key.
    keyring = CustomerKeyring(
        settings.customers_table,
        dynamodb,
        make_client("kms", settings.aws_region),
        None,
        clock=clock.now,
    )
    return OpenInvoiceIndex(
        settings.ledger_table,
        dynamodb,
        CustomersTable(settings.customers_table, dynamodb, keyring),
    )


def payment_events(settings: BankSettings) -> DedupedPublisher:
    """The payment-events queue, once per event as intake queues gateways' events. The handler
    registers its Lambda context with the publisher's idempotency config, so an event whose
    publication is cut short by the timeout is not taken for one still in progress."""
    region = settings.aws_region
    return DedupedPublisher(
        SqsQueue(settings.payment_events_queue_url, make_client("sqs", region)),
        persistence_layer(settings.idempotency_table, make_client("dynamodb", region)),
        window_seconds=settings.dedupe_days * 86400,
    )


def bank_desk(
    settings: BankSettings,
    clock: Clock,
    events: DedupedPublisher,
    invoices: OpenInvoiceIndex | None = None,
) -> BankDesk:
    return BankDesk(
        invoices=invoices or open_invoices(settings, clock),
        book=BankEntries(settings.ledger_table, make_client("dynamodb", settings.aws_region)),
        events=events,
        calendar=settings.fiscal_timezone,
    )
