"""The invoice reminder email: wording per locale × tone × before/after the due date, the
amount and date in the customer's formats, how to pay, and what customer data can't do."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from quittance.models.money import Money
from quittance.notifications.email_kit import Sender
from quittance.notifications.reminder import DueInvoice, compose_invoice_reminder
from tests.unit.mail import HtmlText, letterhead_recipient, plain

DUE = date(2026, 12, 10)
BEFORE = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 17, 8, 0, tzinfo=UTC)
PAY_URL = "https://pay.dupont.example/F-2026-0142?src=reminder"


def _reminder(**overrides: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "sender": Sender(email="recus@quittance.example", name="Atelier Dupont"),
        "to_email": "lea.martin@example.com",
        "to_name": "Léa Martin",
        "locale": "fr",
        "tone": "formal",
        "invoice_number": "F-2026-0142",
        "amount_due": Money(amount_minor=123456, currency="EUR"),
        "due_date": DUE,
        "sent_at": BEFORE,
        "timezone": "Europe/Paris",
        "seller_name": "Atelier Dupont",
        "seller_email": "contact@dupont.example",
        "seller_phone": "+33 1 23 45 67 89",
        "message_id_domain": "quittance.example",
    }
    fields.update(overrides)
    letterhead, recipient, facts = letterhead_recipient(fields)
    return compose_invoice_reminder(letterhead, recipient, DueInvoice(**facts))


def _plain(text: str) -> str:
    return " ".join(plain(text).split())


def _read(msg: EmailMessage) -> tuple[str, str, str, EmailMessage, HtmlText]:
    raw = msg.as_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    text_part, html_part = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert text_part is not None and html_part is not None
    page = HtmlText(str(html_part.get_content()))
    return (
        _plain(str(parsed["Subject"])),
        _plain(str(text_part.get_content())),
        _plain(page.text),
        parsed,
        page,
    )


WORDING = {
    ("fr", "formal", "before"): (
        "Rappel : facture F-2026-0142 à régler avant le 10 décembre 2026",
        "Bonjour Léa Martin,",
        "Nous nous permettons de vous rappeler que la facture F-2026-0142 arrive à échéance "
        "le 10 décembre 2026.",
        "Nous vous prions d’agréer nos salutations distinguées.",
    ),
    ("fr", "warm", "before"): (
        "Rappel : facture F-2026-0142 à régler avant le 10 décembre 2026",
        "Bonjour Léa Martin !",
        "Petit rappel amical : votre facture F-2026-0142 arrive à échéance le 10 décembre 2026.",
        "À très bientôt,",
    ),
    ("fr", "formal", "after"): (
        "Facture F-2026-0142 : règlement en attente",
        "Bonjour Léa Martin,",
        "Sauf erreur de notre part, la facture F-2026-0142, arrivée à échéance le "
        "10 décembre 2026, n’a pas encore été réglée.",
        "Nous vous prions d’agréer nos salutations distinguées.",
    ),
    ("fr", "warm", "after"): (
        "Facture F-2026-0142 : règlement en attente",
        "Bonjour Léa Martin !",
        "Nous n’avons pas encore reçu le règlement de votre facture F-2026-0142, arrivée à "
        "échéance le 10 décembre 2026. Un simple oubli, sans doute !",
        "À très bientôt,",
    ),
    ("en", "formal", "before"): (
        "Reminder: invoice F-2026-0142 is due on 10 December 2026",
        "Dear Léa Martin,",
        "This is a courtesy reminder that invoice F-2026-0142 is due on 10 December 2026.",
        "Kind regards,",
    ),
    ("en", "warm", "before"): (
        "Reminder: invoice F-2026-0142 is due on 10 December 2026",
        "Hi Léa Martin,",
        "Just a friendly reminder: your invoice F-2026-0142 is due on 10 December 2026.",
        "Best wishes,",
    ),
    ("en", "formal", "after"): (
        "Invoice F-2026-0142: payment outstanding",
        "Dear Léa Martin,",
        "According to our records, invoice F-2026-0142, which was due on 10 December 2026, "
        "has not been paid yet.",
        "Kind regards,",
    ),
    ("en", "warm", "after"): (
        "Invoice F-2026-0142: payment outstanding",
        "Hi Léa Martin,",
        "We haven't received payment for your invoice F-2026-0142 yet, which was due on "
        "10 December 2026. It's easy to miss one!",
        "Best wishes,",
    ),
}

FACTS = {
    "fr": (
        "Montant restant dû : 1 234,56 €",
        "Échéance : 10 décembre 2026",
        "Vous pouvez régler 1 234,56 € par le moyen de paiement de votre choix, en indiquant "
        "la référence F-2026-0142.",
        "Si vous avez réglé cette facture entre-temps, merci de ne pas tenir compte de ce message.",
        "Une question ? Contactez Atelier Dupont : E-mail : contact@dupont.example "
        "Téléphone : +33 1 23 45 67 89",
    ),
    "en": (
        "Amount due: €1,234.56",
        "Due date: 10 December 2026",
        "You can pay €1,234.56 with the payment method of your choice, quoting reference "
        "F-2026-0142.",
        "If you have paid this invoice in the meantime, please disregard this message.",
        "Any questions? Contact Atelier Dupont: Email: contact@dupont.example "
        "Phone: +33 1 23 45 67 89",
    ),
}


@pytest.mark.parametrize(("lang", "tone", "when"), sorted(WORDING))
def test_wording_follows_locale_tone_and_due_date(lang: str, tone: str, when: str) -> None:
    # Given a reminder sent 3 days before, or 7 days after, the due date
    sent_at = BEFORE if when == "before" else AFTER
    subject, text, html, _, _ = _read(_reminder(locale=lang, tone=tone, sent_at=sent_at))
    expected_subject, greeting, opener, closing = WORDING[(lang, tone, when)]
    # Then subject, greeting, opening sentence and closing are those of its locale and tone
    assert subject == expected_subject
    for sentence in (greeting, opener, closing, *FACTS[lang]):
        assert sentence in text, sentence
        assert sentence in html, sentence


def test_the_due_date_is_judged_on_the_customer_calendar() -> None:
    # 10 December 23:30 UTC is already 11 December in Paris, still the 10th in New York
    late_evening = datetime(2026, 12, 10, 23, 30, tzinfo=UTC)
    paris, *_ = _read(_reminder(locale="en", sent_at=late_evening))
    new_york, *_ = _read(_reminder(locale="en", sent_at=late_evening, timezone="America/New_York"))
    assert paris == "Invoice F-2026-0142: payment outstanding"
    assert new_york == "Reminder: invoice F-2026-0142 is due on 10 December 2026"


def test_other_currencies_keep_their_own_precision() -> None:
    _, text, _, _, _ = _read(
        _reminder(locale="en", amount_due=Money(amount_minor=12000, currency="JPY"))
    )
    assert "Amount due: JP¥12,000" in text


def test_a_payment_link_is_offered_in_both_parts_when_given() -> None:
    _, text, html, _, page = _read(_reminder(payment_url=PAY_URL))
    assert PAY_URL in text and PAY_URL in page.hrefs
    assert "Régler la facture" in html


def test_reminder_is_transactional_without_unsubscribe() -> None:
    _, _, _, parsed, _ = _read(_reminder())
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["List-Unsubscribe"] is None
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Reply-To"].addresses[0].addr_spec == "contact@dupont.example"


def test_markup_in_customer_fields_is_text() -> None:
    msg = _reminder(to_name="<b>x</b>", invoice_number="<script>alert(1)</script>")
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    html_part = parsed.get_body(("html",))
    assert html_part is not None
    html = str(html_part.get_content())
    assert "<script>" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("field", ["to_name", "invoice_number"])
def test_header_injection_is_inert(field: str) -> None:
    msg = _reminder(**{field: "Eve\r\nBcc: attacker@example.com"})
    raw = msg.as_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc:") for line in headers.split(b"\r\n"))
    assert [a.addr_spec for a in parsed["To"].addresses] == ["lea.martin@example.com"]
    assert "\n" not in str(parsed["Subject"])


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount_due": Money(amount_minor=0, currency="EUR")},
        {"sent_at": datetime(2026, 12, 7, 8, 0)},
        {"payment_url": "javascript:alert(1)"},
        {"tone": "casual"},
        {"timezone": "Mars/Olympus"},
        {"to_email": "not-an-address"},
    ],
    ids=["zero", "naive", "js-url", "tone", "zone", "address"],
)
def test_bad_arguments_are_refused_before_anything_is_built(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _reminder(**overrides)
