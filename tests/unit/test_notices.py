"""Refund and anomaly notices: wording per kind, locale and tone, amounts, links, and what
customer data can't do."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest

from quittance.ledger.state import AnomalyKind
from quittance.models.events import MethodKind, PaymentMethod
from quittance.models.money import Money
from quittance.notifications.anomaly import PaymentAnomaly, compose_anomaly_notice
from quittance.notifications.email_kit import Sender, UnsafeHeaderValue
from quittance.notifications.refund import (
    SEPA_REFUND_DELAY_DAYS,
    RefundIssued,
    compose_refund_issued,
)
from tests.unit.mail import HtmlText, letterhead_recipient, parts, plain, wire

CREDIT_NOTE_URL = "https://api.quittance.example/r/AQJBLTIwMjYtMDAwMDAz.sig?lang=fr&src=email"
SURVEY_URL = "https://survey.quittance.example/q/42?score=&src=refund"
RECEIPT_URL = "https://api.quittance.example/r/AQJSLTIwMjYtMDAwMDAx.sig"
PAYMENT_URL = "https://pay.dupont.example/F-1?rest=1000&currency=EUR"
INJECTION = "Eve\r\nBcc: attacker@example.com"
SETTLED_WORDS = ("soldée", "soldé", "paid in full")


def _common(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "sender": Sender(email="recus@quittance.example", name="Atelier Dupont"),
        "to_email": "lea.martin@example.com",
        "to_name": "Léa Martin",
        "locale": "fr",
        "tone": "formal",
        "timezone": "Europe/Paris",
        "seller_name": "Atelier Dupont",
        "seller_email": "contact@dupont.example",
        "seller_phone": "+33 1 23 45 67 89",
        "message_id_domain": "quittance.example",
    }
    fields.update(overrides)
    return fields


def _refund(**overrides: Any) -> EmailMessage:
    fields = _common(
        credit_note_number="A-2026-000003",
        receipt_number="R-2026-000001",
        invoice_number="F-1",
        refunded=Money(amount_minor=3000, currency="EUR"),
        refunded_at=datetime(2026, 3, 15, 13, 30, tzinfo=UTC),
        method_label="Visa •••• 4242",
        credit_note_url=CREDIT_NOTE_URL,
        survey_url=SURVEY_URL,
    )
    fields.update(overrides)
    letterhead, recipient, facts = letterhead_recipient(fields)
    # A label reads what the gateway gave as the card brand: where an untrusted one comes from.
    label = facts.pop("method_label")
    method = PaymentMethod(kind=MethodKind.CARD, card_brand=label) if label else None
    extras = facts.pop("extras", None)
    return compose_refund_issued(
        letterhead, recipient, RefundIssued(**facts, method=method), extras=extras
    )


def _anomaly(kind: AnomalyKind, /, **overrides: Any) -> EmailMessage:
    """A notice of this kind; ``kind=...`` in overrides replaces what is passed on."""
    mismatch = kind is AnomalyKind.CURRENCY_MISMATCH
    differences = {
        AnomalyKind.PARTIAL_PAYMENT: Money(amount_minor=1000, currency="EUR"),
        AnomalyKind.OVERPAYMENT: Money(amount_minor=1000, currency="EUR"),
        AnomalyKind.POSSIBLE_DOUBLE_CHARGE: Money(amount_minor=3000, currency="EUR"),
    }
    fields = _common(
        kind=kind,
        invoice_number="F-1",
        amount=Money(amount_minor=3000, currency="USD" if mismatch else "EUR"),
        difference=differences.get(kind),
        paid_at=datetime(2026, 3, 15, 13, 30, tzinfo=UTC),
        receipt_url=None,
        invoice_currency="EUR" if mismatch else None,
    )
    fields.update(overrides)
    letterhead, recipient, facts = letterhead_recipient(fields)
    extras = facts.pop("extras", None)
    return compose_anomaly_notice(letterhead, recipient, PaymentAnomaly(**facts), extras=extras)


def _read(msg: EmailMessage) -> tuple[str, str, str, HtmlText]:
    """Subject, plain text (one line per line, spaces normalised), HTML words, HTML parse."""
    _, parsed = wire(msg)
    text, html = parts(parsed)
    page = HtmlText(html)
    return plain(str(parsed["Subject"])), plain(text), page.words(), page


def _in_both(expected: str, text: str, html_words: str) -> None:
    assert expected in " ".join(text.split()), expected
    assert expected in html_words, expected


TONES = {
    ("fr", "formal"): ("Bonjour Léa Martin,", "Nous vous prions d’agréer nos salutations"),
    ("fr", "warm"): ("Bonjour Léa Martin !", "À très bientôt,"),
    ("en", "formal"): ("Dear Léa Martin,", "Kind regards,"),
    ("en", "warm"): ("Hi Léa Martin,", "Best wishes,"),
}
LOCALES_AND_TONES = sorted(TONES)


# --- refund issued ---------------------------------------------------------------------


REFUND_OPENERS = {
    ("fr", "formal"): "Nous vous informons que votre remboursement a été effectué.",
    ("fr", "warm"): "Bonne nouvelle : votre remboursement est parti !",
    ("en", "formal"): "We are writing to confirm that your refund has been issued.",
    ("en", "warm"): "Good news: your refund is on its way!",
}


@pytest.mark.parametrize(("lang", "tone"), LOCALES_AND_TONES)
def test_refund_wording_follows_locale_and_tone(lang: str, tone: str) -> None:
    # Given a refund of 30 € to a Visa card
    # When the notice is composed in the customer's language and tone
    subject, text, html_words, _ = _read(_refund(locale=lang, tone=tone))
    # Then the subject announces it and both parts greet, explain and close in that tone
    greeting, closing = TONES[(lang, tone)]
    if lang == "fr":
        assert subject == "Votre remboursement de 30,00 € est en route"
        key = [
            "Nous vous avons remboursé 30,00 € sur Visa •••• 4242.",
            "la somme apparaît généralement sur votre compte sous 5 à 10 jours ouvrés.",
            "Votre avoir A-2026-000003, le document qui atteste ce remboursement",
        ]
    else:
        assert subject == "Your refund of €30.00 is on its way"
        key = [
            "We have refunded €30.00 to Visa •••• 4242.",
            "it usually shows on your account within 5 to 10 business days.",
            "Your credit note A-2026-000003, the document that records this refund",
        ]
    for expected in (greeting, REFUND_OPENERS[(lang, tone)], *key, closing):
        _in_both(expected, text, html_words)


@pytest.mark.parametrize(
    ("lang", "facts"),
    [
        (
            "fr",
            [
                "Avoir n° : A-2026-000003",
                "Facture : F-1",
                "Reçu d’origine n° : R-2026-000001",
                "Montant remboursé : 1 234,56 €",
                "Moyen de paiement : Visa •••• 4242",
                "Date du remboursement : 15 mars 2026 à 14:30 (heure normale d’Europe centrale)",
                "Contactez Atelier Dupont :",
            ],
        ),
        (
            "en",
            [
                "Credit note no.: A-2026-000003",
                "Invoice: F-1",
                "Original receipt no.: R-2026-000001",
                "Amount refunded: €1,234.56",
                "Payment method: Visa •••• 4242",
                "Refund date: 15 March 2026 at 14:30 (Central European Standard Time)",
                "Contact Atelier Dupont:",
            ],
        ),
    ],
)
def test_refund_states_credit_note_amount_method_and_date(lang: str, facts: list[str]) -> None:
    msg = _refund(locale=lang, refunded=Money(amount_minor=123456, currency="EUR"))
    subject, text, html_words, _ = _read(msg)
    assert ("1 234,56 €" if lang == "fr" else "€1,234.56") in subject
    for fact in facts:
        _in_both(fact, text, html_words)


def test_refund_links_credit_note_and_survey_in_both_parts() -> None:
    # Given credit-note and survey URLs with query strings HTML must escape
    _, parsed = wire(_refund())
    text, html = parts(parsed)
    # Then the text part prints each on its own line and the HTML part links to each
    for url in (CREDIT_NOTE_URL, SURVEY_URL):
        assert url in text.splitlines()
        assert url in HtmlText(html).hrefs
    assert "&amp;src=email" in html
    words = HtmlText(html).words()
    assert "Donner mon avis" in words
    assert "Une seule question, quelques secondes :" in words


def test_refund_without_survey_method_or_receipt_says_less_but_still_reads() -> None:
    # Given no survey, no method label and no original receipt
    msg = _refund(survey_url=None, method_label=None, receipt_number=None, locale="en")
    _, text, html_words, page = _read(msg)
    # Then the survey, the method row and the receipt row are gone, the rest is there
    assert SURVEY_URL not in text
    assert all("survey" not in href for href in page.hrefs)
    assert "one question" not in text
    assert "Payment method:" not in text
    assert "Original receipt" not in text
    _in_both("We have refunded €30.00 to the payment method you used.", text, html_words)
    assert CREDIT_NOTE_URL in page.hrefs


@pytest.mark.parametrize(
    ("lang", "delay_days", "expected"),
    [
        ("fr", SEPA_REFUND_DELAY_DAYS, "sous 1 à 3 jours ouvrés."),
        ("en", SEPA_REFUND_DELAY_DAYS, "within 1 to 3 business days."),
        ("fr", (1, 1), "sous 1 jour ouvré."),
        ("en", (3, 3), "within 3 business days."),
    ],
)
def test_refund_delay_is_the_given_range(
    lang: str, delay_days: tuple[int, int], expected: str
) -> None:
    _, text, html_words, _ = _read(_refund(locale=lang, delay_days=delay_days))
    _in_both(expected, text, html_words)


def test_refund_is_transactional_multipart_with_confirmation_headers() -> None:
    msg = _refund(configuration_set_headers={"X-SES-CONFIGURATION-SET": "quittance-dev"})
    raw, parsed = wire(msg)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["List-Unsubscribe"] is None
    assert parsed["Precedence"] is None
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Reply-To"].addresses[0].addr_spec == "contact@dupont.example"
    assert parsed["Message-ID"].endswith("@quittance.example>")
    assert parsed["X-SES-CONFIGURATION-SET"] == "quittance-dev"
    assert raw.isascii()


# --- anomaly notices -------------------------------------------------------------------


SUBJECTS = {
    ("fr", AnomalyKind.PARTIAL_PAYMENT): "Facture F-1 : paiement partiel reçu",
    ("en", AnomalyKind.PARTIAL_PAYMENT): "Invoice F-1: partial payment received",
    ("fr", AnomalyKind.OVERPAYMENT): "Facture F-1 : paiement supérieur au montant dû",
    ("en", AnomalyKind.OVERPAYMENT): "Invoice F-1: payment above the amount due",
    ("fr", AnomalyKind.POSSIBLE_DOUBLE_CHARGE): "Facture F-1 : deuxième paiement reçu",
    ("en", AnomalyKind.POSSIBLE_DOUBLE_CHARGE): "Invoice F-1: second payment received",
    ("fr", AnomalyKind.CURRENCY_MISMATCH): "Facture F-1 : paiement reçu dans une autre devise",
    ("en", AnomalyKind.CURRENCY_MISMATCH): "Invoice F-1: payment received in a different currency",
    ("fr", AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE): (
        "Facture F-1 : paiement reçu pour une facture annulée"
    ),
    ("en", AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE): (
        "Invoice F-1: payment received for a cancelled invoice"
    ),
}

KEY_SENTENCES = {
    ("fr", AnomalyKind.PARTIAL_PAYMENT): [
        "Nous avons bien reçu 30,00 € pour la facture F-1. Il reste 10,00 € à régler.",
        "il vous suffit de payer 10,00 € de la même façon que la première fois, "
        "en indiquant la référence F-1.",
        "Montant reçu : 30,00 €",
        "Reste à régler : 10,00 €",
    ],
    ("en", AnomalyKind.PARTIAL_PAYMENT): [
        "We have received €30.00 for invoice F-1. The remaining balance is €10.00.",
        "simply pay €10.00 the same way as last time, quoting reference F-1.",
        "Amount received: €30.00",
        "Remaining balance: €10.00",
    ],
    ("fr", AnomalyKind.OVERPAYMENT): [
        "Vous avez payé 30,00 € pour la facture F-1, soit 10,00 € de plus que son montant.",
        "Nous vous rembourserons ces 10,00 € sur le même moyen de paiement, "
        "dans un délai de 10 jours. Vous n’avez rien à faire.",
        "À rembourser : 10,00 €",
    ],
    ("en", AnomalyKind.OVERPAYMENT): [
        "You paid €30.00 for invoice F-1, which is €10.00 more than the invoice amount.",
        "We will refund the €10.00 to the same payment method within 10 days.",
        "You don't need to do anything.",
        "To be refunded: €10.00",
    ],
    ("fr", AnomalyKind.POSSIBLE_DOUBLE_CHARGE): [
        "Nous avons reçu un deuxième paiement de 30,00 € pour la facture F-1, "
        "qui était déjà réglée.",
        "S’il s’agit d’une erreur, nous vous le rembourserons.",
        "Vous n’avez rien à faire : nous vérifions et vous écrirons de nouveau.",
    ],
    ("en", AnomalyKind.POSSIBLE_DOUBLE_CHARGE): [
        "We have received a second payment of €30.00 for invoice F-1, which had already been paid.",
        "If this is a mistake, we will refund it.",
        "No action is needed on your part: we are checking and will write to you again.",
    ],
    ("fr", AnomalyKind.CURRENCY_MISMATCH): [
        "Nous avons reçu 30,00 $US en dollars des États-Unis pour la facture F-1, "
        "qui est établie en euros.",
        "nous vous le rembourserons sur le même moyen de paiement, "
        "et nous vous contacterons rapidement",
        "À rembourser : 30,00 $US",
    ],
    ("en", AnomalyKind.CURRENCY_MISMATCH): [
        "We have received US$30.00 in US dollars for invoice F-1, which is in euros.",
        "we will refund it to the same payment method, and we will contact you shortly",
        "To be refunded: US$30.00",
    ],
    ("fr", AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE): [
        "Nous avons bien reçu votre paiement de 30,00 € pour la facture F-1, "
        "mais cette facture a été annulée : vous n’avez rien à payer à ce titre.",
        "Nous vous rembourserons ces 30,00 € sur le même moyen de paiement, "
        "dans un délai de 10 jours.",
    ],
    ("en", AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE): [
        "We have received your payment of €30.00 for invoice F-1, "
        "but this invoice was cancelled, so there is nothing to pay on it.",
        "We will refund the €30.00 to the same payment method within 10 days.",
    ],
}

ANOMALY_OPENERS = {
    ("fr", "formal"): "Nous souhaitons vous informer au sujet d’un paiement que nous avons reçu.",
    ("fr", "warm"): "Un petit mot au sujet d’un paiement que nous avons reçu de votre part.",
    ("en", "formal"): "We are writing to you about a payment we have received.",
    ("en", "warm"): "Just a quick note about a payment we've received from you.",
}


@pytest.mark.parametrize("kind", list(AnomalyKind), ids=str)
@pytest.mark.parametrize(("lang", "tone"), LOCALES_AND_TONES)
def test_every_anomaly_renders_in_every_locale_and_tone(
    kind: AnomalyKind, lang: str, tone: str
) -> None:
    # Given a payment that did not simply settle its invoice
    # When the notice is composed in the customer's language and tone
    subject, text, html_words, _ = _read(_anomaly(kind, locale=lang, tone=tone))
    # Then the subject names invoice and situation, and both parts say what happens next
    assert subject == SUBJECTS[(lang, kind)]
    greeting, closing = TONES[(lang, tone)]
    opener = ANOMALY_OPENERS[(lang, tone)]
    for expected in (greeting, opener, *KEY_SENTENCES[(lang, kind)], closing):
        _in_both(expected, text, html_words)
    # And never that the invoice is settled
    for words in (subject, text, html_words):
        for settled in SETTLED_WORDS:
            assert settled not in words.lower()


@pytest.mark.parametrize(
    ("lang", "received", "rest"),
    [("fr", "1 234,56 €", "1 000,00 €"), ("en", "€1,234.56", "€1,000.00")],
)
@pytest.mark.parametrize("kind", [AnomalyKind.PARTIAL_PAYMENT, AnomalyKind.OVERPAYMENT])
def test_amount_and_difference_are_formatted_for_the_locale(
    kind: AnomalyKind, lang: str, received: str, rest: str
) -> None:
    msg = _anomaly(
        kind,
        locale=lang,
        amount=Money(amount_minor=123456, currency="EUR"),
        difference=Money(amount_minor=100000, currency="EUR"),
    )
    _, text, html_words, _ = _read(msg)
    for value in (received, rest):
        _in_both(value, text, html_words)


def test_yen_has_no_minor_digits() -> None:
    msg = _anomaly(
        AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE,
        locale="en",
        amount=Money(amount_minor=5000, currency="JPY"),
    )
    _, text, html_words, _ = _read(msg)
    _in_both("We will refund the JP¥5,000 to the same payment method", text, html_words)


def test_partial_payment_links_to_where_the_rest_is_paid() -> None:
    # Given a payment page for the rest
    msg = _anomaly(AnomalyKind.PARTIAL_PAYMENT, locale="en", payment_url=PAYMENT_URL)
    _, parsed = wire(msg)
    text, html = parts(parsed)
    # Then both parts carry the link instead of the "pay the same way" advice
    assert PAYMENT_URL in text.splitlines()
    assert PAYMENT_URL in HtmlText(html).hrefs
    assert "&amp;currency=EUR" in html
    assert "Pay the remaining balance" in HtmlText(html).words()
    assert "the same way as last time" not in text


@pytest.mark.parametrize(
    "kind",
    [
        AnomalyKind.PARTIAL_PAYMENT,
        AnomalyKind.OVERPAYMENT,
        AnomalyKind.POSSIBLE_DOUBLE_CHARGE,
    ],
    ids=str,
)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_receipt_link_is_in_both_parts_when_given(kind: AnomalyKind, lang: str) -> None:
    _, parsed = wire(_anomaly(kind, locale=lang, receipt_url=RECEIPT_URL))
    text, html = parts(parsed)
    assert RECEIPT_URL in text.splitlines()
    assert RECEIPT_URL in HtmlText(html).hrefs


def test_no_receipt_link_without_receipt_url() -> None:
    _, parsed = wire(_anomaly(AnomalyKind.OVERPAYMENT))
    text, html = parts(parsed)
    assert "reçu de ce paiement" not in text
    assert not [href for href in HtmlText(html).hrefs if href.startswith("https://")]


def test_kind_may_be_given_as_its_value() -> None:
    subject, *_ = _read(_anomaly(AnomalyKind.PARTIAL_PAYMENT, kind="partial_payment"))
    assert subject == "Facture F-1 : paiement partiel reçu"


def test_anomaly_is_transactional() -> None:
    _, parsed = wire(_anomaly(AnomalyKind.OVERPAYMENT))
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["List-Unsubscribe"] is None
    assert parsed["Auto-Submitted"] == "auto-generated"


# --- locale fallback -------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["de-DE", "es", "", "EN_us", "xx"])
def test_unknown_locale_falls_back_to_english(locale: str) -> None:
    refund_subject, *_ = _read(_refund(locale=locale))
    anomaly_subject, text, _, _ = _read(_anomaly(AnomalyKind.PARTIAL_PAYMENT, locale=locale))
    assert refund_subject == "Your refund of €30.00 is on its way"
    assert anomaly_subject == "Invoice F-1: partial payment received"
    assert "The remaining balance is €10.00." in text


def test_french_regional_locale_is_french() -> None:
    subject, *_ = _read(_refund(locale="fr-CA"))
    assert subject == "Votre remboursement de 30,00 € est en route"


# --- customer data cannot inject -------------------------------------------------------


def _composers() -> list[Any]:
    return [
        pytest.param(_refund, id="refund"),
        pytest.param(lambda **kw: _anomaly(AnomalyKind.PARTIAL_PAYMENT, **kw), id="partial"),
        pytest.param(lambda **kw: _anomaly(AnomalyKind.CURRENCY_MISMATCH, **kw), id="mismatch"),
    ]


@pytest.mark.parametrize("compose", _composers())
def test_html_in_customer_fields_is_escaped_in_the_html_part(compose: Any) -> None:
    # Given a name and an invoice number carrying markup
    msg = compose(to_name="<b>x</b>", invoice_number="<script>alert(1)</script>")
    _, parsed = wire(msg)
    text, html = parts(parsed)
    # Then the HTML part shows them as text, and the plain-text part as they are
    assert "<script>" not in html
    assert "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<script>alert(1)</script>" in text
    assert "&lt;" not in text


def test_method_label_markup_is_escaped() -> None:
    _, parsed = wire(_refund(method_label='<img src=x onerror="alert(1)"> & co'))
    text, html = parts(parsed)
    assert "<img" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; co" in html
    assert '<img src=x onerror="alert(1)"> & co' in text


def test_seller_ampersand_is_escaped_in_html_only() -> None:
    _, parsed = wire(_anomaly(AnomalyKind.OVERPAYMENT, seller_name="Dupont & Fils"))
    text, html = parts(parsed)
    assert "Dupont & Fils" in text
    assert "Dupont &amp; Fils" in html


INJECTIONS = [
    INJECTION,
    "Eve\nBcc: attacker@example.com",
    "Eve\rBcc: attacker@example.com",
    "Eve\u2028Bcc: attacker@example.com",
    "Eve\x85Bcc: attacker@example.com",
    "Eve\r\n\r\n<html>forged body</html>",
]
INJECTION_IDS = ["crlf", "lf", "cr", "line-separator", "nel", "body"]


def _assert_inert(msg: EmailMessage) -> None:
    raw, parsed = wire(msg)
    # No header of the attacker's, at the top or in a part (a quoted-printable body line may
    # well start with "Bcc:" after a soft break: that is body text, not a header).
    top_headers = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc:") for line in top_headers.split(b"\r\n"))
    assert all(part["Bcc"] is None for part in parsed.walk())
    assert [a.addr_spec for a in parsed["To"].addresses] == ["lea.martin@example.com"]
    assert len(list(parsed.iter_parts())) == 2
    assert "\n" not in str(parsed["Subject"])
    text, _ = parts(parsed)
    assert not any(line.startswith(("Bcc:", "<html>")) for line in text.splitlines())


@pytest.mark.parametrize("attack", INJECTIONS, ids=INJECTION_IDS)
@pytest.mark.parametrize("field", ["to_name", "invoice_number", "method_label"])
def test_header_injection_through_refund_customer_fields_is_inert(field: str, attack: str) -> None:
    _assert_inert(_refund(**{field: attack}))


@pytest.mark.parametrize("attack", INJECTIONS, ids=INJECTION_IDS)
@pytest.mark.parametrize("field", ["to_name", "invoice_number"])
@pytest.mark.parametrize("kind", list(AnomalyKind), ids=str)
def test_header_injection_through_anomaly_customer_fields_is_inert(
    kind: AnomalyKind, field: str, attack: str
) -> None:
    _assert_inert(_anomaly(kind, **{field: attack}))


def test_injected_invoice_number_is_one_line_in_the_subject() -> None:
    _, parsed = wire(_anomaly(AnomalyKind.PARTIAL_PAYMENT, invoice_number="F-1" + INJECTION))
    assert plain(str(parsed["Subject"])) == (
        "Facture F-1Eve Bcc: attacker@example.com : paiement partiel reçu"
    )
    _, parsed = wire(_refund(to_name=INJECTION))
    assert parsed["To"].addresses[0].display_name == "Eve Bcc: attacker@example.com"


# --- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"credit_note_number": "A-1\r\nBcc: x@example.com"},
        {"credit_note_number": ""},
        {"receipt_number": "R-1\r\nBcc: x@example.com"},
        {"seller_name": INJECTION},
        {"sender": Sender(email="recus@quittance.example", name=INJECTION)},
        {"message_id_domain": "quittance.example>\r\nBcc: x@example.com"},
        {"configuration_set_headers": {"List-Unsubscribe": "<mailto:x@example.com>"}},
    ],
    ids=["credit-note", "empty-credit-note", "receipt", "seller", "sender", "msgid", "extra"],
)
def test_unsafe_refund_configuration_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(UnsafeHeaderValue):
        _refund(**overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {"credit_note_url": "javascript:alert(1)"},
        {"credit_note_url": "/c/relative"},
        {"survey_url": "https://survey.example/q\r\nBcc: y"},
        {"refunded_at": datetime(2026, 3, 15, 13, 30)},
        {"refunded": Money(amount_minor=0, currency="EUR")},
        {"delay_days": (0, 3)},
        {"delay_days": (10, 5)},
        {"timezone": "Mars/Olympus_Mons"},
        {"tone": "casual"},
        {"to_email": "lea@example.com\r\nBcc: attacker@example.com"},
    ],
    ids=[
        "js-url",
        "relative-url",
        "crlf-survey",
        "naive-time",
        "zero",
        "zero-days",
        "reversed-days",
        "zone",
        "tone",
        "address",
    ],
)
def test_invalid_refund_arguments_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _refund(**overrides)


@pytest.mark.parametrize(
    ("kind", "overrides"),
    [
        (AnomalyKind.PARTIAL_PAYMENT, {"difference": None}),
        (AnomalyKind.OVERPAYMENT, {"difference": Money(amount_minor=0, currency="EUR")}),
        (AnomalyKind.OVERPAYMENT, {"difference": Money(amount_minor=100, currency="USD")}),
        (AnomalyKind.CURRENCY_MISMATCH, {"invoice_currency": None}),
        (AnomalyKind.CURRENCY_MISMATCH, {"invoice_currency": "USD"}),
        (AnomalyKind.CURRENCY_MISMATCH, {"invoice_currency": "ZZZ"}),
        (AnomalyKind.CURRENCY_MISMATCH, {"receipt_url": RECEIPT_URL}),
        (AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE, {"receipt_url": RECEIPT_URL}),
        (AnomalyKind.OVERPAYMENT, {"refund_within_days": 0}),
        (AnomalyKind.PARTIAL_PAYMENT, {"payment_url": "ftp://pay.example/F-1"}),
        (AnomalyKind.OVERPAYMENT, {"paid_at": datetime(2026, 3, 15, 13, 30)}),
        (AnomalyKind.OVERPAYMENT, {"kind": "refund"}),
        (AnomalyKind.OVERPAYMENT, {"seller_phone": "+33\n1"}),
    ],
    ids=[
        "partial-no-difference",
        "over-zero",
        "over-other-currency",
        "mismatch-no-currency",
        "mismatch-same-currency",
        "mismatch-unknown-currency",
        "mismatch-receipt",
        "cancelled-receipt",
        "zero-days",
        "ftp-payment-url",
        "naive-time",
        "unknown-kind",
        "seller-phone",
    ],
)
def test_invalid_anomaly_arguments_are_refused(
    kind: AnomalyKind, overrides: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        _anomaly(kind, **overrides)
