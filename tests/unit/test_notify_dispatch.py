"""notify picks the message a ledger change calls for, and never sends one twice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from quittance.errors import SentNotLogged
from quittance.links.tokens import LinkSigner
from quittance.models.customer import CustomerProfile
from quittance.models.messages import NotificationJob, NotificationKind, parse_notification_job
from quittance.models.money import Money
from quittance.notifications.dispatch import (
    EMAIL_COMPOSERS,
    CustomerLinks,
    MessageOptions,
    NotifyPorts,
    compose_email,
    notify_customer,
)
from quittance.notifications.email_kit import Letterhead, SellerContact, Sender
from tests.unit.jobs import notification_job

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Profiles:
    def __init__(self, profile: dict[str, Any] | None) -> None:
        self._profile = profile

    def profile(self, customer_id: str) -> CustomerProfile | None:
        return None if self._profile is None else CustomerProfile.model_validate(self._profile)


class Mailer:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage, tags: Mapping[str, str] | None = None) -> str:
        self.sent.append(message)
        return f"ses-{len(self.sent)}"


class Log:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], dict[str, Any]] = {}

    def message_sent(self, invoice_number: str, change_id: str, channel: str) -> bool:
        entry = self.entries.get((invoice_number, change_id, channel))
        return bool(entry and entry["status"] == "sent")

    def record_message(
        self, invoice_number: str, change_id: str, channel: str, values: dict[str, Any],
        expires_at: datetime,
    ) -> None:  # fmt: skip
        self.entries[(invoice_number, change_id, channel)] = values


def job(kind: str, **kw: Any) -> NotificationJob:
    base: dict[str, Any] = {
        "correlation_id": "c-1",
        "kind": kind,
        "change_id": f"R-2026-000001:{kind}",
        "customer_id": "C-1",
        "receipt_number": "R-2026-000001",
        "invoice_number": "F-1",
        "amount": Money(amount_minor=12345, currency="EUR"),
    }
    return notification_job(NOW - timedelta(minutes=5), **{**base, **kw})


def send(notification: NotificationJob, log: Log, mailer: Mailer, profile: Any = None) -> Any:
    return notify_customer(
        notification,
        NotifyPorts(
            profiles=Profiles(
                profile
                if profile is not None
                else {"email": "camille@example.com", "name": "Camille", "locale": "fr"}
            ),
            mailer=mailer,
            log=log,
        ),
        letterhead=Letterhead.of(
            Sender(email="receipts@example.com", name="Atelier"),
            SellerContact(name="Atelier", email="contact@example.com", phone="+33 1 23 45 67 89"),
        ),
        links=CustomerLinks(
            LinkSigner({"k1": b"k" * 32}, "k1"), "https://pay.example.com", timedelta(days=396)
        ),
        now=NOW,
    )


@pytest.mark.parametrize(
    ("notification", "subject_part"),
    [
        (job("payment_confirmed"), "R-2026-000001"),
        (
            job(
                "refund_issued",
                receipt_number="AV-2026-000001",
                original_receipt_number="R-2026-000001",
                change_id="AV-2026-000001:refund_issued",
            ),
            "remboursement",
        ),
        (
            job(
                "anomaly_notice",
                anomaly="possible_double_charge",
                difference=Money(amount_minor=12345, currency="EUR"),
            ),
            "deuxième paiement",
        ),
    ],
    ids=["confirmation", "refund", "double-charge"],
)
def test_each_kind_gets_its_own_message(notification: NotificationJob, subject_part: str) -> None:
    mailer, log = Mailer(), Log()
    [delivery] = send(notification, log, mailer)
    assert delivery.status == "sent"
    [message] = mailer.sent
    assert subject_part in str(message["Subject"])
    if notification.kind == "anomaly_notice":
        body = message.get_body(("plain",)).get_content()
        assert "soldée" not in body and "soldée" not in str(message["Subject"])


def test_a_job_that_comes_back_after_its_send_sends_nothing() -> None:
    mailer, log = Mailer(), Log()
    send(job("payment_confirmed"), log, mailer)
    [again] = send(job("payment_confirmed"), log, mailer)
    assert len(mailer.sent) == 1
    assert again.reason == "already_sent"


class UnwritableLog(Log):
    """The message log's table refuses the write (throttled past every retry)."""

    def record_message(self, *_: Any, **__: Any) -> None:
        raise TimeoutError("the ledger table did not answer")


def test_a_sent_message_whose_log_write_fails_says_it_will_be_sent_again() -> None:
    # Given SES takes the email but the message log cannot be written
    mailer = Mailer()
    with pytest.raises(SentNotLogged) as unlogged:
        send(job("payment_confirmed"), UnwritableLog(), mailer)
    # Then the job fails (so it is retried and the message is not lost), naming the channel
    # and the cause, and the one email already sent is what the documented window accounts for
    assert unlogged.value.channel == "email"
    assert isinstance(unlogged.value.__cause__, TimeoutError)
    assert len(mailer.sent) == 1


def test_a_skipped_message_whose_log_write_fails_is_not_called_sent() -> None:
    with pytest.raises(TimeoutError):
        send(job("payment_confirmed"), UnwritableLog(), Mailer(), profile={"name": "No Mail"})


def test_no_email_on_file_is_logged_as_skipped_and_nothing_is_sent() -> None:
    mailer, log = Mailer(), Log()
    [delivery] = send(job("payment_confirmed"), log, mailer, profile={"name": "No Mail"})
    assert (delivery.status, delivery.reason) == ("skipped", "no_email")
    assert mailer.sent == []
    assert log.entries[("F-1", "R-2026-000001:payment_confirmed", "email")]["status"] == "skipped"


def test_an_address_no_message_can_carry_fails_once_instead_of_retrying() -> None:
    mailer, log = Mailer(), Log()
    [delivery] = send(job("payment_confirmed"), log, mailer, profile={"email": "not an address"})
    assert delivery.status == "failed"
    assert mailer.sent == []


def test_every_notification_kind_has_its_email_composer() -> None:
    # Given every kind a NotificationJob may carry (one job class per kind)
    (union, _) = get_args(NotificationJob)
    kinds = {k for cls in get_args(union) for k in get_args(cls.model_fields["kind"].annotation)}
    assert kinds == set(get_args(NotificationKind))
    # Then dispatch has exactly one composer for each, and none for a kind that does not exist
    assert set(EMAIL_COMPOSERS) == kinds


def test_a_job_without_what_its_message_needs_is_refused_not_sent() -> None:
    # A refund notice with no credit note number has no document to link to: the job is
    # refused where it is read, naming the missing field, and nothing is sent.
    with pytest.raises(ValidationError, match="receipt_number"):
        parse_notification_job(
            {
                "correlation_id": "c-1",
                "kind": "refund_issued",
                "change_id": "F-1#refund",
                "customer_id": "C-1",
                "receipt_number": None,
                "invoice_number": "F-1",
                "amount": {"amount_minor": 1000, "currency": "EUR"},
                "refunded_at": "2026-11-23T10:00:00Z",
            }
        )
    # A payment confirmation without its receipt link is refused by its composer.
    with pytest.raises(ValueError, match="payment_confirmed job without what its message needs"):
        compose_email(
            job("payment_confirmed"),
            profile=CustomerProfile(email="ada@example.com", locale="fr"),
            link=None,
            letterhead=Letterhead.of(
                Sender(email="receipts@example.com", name="Atelier"),
                SellerContact(name="Atelier", email="contact@example.com", phone="+33 1"),
            ),
            options=MessageOptions(),
        )
