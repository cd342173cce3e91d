"""The payment-confirmation email: wording, structure, headers and what customer data can't do."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from email_validator import EmailNotValidError

from quittance.models.money import Money
from quittance.notifications.confirmation import PaymentConfirmed, compose_payment_confirmation
from quittance.notifications.email_kit import Sender, UnsafeHeaderValue
from tests.unit.mail import HtmlText, letterhead_recipient, parts, plain, wire

RECEIPT_URL = "https://api.quittance.example/r/AQJrMQ1SLTIwMjYtMDAwMDAx.1ZOwAOjHMq5TCIcnwwC7T4nur8F"
INJECTION = "Eve\r\nBcc: attacker@example.com"


def _compose(**overrides: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "sender": Sender(email="recus@quittance.example", name="Atelier Dupont"),
        "to_email": "lea.martin@example.com",
        "to_name": "Léa Martin",
        "locale": "fr",
        "tone": "formal",
        "receipt_number": "R-2026-000001",
        "invoice_number": "INV-1",
        "amount": Money(amount_minor=123456, currency="EUR"),
        "paid_at": datetime(2026, 3, 15, 13, 30, tzinfo=UTC),
        "timezone": "Europe/Paris",
        "receipt_url": RECEIPT_URL,
        "seller_name": "Atelier Dupont",
        "seller_email": "contact@dupont.example",
        "seller_phone": "+33 1 23 45 67 89",
        "message_id_domain": "quittance.example",
    }
    fields.update(overrides)
    letterhead, recipient, facts = letterhead_recipient(fields)
    return compose_payment_confirmation(letterhead, recipient, PaymentConfirmed(**facts))


# --- wording per locale and tone ------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "tone", "subject", "greeting", "thanks", "closing"),
    [
        (
            "fr",
            "formal",
            "Votre reçu R-2026-000001 — facture INV-1 soldée",
            "Bonjour Léa Martin,",
            "Nous avons bien reçu votre paiement et vous en remercions.",
            "Nous vous prions d’agréer nos salutations distinguées.",
        ),
        (
            "fr_FR",
            "warm",
            "Votre reçu R-2026-000001 — facture INV-1 soldée",
            "Bonjour Léa Martin !",
            "Merci pour votre paiement ! Tout est en ordre de notre côté.",
            "À très bientôt,",
        ),
        (
            "en",
            "formal",
            "Your receipt R-2026-000001 — invoice INV-1 paid in full",
            "Dear Léa Martin,",
            "We confirm that we have received your payment, and thank you for it.",
            "Kind regards,",
        ),
        (
            "en-GB",
            "warm",
            "Your receipt R-2026-000001 — invoice INV-1 paid in full",
            "Hi Léa Martin,",
            "Thanks so much for your payment — you're all set!",
            "Best wishes,",
        ),
    ],
    ids=["fr-formal", "fr-warm", "en-formal", "en-warm"],
)
def test_wording_follows_locale_and_tone(
    locale: str, tone: str, subject: str, greeting: str, thanks: str, closing: str
) -> None:
    # Given a settled invoice and a customer's language and segment
    # When the confirmation is composed and goes over the wire
    _, parsed = wire(_compose(locale=locale, tone=tone))
    text, html = parts(parsed)
    # Then subject and text speak that language in that tone, in both parts
    assert parsed["Subject"] == subject
    plain_text = plain(text)
    html_text = HtmlText(html).words()
    for expected in (greeting, thanks, closing):
        assert expected in plain_text
        assert expected in html_text


@pytest.mark.parametrize(
    ("locale", "facts"),
    [
        (
            "fr",
            [
                "Facture soldée",
                "Facture : INV-1",
                "Date du paiement : 15 mars 2026 à 14:30 (heure normale d’Europe centrale)",
                "Montant : 1 234,56 €",
                "Reçu n° : R-2026-000001",
                "Contactez Atelier Dupont :",
                "contact@dupont.example",
                "+33 1 23 45 67 89",
                "répondez simplement à ce message",
            ],
        ),
        (
            "en",
            [
                "Invoice paid in full",
                "Invoice: INV-1",
                "Payment date: 15 March 2026 at 14:30 (Central European Standard Time)",
                "Amount: €1,234.56",
                "Receipt no.: R-2026-000001",
                "Contact Atelier Dupont:",
                "contact@dupont.example",
                "+33 1 23 45 67 89",
                "reply to this message",
            ],
        ),
    ],
)
def test_body_states_invoice_date_amount_and_seller_contacts(locale: str, facts: list[str]) -> None:
    # Given a payment of 1 234,56 € at 13:30 UTC for a customer in Paris
    # When composed
    text, html = parts(wire(_compose(locale=locale))[1])
    # Then both parts state the facts, with Babel amounts and local time
    for fact in facts:
        assert fact in plain(text)
        assert fact in HtmlText(html).words()


def test_anonymous_customer_gets_a_generic_greeting() -> None:
    text_fr, _ = parts(wire(_compose(to_name=None))[1])
    text_en, _ = parts(wire(_compose(to_name="  ", locale="en", tone="warm"))[1])
    assert text_fr.startswith("Madame, Monsieur,")
    assert text_en.startswith("Hello,")


# --- structure and headers -------------------------------------------------------------


def test_message_is_multipart_alternative_text_then_html() -> None:
    # Given a composed confirmation
    _, parsed = wire(_compose())
    # Then it is text and HTML alternatives of the same content, text first
    assert parsed.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in parsed.iter_parts()]
    assert types == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parsed.iter_parts())


def test_receipt_link_is_printed_in_text_and_clickable_in_html() -> None:
    # Given a receipt URL with a query string that HTML must escape
    url = RECEIPT_URL + "?lang=fr&src=email"
    # When composed
    text, html = parts(wire(_compose(receipt_url=url))[1])
    # Then the text part prints it whole on its own line and the HTML part links to it
    assert url in text.splitlines()
    assert url in HtmlText(html).hrefs
    assert "&amp;src=email" in html


def test_headers_identify_sender_recipient_and_message() -> None:
    # Given a composed confirmation with SES configuration-set headers
    msg = _compose(configuration_set_headers={"X-SES-CONFIGURATION-SET": "quittance-dev"})
    _, parsed = wire(msg)
    # Then every header a transactional message needs is there and well-formed
    sender = parsed["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Atelier Dupont", "recus@quittance.example")
    recipient = parsed["To"].addresses[0]
    assert (recipient.display_name, recipient.addr_spec) == ("Léa Martin", "lea.martin@example.com")
    assert parsed["Reply-To"].addresses[0].addr_spec == "contact@dupont.example"
    assert parsed["Message-ID"].startswith("<")
    assert parsed["Message-ID"].endswith("@quittance.example>")
    assert parsed["X-SES-CONFIGURATION-SET"] == "quittance-dev"
    assert parsed["Auto-Submitted"] == "auto-generated"
    # And nothing a bulk mailing would carry
    assert parsed["List-Unsubscribe"] is None
    assert parsed["Precedence"] is None


def test_each_message_gets_its_own_message_id() -> None:
    assert _compose()["Message-ID"] != _compose()["Message-ID"]


def test_wire_format_is_ascii_with_crlf_lines_and_encoded_non_ascii_headers() -> None:
    # Given a French message with accented names and subject
    raw, _ = wire(_compose(to_name="Élodie Müller"))
    # Then the bytes are 7-bit clean with SMTP line endings, non-ASCII being encoded words
    assert raw.isascii()
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"=?utf-8?" in raw


def test_internationalised_domain_is_sent_as_punycode() -> None:
    _, parsed = wire(_compose(to_email="lea@bücher.example"))
    assert parsed["To"].addresses[0].addr_spec == "lea@xn--bcher-kva.example"


# --- customer data cannot inject -------------------------------------------------------


def test_html_in_customer_fields_is_escaped_in_the_html_part() -> None:
    # Given a name and an invoice number carrying markup
    msg = _compose(to_name="<b>x</b>", invoice_number="<script>alert(1)</script>")
    # When composed
    text, html = parts(wire(msg)[1])
    # Then the HTML part shows them as text, and the plain-text part as they are
    assert "<script>" not in html
    assert "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<script>alert(1)</script>" in text
    assert "&lt;" not in text


def test_plain_text_keeps_ampersands_as_typed() -> None:
    text, html = parts(wire(_compose(seller_name="Dupont & Fils"))[1])
    assert "Dupont & Fils" in text
    assert "Dupont &amp; Fils" in html


@pytest.mark.parametrize(
    "field",
    ["to_name", "invoice_number"],
)
@pytest.mark.parametrize(
    "attack",
    [
        INJECTION,
        "Eve\nBcc: attacker@example.com",
        "Eve\rBcc: attacker@example.com",
        "Eve\u2028Bcc: attacker@example.com",
        "Eve\x85Bcc: attacker@example.com",
        "Eve\r\n\r\n<html>forged body</html>",
    ],
    ids=["crlf", "lf", "cr", "line-separator", "nel", "body"],
)
def test_header_injection_through_customer_fields_is_inert(field: str, attack: str) -> None:
    # Given a customer-supplied field carrying a line break and a header
    # When composed (neutralised rather than refused, so the customer still gets the mail)
    raw, parsed = wire(_compose(**{field: attack}))
    # Then the wire carries no header line of the attacker's, and the mail has one recipient
    assert parsed["Bcc"] is None
    assert not any(line.lower().startswith(b"bcc:") for line in raw.split(b"\r\n"))
    assert [a.addr_spec for a in parsed["To"].addresses] == ["lea.martin@example.com"]
    assert len(list(parsed.iter_parts())) == 2
    # And the text stays on one line, so it cannot forge lines in the body either
    text, _ = parts(parsed)
    assert not any(line.startswith(("Bcc:", "<html>")) for line in text.splitlines())


def test_injected_name_is_kept_as_a_harmless_display_name() -> None:
    _, parsed = wire(_compose(to_name=INJECTION))
    assert parsed["To"].addresses[0].display_name == "Eve Bcc: attacker@example.com"


@pytest.mark.parametrize(
    "overrides",
    [
        {"seller_name": INJECTION},
        {"sender": Sender(email="recus@quittance.example", name=INJECTION)},
        {"sender": Sender(email="recus@quittance.example\r\nBcc: x@example.com", name="Q")},
        {"receipt_number": "R-1\r\nBcc: x@example.com"},
        {"message_id_domain": "quittance.example>\r\nBcc: x@example.com"},
        {"configuration_set_headers": {"X-SES-CONFIGURATION-SET": "dev\r\nBcc: x@example.com"}},
        {"configuration_set_headers": {"Bcc": "x@example.com"}},
        {"configuration_set_headers": {"X-Bad Name": "v"}},
    ],
    ids=[
        "seller-name",
        "sender-name",
        "sender-email",
        "receipt",
        "msgid-domain",
        "extra-value",
        "extra-bcc",
        "extra-name",
    ],
)
def test_unsafe_configuration_is_refused(overrides: dict[str, Any]) -> None:
    # Given one of our own configuration values carrying a line break or a foreign header
    # When composing, Then it is refused as a misconfiguration
    with pytest.raises(UnsafeHeaderValue):
        _compose(**overrides)


@pytest.mark.parametrize(
    "address",
    [
        "not-an-email",
        "lea@",
        "@example.com",
        "lea martin@example.com",
        "lea@example.com\r\nBcc: attacker@example.com",
        "lea@example.com, eve@example.com",
        "Léa <lea@example.com>",
        "léa@example.com",
        "",
    ],
    ids=["no-at", "no-domain", "no-local", "space", "crlf", "two", "display", "smtputf8", "empty"],
)
def test_unusable_recipient_address_is_refused(address: str) -> None:
    # Given an address we cannot (or must not) send to
    # When composing, Then it is refused with the validator's ValueError
    with pytest.raises(EmailNotValidError):
        _compose(to_email=address)


@pytest.mark.parametrize(
    "overrides",
    [
        {"receipt_url": "javascript:alert(1)"},
        {"receipt_url": "/r/relative"},
        {"receipt_url": "https://api.example/r/x\r\nBcc: y"},
        {"paid_at": datetime(2026, 3, 15, 13, 30)},
        {"timezone": "Mars/Olympus_Mons"},
        {"tone": "casual"},
    ],
    ids=["js-url", "relative-url", "crlf-url", "naive-time", "unknown-zone", "unknown-tone"],
)
def test_other_invalid_arguments_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _compose(**overrides)
