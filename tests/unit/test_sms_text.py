"""SMS length as billed (GSM 03.38), and every SMS kind fitting one segment for real values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quittance.ledger.state import AnomalyKind
from quittance.models.customer import CustomerProfile
from quittance.models.events import FailureCategory
from quittance.models.messages import NotificationJob
from quittance.models.money import Money
from quittance.models.phone import InvalidPhoneNumber, to_e164
from quittance.notifications.dispatch import MessageOptions, compose_sms
from quittance.notifications.sms_text import fits_one_segment, measure, plain
from tests.unit.jobs import notification_job

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
# A signed receipt link as the notify function builds it: far too long for one SMS.
RECEIPT_LINK = (
    "https://a1b2c3d4e5.execute-api.eu-west-3.amazonaws.com/r/" + "A" * 30 + "." + "B" * 43
)
OPTIONS = MessageOptions(
    payment_update_url_template="https://pay.example/update?invoice={invoice_number}",
    balance_payment_url_template="https://pay.example/pay?invoice={invoice_number}",
    sms_brand="Quittance",
)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),  # split: 153 septets per segment
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension table: two septets each
        ("€" * 81, "GSM-7", 162, 2),
        ("à é è ù ì ò Ç É ä ö ñ ü £ $ @", "GSM-7", 29, 1),
        ("ç" + "a" * 69, "UCS-2", 70, 1),  # one lower-case ç switches to UCS-2
        ("ç" + "a" * 70, "UCS-2", 71, 2),
        ("ç" + "a" * 133, "UCS-2", 134, 2),  # 67 per segment once split
        ("ç" + "a" * 134, "UCS-2", 135, 3),
        ("👍" * 35, "UCS-2", 70, 1),  # outside the BMP: two UTF-16 units each
    ],
)
def test_segments_are_counted_as_the_network_bills_them(
    text: str, encoding: str, units: int, segments: int
) -> None:
    measured = measure(text)
    assert (measured.encoding, measured.units, measured.segments) == (encoding, units, segments)


def test_typographic_spaces_and_quotes_become_gsm7() -> None:
    assert measure("123,45\u202f€ l’offre").encoding == "UCS-2"
    assert plain("123,45\u202f€ l’offre") == "123,45 € l'offre"
    assert measure(plain("123,45\u202f€ l’offre")).encoding == "GSM-7"


def job(kind: str, **kw: Any) -> NotificationJob:
    base: dict[str, Any] = {
        "correlation_id": "c-1",
        "kind": kind,
        "change_id": f"x:{kind}",
        "customer_id": "C-1",
        "receipt_number": "R-2026-000042",
        "invoice_number": "F-2026-000123",
        "amount": Money(amount_minor=123456, currency="EUR"),  # 1 234,56 €: a long amount
    }
    return notification_job(NOW - timedelta(minutes=5), **(base | kw))


CARD = {"kind": "card", "card_brand": "visa", "card_last4": "4242"}
JOBS: list[tuple[str, NotificationJob, list[str]]] = [
    ("confirmed", job("payment_confirmed"), ["1 234,56 €", "F-2026-000123"]),
    (
        "partial",
        job("partial_payment", balance_due={"amount_minor": 98765, "currency": "EUR"}),
        ["987,65 €", "https://pay.example/pay?invoice=F-2026-000123"],
    ),
    *[
        (
            f"failed-{reason.value}",
            job("payment_failed", receipt_number=None, failure=reason.value),
            ["1 234,56 €"],
        )
        for reason in FailureCategory
    ],
    (
        "refund",
        job("refund_issued", receipt_number="AV-2026-000007", method=CARD),
        ["AV-2026-000007", "5 à 10 jours ouvrés"],
    ),
    *[
        (
            f"anomaly-{kind.value}",
            job(
                "anomaly_notice",
                anomaly=kind.value,
                difference=Money(amount_minor=1000, currency="EUR"),
            ),
            ["F-2026-000123"],
        )
        for kind in AnomalyKind
    ],
]


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize(("notification", "facts"), [j[1:] for j in JOBS], ids=[j[0] for j in JOBS])
def test_every_sms_kind_fits_one_gsm7_segment(
    notification: NotificationJob, facts: list[str], locale: str
) -> None:
    text = compose_sms(
        notification,
        profile=CustomerProfile(locale=locale, name="Camille Martin"),
        link=RECEIPT_LINK,
        options=OPTIONS,
    )
    measured = measure(text)
    assert (measured.encoding, measured.segments) == ("GSM-7", 1), text
    assert text.startswith("Quittance: ")
    assert "Camille" not in text  # nothing personal on a lock screen
    if locale == "fr":
        for fact in facts:
            assert fact in text, (fact, text)
    if notification.kind == "payment_failed":
        assert ("Aucun montant" if locale == "fr" else "No amount was charged") in text


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_update_link_is_in_the_failed_payment_sms_when_it_fits(locale: str) -> None:
    text = compose_sms(
        job("payment_failed", receipt_number=None, failure="expired_card"),
        profile=CustomerProfile(locale=locale),
        link=None,
        options=OPTIONS,
    )
    assert "https://pay.example/update?invoice=F-2026-000123" in text
    assert ("carte expirée" if locale == "fr" else "card expired") in text


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_numbers_are_normalised_to_e164(raw: str, e164: str) -> None:
    assert to_e164(raw, "FR") == e164


@pytest.mark.parametrize("raw", ["12", "not a number", "+33 1 23", "+999 123456789"])
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        to_e164(raw, "FR")


def test_a_gateway_page_too_long_for_one_segment_gives_way_to_the_sellers_short_link() -> None:
    # Stripe's hosted invoice URLs run past 100 characters: the SMS stays one segment with
    # the seller's own short link, and the email (tested in test_message_kinds) carries
    # the gateway's page.
    hosted = "https://invoice.stripe.com/i/acct_1Nv0FGQ9RKHgCVdK/test_YWNjdF8xTnYw" + "Q" * 60
    text = compose_sms(
        job(
            "payment_failed",
            receipt_number=None,
            failure="expired_card",
            payment_update_url=hosted,
        ),
        profile=CustomerProfile(locale="fr"),
        link=None,
        options=OPTIONS,
    )
    assert "https://pay.example/update?invoice=F-2026-000123" in text
    assert "stripe.com" not in text
    assert fits_one_segment(text)


def test_a_gateway_page_that_fits_is_the_one_the_sms_gives() -> None:
    short = "https://pay.st/u1"
    text = compose_sms(
        job(
            "payment_failed", receipt_number=None, failure="expired_card", payment_update_url=short
        ),
        profile=CustomerProfile(locale="en"),
        link=None,
        options=OPTIONS,
    )
    assert text.endswith(short)
