"""Every message kind, in French and English, formal (B2B) and warm (B2C): what the customer
reads, in both the plain-text and the HTML part; what marketing adds only with consent; and
customer-supplied strings that stay inert whatever they contain."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from quittance.links.tokens import LinkSigner
from quittance.models.customer import CustomerProfile
from quittance.models.events import PaymentMethod
from quittance.models.messages import NotificationJob
from quittance.models.money import Money
from quittance.notifications.dispatch import (
    MARKETING_KINDS,
    CustomerLinks,
    MessageOptions,
    compose_email,
    marketing_extras,
)
from quittance.notifications.email_kit import Attachment, Letterhead, SellerContact, Sender
from tests.unit.jobs import notification_job

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SIGNER = LinkSigner({"k1": b"k" * 32}, "k1")
LINKS = CustomerLinks(SIGNER, "https://pay.example.com", timedelta(days=396))
SENDER = Sender(email="receipts@example.com", name="Atelier")
SELLER = SellerContact(name="Atelier", email="contact@example.com", phone="+33 1 23 45 67 89")
LETTERHEAD = Letterhead.of(SENDER, SELLER)
OPTIONS = MessageOptions(
    payment_update_url_template="https://pay.example/update?invoice={invoice_number}",
    balance_payment_url_template="https://pay.example/pay?invoice={invoice_number}",
    refund_survey_url_template="https://survey.example/q1?invoice={invoice_number}",
    loyalty_promo_code="MERCI10",
    loyalty_min_payments=5,
    offer_text={"fr": "Nouveau : l’abonnement annuel.", "en": "New: the yearly plan."},
    offer_url="https://shop.example/annual",
)
LINK = "https://pay.example.com/r/TOKEN"
CARD = {"kind": "card", "card_brand": "visa", "card_last4": "4242"}
KINDS = ["payment_confirmed", "partial_payment", "payment_failed", "refund_issued", "anomaly"]


def job(kind: str, **kw: Any) -> NotificationJob:
    base: dict[str, Any] = {
        "correlation_id": "c-1",
        "kind": kind,
        "change_id": f"R-2026-000042:{kind}",
        "customer_id": "C-1",
        "receipt_number": "R-2026-000042",
        "invoice_number": "F-2026-0042",
        "amount": Money(amount_minor=12345, currency="EUR"),
    }
    return notification_job(NOW - timedelta(minutes=5), **{**base, **kw})


def case(kind: str) -> NotificationJob:
    """The job for a kind, with the payment method the message states."""
    if kind == "payment_confirmed":
        return job(kind, method=CARD)
    if kind == "partial_payment":
        balance = {"amount_minor": 7275, "currency": "EUR"}
        return job(kind, method=CARD, balance_due=balance)
    if kind == "payment_failed":
        return job(kind, receipt_number=None, failure="expired_card")
    if kind == "refund_issued":
        return job(
            kind,
            receipt_number="AV-2026-000007",
            original_receipt_number="R-2026-000042",
            amount=Money(amount_minor=5000, currency="EUR"),
            method=CARD,
        )
    return job(
        "anomaly_notice",
        anomaly="overpayment",
        difference=Money(amount_minor=1000, currency="EUR"),
        method=CARD,
    )


def profile(locale: str, segment: str, **kw: Any) -> CustomerProfile:
    return CustomerProfile.model_validate(
        {
            "name": "Camille Martin",
            "email": "camille@example.com",
            "locale": locale,
            "segment": segment,
            "timezone": "Europe/Paris",
        }
        | kw
    )


def build(
    kind: str, who: dict[str, Any], extras: bool = False, attachment: Attachment | None = None
) -> EmailMessage:
    notification = case(kind)
    link = None if notification.kind == "payment_failed" else LINK
    chosen = (
        marketing_extras(
            notification,
            who,
            options=OPTIONS,
            links=LINKS,
            documents=None,
            now=NOW,
        )
        if extras
        else None
    )
    return compose_email(
        notification,
        profile=who,
        link=link,
        letterhead=LETTERHEAD,
        options=OPTIONS,
        extras=chosen,
        attachment=attachment,
    )


def texts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    norm = str.maketrans({"\u00a0": " ", "\u202f": " "})
    return plain.get_content().translate(norm), html.get_content().translate(norm)


# What each kind must say, per language: the facts a customer looks for.
EXPECTED: dict[tuple[str, str], list[str]] = {
    ("payment_confirmed", "fr"): [
        "Facture soldée",
        "F-2026-0042",
        "123,45 €",
        "R-2026-000042",
        "Visa •••• 4242",
        "Et maintenant",
        "contact@example.com",
        "+33 1 23 45 67 89",
        LINK,
    ],
    ("payment_confirmed", "en"): [
        "Invoice paid in full",
        "F-2026-0042",
        "€123.45",
        "R-2026-000042",
        "Visa •••• 4242",
        "What happens next",
        "contact@example.com",
        LINK,
    ],
    ("partial_payment", "fr"): [
        "Paiement partiel reçu",
        "123,45 €",
        "Reste à régler",
        "72,75 €",
        "https://pay.example/pay?invoice=F-2026-0042",
    ],
    ("partial_payment", "en"): [
        "Partial payment received",
        "€123.45",
        "Remaining balance",
        "€72.75",
        "https://pay.example/pay?invoice=F-2026-0042",
    ],
    ("payment_failed", "fr"): [
        "n’a pas abouti",
        "aucun montant n’a été débité",
        "la carte utilisée a expiré",
        "123,45 €",
        "https://pay.example/update?invoice=F-2026-0042",
    ],
    ("payment_failed", "en"): [
        "did not go through",
        "no amount was charged",
        "the card used has expired",
        "€123.45",
        "https://pay.example/update?invoice=F-2026-0042",
    ],
    ("refund_issued", "fr"): [
        "Remboursement en route",
        "50,00 €",
        "Visa •••• 4242",
        "5 à 10 jours ouvrés",
        "AV-2026-000007",
        "https://survey.example/q1?invoice=F-2026-0042",
    ],
    ("refund_issued", "en"): [
        "Refund on its way",
        "€50.00",
        "Visa •••• 4242",
        "5 to 10 business days",
        "AV-2026-000007",
        "https://survey.example/q1?invoice=F-2026-0042",
    ],
    ("anomaly", "fr"): ["Paiement supérieur au montant dû", "10,00 €", "rembourserons"],
    ("anomaly", "en"): ["Payment above the amount due", "€10.00", "We will refund"],
}
CLOSINGS = {
    ("fr", "b2b"): "Nous vous prions d’agréer nos salutations distinguées.",
    ("fr", "b2c"): "À très bientôt,",
    ("en", "b2b"): "Kind regards,",
    ("en", "b2c"): "Best wishes,",
}
GREETINGS = {
    ("fr", "b2b"): "Bonjour Camille Martin,",
    ("fr", "b2c"): "Bonjour Camille Martin !",
    ("en", "b2b"): "Dear Camille Martin,",
    ("en", "b2c"): "Hi Camille Martin,",
}


@pytest.mark.parametrize("segment", ["b2b", "b2c"], ids=["formal", "warm"])
@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_locale_and_tone_says_what_it_must(kind: str, locale: str, segment: str) -> None:
    message = build(kind, profile(locale, segment))
    plain, html = texts(message)
    for phrase in EXPECTED[(kind, locale)]:
        assert phrase in plain, phrase
        assert phrase.replace("’", "&#8217;") in html or phrase in html, phrase
    assert GREETINGS[(locale, segment)] in plain
    assert CLOSINGS[(locale, segment)] in plain
    # CSS is inline: mail clients drop <style> blocks and linked sheets.
    assert "<style" not in html and "<link" not in html and 'style="' in html
    assert message["List-Unsubscribe"] is None  # transactional
    if kind != "payment_confirmed":
        assert "soldée" not in plain and "paid in full" not in plain
    if kind == "payment_failed":
        jargon = ("decline code", "insufficient_funds", "expired_card", "3DS", "code ")
        assert not any(word in plain for word in jargon)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_archived_pdf_is_attached_byte_for_byte_when_asked(locale: str) -> None:
    original = b"%PDF-1.7 archived original\n%%EOF"
    message = build(
        "payment_confirmed",
        profile(locale, "b2c"),
        attachment=Attachment("R-2026-000042.pdf", original),
    )
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "R-2026-000042.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == original
    plain, _ = texts(message)
    assert ("joint" if locale == "fr" else "attached") in plain


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_extras_appear_only_with_consent_and_always_with_their_opt_out(locale: str) -> None:
    consenting = profile(
        locale,
        "b2c",
        payments_count=6,
        marketing_consent={"granted": True, "at": "2026-01-05T09:00:00+00:00", "source": "x"},
    )
    withdrawn = CustomerProfile.model_validate(
        consenting.model_dump()
        | {
            "marketing_consent": {
                "granted": False,
                "at": "2026-02-01T09:00:00+00:00",
                "source": "y",
            }
        }
    )
    never = profile(locale, "b2c", payments_count=6)

    with_extras = build("payment_confirmed", consenting, extras=True)
    plain, html = texts(with_extras)
    assert "MERCI10" in plain and "MERCI10" in html
    assert OPTIONS.offer_text[locale].replace("’", "'")[:10] in plain.replace("’", "'")
    [url] = [part.strip("<>") for part in str(with_extras["List-Unsubscribe"]).split(",")]
    assert url.startswith("https://pay.example.com/u/")
    assert with_extras["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in plain and url in html  # the visible opt-out link

    for who in (withdrawn, never):
        message = build("payment_confirmed", who, extras=True)
        plain, html = texts(message)
        assert "MERCI10" not in plain and "MERCI10" not in html
        assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None


def test_the_loyalty_code_waits_for_the_threshold() -> None:
    consent = {"granted": True, "at": "2026-01-05T09:00:00+00:00", "source": "x"}
    few = profile("fr", "b2c", payments_count=4, marketing_consent=consent)
    plain, _ = texts(build("payment_confirmed", few, extras=True))
    assert "MERCI10" not in plain  # below the threshold: only the offer, still with opt-out
    assert "Se désabonner" in plain or "/u/" in plain


@pytest.mark.parametrize("kind", ["payment_failed", "refund_issued", "anomaly", "partial_payment"])
def test_no_kind_but_the_confirmation_ever_carries_marketing(kind: str) -> None:
    consenting = profile(
        "fr",
        "b2c",
        payments_count=9,
        marketing_consent={"granted": True, "at": "2026-01-05T09:00:00+00:00", "source": "x"},
    )
    notification = case(kind)
    assert (
        marketing_extras(
            notification,
            consenting,
            options=OPTIONS,
            links=LINKS,
            documents=None,
            now=NOW,
        )
        is not None
    )  # the customer qualifies…
    assert notification.kind not in MARKETING_KINDS  # …but dispatch never asks for this kind


HOSTILE_NAME = "Evil\r\nBcc: victim@example.com"
HOSTILE_INVOICE = 'F-1\r\nBcc: x@example.com <script>alert("x")</script>'


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_hostile_customer_strings_are_inert_in_every_kind(kind: str, locale: str) -> None:
    notification = case(kind)
    update: dict[str, Any] = {"invoice_number": HOSTILE_INVOICE}
    if getattr(notification, "method", None):
        update["method"] = PaymentMethod.model_validate(CARD | {"card_brand": "<b>visa</b>"})
    notification = notification.model_copy(update=update)
    who = profile(locale, "b2c", name=HOSTILE_NAME)
    message = compose_email(
        notification,
        profile=who,
        link=None if notification.kind == "payment_failed" else LINK,
        letterhead=LETTERHEAD,
        options=OPTIONS,
    )
    raw = message.as_bytes()
    reparsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert reparsed["Bcc"] is None and reparsed["Cc"] is None
    assert b"\nBcc:" not in raw and b"\r\nBcc:" not in raw
    assert [a.addr_spec for a in reparsed["To"].addresses] == ["camille@example.com"]
    assert set(reparsed.keys()) == {
        "From",
        "To",
        "Reply-To",
        "Subject",
        "Message-ID",  # and no Date yet: the mailer dates it when SES takes it
        "Auto-Submitted",
        "MIME-Version",
        "Content-Type",
    }
    plain, html = texts(message)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>visa</b>" not in html
    assert "Evil Bcc: victim@example.com" in plain  # shown, neutralised, not dropped


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_failed_payment_email_links_to_the_gateways_own_page_when_it_gave_one(
    locale: str,
) -> None:
    hosted = "https://invoice.stripe.com/i/acct_1Nv0FGQ9RKHgCVdK/test_YWNjdF8xTnYw"
    notification = job(
        "payment_failed", receipt_number=None, failure="expired_card", payment_update_url=hosted
    )
    who = profile(locale, "b2c")
    message = compose_email(
        notification,
        profile=who,
        link=None,
        letterhead=LETTERHEAD,
        options=OPTIONS,
        extras=None,
        attachment=None,
    )
    plain, html = texts(message)
    assert hosted in plain and hosted in html
    assert "pay.example/update" not in plain + html


def test_a_payment_update_link_must_be_https() -> None:
    with pytest.raises(ValueError, match="payment_update_url"):
        job(
            "payment_failed",
            receipt_number=None,
            failure="expired_card",
            payment_update_url="http://evil.example/x",
        )
