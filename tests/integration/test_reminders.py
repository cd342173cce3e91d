"""Invoice reminders against moto with the template's ledger table and notifications queue:
the cadence day by day, each step once, never for a paid, cancelled or disputed invoice,
and a payment that lands at the very moment a reminder is claimed (or sent) wins."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from quittance.aws.ledger_table import LedgerTable
from quittance.aws.mailer import SesMailer
from quittance.aws.queue import SqsQueue
from quittance.ledger.invoices import InvoiceLine, InvoiceRegistration, register_invoice
from quittance.ledger.service import apply_event
from quittance.links.tokens import LinkSigner
from quittance.models.events import (
    CustomerDetails,
    Dispute,
    EventType,
    Failure,
    FailureCategory,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
)
from quittance.models.messages import NotificationJob, parse_notification_job
from quittance.models.money import Money
from quittance.notifications.dispatch import CustomerLinks, NotifyPorts, notify_customer
from quittance.notifications.email_kit import Letterhead, SellerContact, Sender
from quittance.reminders import Cadence, run_reminders

from .conftest import MotoStack
from .pipeline import sealed_customers

DUE = date(2026, 12, 10)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
AMOUNT_DUE = 48000  # 400,00 € + 20 % VAT


def _eur(cents: int) -> Money:
    return Money(amount_minor=cents, currency="EUR")


class World:
    """The ledger, customers and queue of one moto stack, and ways to change them."""

    def __init__(self, stack: MotoStack) -> None:
        self.stack = stack
        dynamodb = stack.client("dynamodb")
        dynamodb.meta.events.register("before-call.dynamodb.Scan", _no_scan)
        self.ledger = LedgerTable(stack.resource("LedgerTable"), dynamodb)
        # Contact data is sealed with the customer's key, as intake writes it.
        self.customers = sealed_customers(stack)
        self.queue = SqsQueue(stack.resource("NotificationsQueue"), stack.client("sqs"))
        self._events = 0

    def register(self, number: str, due: date = DUE, cancelled: bool = False) -> None:
        register_invoice(
            number,
            InvoiceRegistration(
                customer_reference="cus_reminded",
                currency="EUR",
                lines=(
                    InvoiceLine(
                        description="Archive binding",
                        quantity=Decimal(1),
                        unit_price_minor=40000,
                        vat_rate=Decimal(20),
                    ),
                ),
                issue_date=due - timedelta(days=30),
                due_date=due,
                nature="services",
                cancelled=cancelled,
            ),
            book=self.ledger,
            now=NOW,
        )

    def event(self, number: str, kind: EventType, cents: int, **kw: Any) -> None:
        self._events += 1
        apply_event(
            PaymentEvent(
                event_id=f"evt-{number}-{self._events}",
                provider="stripe",
                type=kind,
                occurred_at=NOW + timedelta(seconds=self._events),
                payment_id=kw.pop("payment_id", f"pi-{number}-{self._events}"),
                invoice_number=number,
                amount=_eur(cents),
                method=PaymentMethod(kind=MethodKind.CARD, card_brand="visa", card_last4="4242"),
                customer=CustomerDetails(
                    reference="cus_reminded",
                    name="Léa Martin",
                    email="lea.martin@example.com",
                    locale="fr",
                ),
                **kw,
            ),
            store=self.ledger,
            profiles=self.customers,
            now=NOW,
        )

    def pay(self, number: str, cents: int) -> None:
        self.event(number, EventType.PAYMENT_SUCCEEDED, cents)

    def run(self, today: date, book: Any = None) -> list[Any]:
        return run_reminders(
            today,
            book=book or self.ledger,
            queue=self.queue,
            cadence=Cadence(),
            now=datetime(today.year, today.month, today.day, 8, tzinfo=UTC),
            correlation_id=f"test-{today}",
        )

    def queued(self) -> list[NotificationJob]:
        jobs = []
        sqs = self.stack.client("sqs")
        url = self.stack.resource("NotificationsQueue")
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return jobs
            for message in messages:
                jobs.append(parse_notification_job(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _no_scan(**_: Any) -> None:
    raise AssertionError("reminders must find open invoices by index, never by a Scan")


@pytest.fixture
def world(moto_stack: MotoStack) -> World:
    return World(moto_stack)


def _open_with_customer(world: World, number: str, due: date = DUE) -> None:
    """A registered invoice with a first partial payment: open, customer known."""
    world.register(number, due)
    world.pay(number, 8000)


# --- cadence ----------------------------------------------------------------------------


def test_each_step_goes_out_once_on_its_day_even_with_two_runs_a_day(world: World) -> None:
    # Given an open invoice due on 10 December with 400,00 € still due
    _open_with_customer(world, "F-CADENCE")
    sent: dict[date, list[str]] = {}
    # When the job runs twice every day from 30 days before to 30 days after
    for offset in range(-30, 31):
        day = DUE + timedelta(days=offset)
        world.run(day)
        world.run(day)
        jobs = world.queued()
        if jobs:
            sent[day] = [job.change_id for job in jobs]
    # Then exactly one reminder went out 3 days before, and 1, 7 and 15 days after
    assert sent == {
        date(2026, 12, 7): ["F-CADENCE#reminder#d-3"],
        date(2026, 12, 11): ["F-CADENCE#reminder#d+1"],
        date(2026, 12, 17): ["F-CADENCE#reminder#d+7"],
        date(2026, 12, 25): ["F-CADENCE#reminder#d+15"],
    }
    steps = {r["step"]: r["state"] for r in world.ledger.reminders("F-CADENCE")}
    assert steps == {"d-3": "queued", "d+1": "queued", "d+7": "queued", "d+15": "queued"}


def test_the_job_carries_the_balance_due_and_the_due_date(world: World) -> None:
    _open_with_customer(world, "F-JOB")
    world.run(DUE - timedelta(days=3))
    [job] = world.queued()
    assert job.kind == "invoice_reminder"
    assert job.amount == _eur(AMOUNT_DUE - 8000)
    assert job.due_date == DUE
    assert job.document_number is None  # a reminder links to no document
    assert job.customer_id.startswith("C-")


def test_a_missed_run_is_caught_up_the_next_day_without_sending_a_stale_step(
    world: World,
) -> None:
    _open_with_customer(world, "F-LATE")
    # The run of 11 December (d+1) never happened; on the 12th the d+1 step still goes out
    world.run(DUE + timedelta(days=2))
    assert [j.change_id for j in world.queued()] == ["F-LATE#reminder#d+1"]
    # Runs missed for a whole week: on the 18th only d+7 goes out, not d+1 again
    world.run(DUE + timedelta(days=8))
    assert [j.change_id for j in world.queued()] == ["F-LATE#reminder#d+7"]


def test_invoices_past_the_cadence_are_left_alone(world: World) -> None:
    _open_with_customer(world, "F-OLD", due=DUE - timedelta(days=60))
    assert [r.outcome for r in world.run(DUE) if r.invoice_number == "F-OLD"] == []
    assert world.queued() == []


def test_a_registered_invoice_whose_customer_is_unknown_is_not_reminded(world: World) -> None:
    world.register("F-NOBODY")
    [result] = world.run(DUE - timedelta(days=3))
    assert (result.invoice_number, result.outcome) == ("F-NOBODY", "no_customer")
    assert world.queued() == []


# --- never for paid, cancelled or disputed -------------------------------------------------


@pytest.mark.parametrize(
    "settle",
    [
        pytest.param(lambda w, n: w.pay(n, AMOUNT_DUE - 8000), id="paid"),
        pytest.param(lambda w, n: w.pay(n, AMOUNT_DUE), id="overpaid"),
        pytest.param(lambda w, n: w.register(n, cancelled=True), id="cancelled"),
        pytest.param(
            lambda w, n: w.event(
                n,
                EventType.DISPUTE_OPENED,
                8000,
                payment_id=f"pi-{n}-2",
                dispute=Dispute(dispute_id=f"dp-{n}", amount=_eur(8000)),
            ),
            id="disputed",
        ),
    ],
)
def test_no_reminder_ever_for_a_paid_cancelled_or_disputed_invoice(
    world: World, settle: Callable[[World, str], None]
) -> None:
    # Given an open invoice whose customer is known, then settled, cancelled or disputed
    _open_with_customer(world, "F-DONE")
    settle(world, "F-DONE")
    assert world.ledger.invoice_standing("F-DONE").status.value not in {  # type: ignore[union-attr]
        "open",
        "partially_paid",
    }
    # When the job runs on every day of the cadence and around it
    for offset in range(-5, 25):
        world.run(DUE + timedelta(days=offset))
    # Then nothing was ever queued nor claimed
    assert world.queued() == []
    assert world.ledger.reminders("F-DONE") == []


# --- the race with a payment ---------------------------------------------------------------


class PaymentLandsDuringTheClaim(LedgerTable):
    """The ledger as the reminder sees it, with the invoice's payment committed by the
    ledger function between the reminder's read of the invoice and its conditional write."""

    def __init__(self, world: World, number: str) -> None:
        super().__init__(world.ledger.name, world.ledger._client)
        self.world = world
        self.number = number
        self.claims: list[int] = []

    def claim_reminder(
        self, number: str, step: str, *, version: int, at: datetime, expires_at: datetime
    ) -> bool:
        if not self.claims:
            self.world.pay(self.number, AMOUNT_DUE - 8000)  # the whole balance, right now
        self.claims.append(version)
        return super().claim_reminder(number, step, version=version, at=at, expires_at=expires_at)


def test_a_payment_landing_as_the_reminder_is_claimed_wins(world: World) -> None:
    # Given an open invoice whose reminder is due today
    _open_with_customer(world, "F-RACE")
    version_read = world.ledger.invoice_standing("F-RACE").version  # type: ignore[union-attr]
    book = PaymentLandsDuringTheClaim(world, "F-RACE")
    # When the payment of the balance commits after the reminder read the invoice
    [result] = world.run(DUE - timedelta(days=3), book=book)
    # Then the claim made against the old version was refused, the invoice read again,
    # found paid, and no reminder queued or recorded
    assert book.claims == [version_read]
    assert result.outcome == "settled"
    assert world.ledger.invoice_standing("F-RACE").status.value == "paid"  # type: ignore[union-attr]
    assert world.queued() == []
    assert world.ledger.reminders("F-RACE") == []


def test_a_failed_attempt_during_the_claim_only_makes_it_read_again(world: World) -> None:
    # Given a change of the invoice that leaves it unpaid (a declined card) during the claim
    _open_with_customer(world, "F-DECLINED")

    class DeclinedDuringTheClaim(PaymentLandsDuringTheClaim):
        def claim_reminder(self, number: str, step: str, **kw: Any) -> bool:
            if not self.claims:
                self.world.event(
                    self.number,
                    EventType.PAYMENT_FAILED,
                    40000,
                    failure=Failure(category=FailureCategory.INSUFFICIENT_FUNDS),
                )
            self.claims.append(kw["version"])
            return LedgerTable.claim_reminder(self, number, step, **kw)

    book = DeclinedDuringTheClaim(world, "F-DECLINED")
    [result] = world.run(DUE - timedelta(days=3), book=book)
    # Then the reminder still goes out, once, claimed against the new version
    assert result.outcome == "queued"
    assert len(book.claims) == 2 and book.claims[1] == book.claims[0] + 1
    assert [j.change_id for j in world.queued()] == ["F-DECLINED#reminder#d-3"]


def test_a_step_whose_job_was_never_queued_is_claimed_again_next_run(world: World) -> None:
    _open_with_customer(world, "F-CRASH")

    class QueueDown:
        def send(self, body: str, *, correlation_id: str) -> str:
            raise RuntimeError("queue unavailable")

    with pytest.raises(RuntimeError):
        run_reminders(
            DUE - timedelta(days=3),
            book=world.ledger,
            queue=QueueDown(),
            cadence=Cadence(),
            now=NOW,
            correlation_id="crash",
        )
    assert [r["state"] for r in world.ledger.reminders("F-CRASH")] == ["claimed"]
    world.run(DUE - timedelta(days=3))
    assert [j.change_id for j in world.queued()] == ["F-CRASH#reminder#d-3"]
    assert [r["state"] for r in world.ledger.reminders("F-CRASH")] == ["queued"]


def _notify(world: World, job: NotificationJob) -> Any:
    return notify_customer(
        job,
        NotifyPorts(
            profiles=world.customers,
            mailer=SesMailer(
                world.stack.client("sesv2"), world.stack.resource("EmailConfigurationSet")
            ),
            log=world.ledger,
            invoices=world.ledger,
        ),
        letterhead=Letterhead.of(
            Sender(email="receipts@example.com", name="Atelier Quittance SAS"),
            SellerContact("Atelier Quittance SAS", "contact@example.com", "+33 1 23 45 67 89"),
        ),
        links=CustomerLinks(
            LinkSigner({"k1": b"k" * 32}, "k1"), "https://pay.example.com", timedelta(days=396)
        ),
        now=NOW,
    )


def _ses_sent(world: World) -> int:
    from moto.backends import get_backend

    backend = get_backend("ses")["123456789012"]["eu-west-3"]
    return len(backend.sent_messages)


def test_a_payment_landing_between_queueing_and_sending_stops_the_email(world: World) -> None:
    # Given a reminder queued for an open invoice
    _open_with_customer(world, "F-LATE-PAY")
    world.run(DUE - timedelta(days=3))
    [job] = world.queued()
    before = _ses_sent(world)
    # When the customer pays before notify picks the job up
    world.pay("F-LATE-PAY", AMOUNT_DUE - 8000)
    (delivery,) = _notify(world, job)  # the customer's one channel: email
    # Then notify looks at the invoice once more and sends nothing
    assert (delivery.status, delivery.reason) == ("skipped", "settled")
    assert _ses_sent(world) == before
    [logged] = [m for m in world.ledger.messages("F-LATE-PAY") if m["kind"] == "invoice_reminder"]
    assert (logged["status"], logged["reason"]) == ("skipped", "settled")


def test_an_unpaid_invoice_reminder_is_sent_once_by_notify(world: World) -> None:
    _open_with_customer(world, "F-SENT")
    world.run(DUE - timedelta(days=3))
    [job] = world.queued()
    before = _ses_sent(world)
    (first,) = _notify(world, job)
    (again,) = _notify(world, job)  # a redelivered job
    assert first.status == "sent"
    assert (again.status, again.reason) == ("sent", "already_sent")
    assert _ses_sent(world) == before + 1
    messages = world.ledger.messages("F-SENT")
    assert json.dumps(messages).count("lea.martin") == 0  # the log holds no contact data
