"""Issue 19: the customer's message states the proof each payment method calls for (the
proof-of-payment guide's table: transfer reference, IBAN and value date; cheque number,
bank and dates; cash received by whom; card brand, last four and wallet; the SEPA mandate),
in French and English, formal and warm, in the plain-text and the HTML part alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from quittance.models.customer import CustomerProfile
from quittance.models.events import MethodKind, PaymentMethod
from quittance.models.money import Money
from quittance.notifications.dispatch import MessageOptions, compose_email
from quittance.notifications.email_kit import Letterhead, SellerContact, Sender
from tests.unit.jobs import notification_job
from tests.unit.mail import HtmlText, parts, plain, wire

PAID_AT = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
LETTERHEAD = Letterhead.of(
    Sender(email="receipts@example.com", name="Atelier"),
    SellerContact(name="Atelier", email="contact@example.com", phone="+33 1 23 45 67 89"),
)
LINK = "https://pay.example.com/r/TOKEN"

TRANSFER = PaymentMethod(
    kind=MethodKind.SEPA_TRANSFER,
    transfer_reference="VIR-2026-1123-0042",
    iban_masked="FR76 **** **** **** **** ***0 189",
    value_date=date(2026, 11, 24),
)
CHEQUE = PaymentMethod(
    kind=MethodKind.CHEQUE,
    cheque_number="0001234",
    cheque_bank="Crédit Agricole",
    cashing_date=date(2026, 11, 26),
)
CASH = PaymentMethod(kind=MethodKind.CASH, received_by="Marie Dupont")
CARD = PaymentMethod(
    kind=MethodKind.CARD,
    card_brand="visa",
    card_last4="4242",
    wallet_provider="apple_pay",
    transaction_id="pi_3PqR7",
)
DEBIT = PaymentMethod(kind=MethodKind.SEPA_DEBIT, mandate_reference="MD-2026-00042")

# What each message must state, per method and language: (label, value) as one line reads.
PROOFS: dict[str, tuple[PaymentMethod, dict[str, list[str]]]] = {
    "transfer": (
        TRANSFER,
        {
            "fr": [
                "Moyen de paiement : virement SEPA",
                "Référence du virement : VIR-2026-1123-0042",
                "Compte (IBAN) : FR76 •••• •••• •••• •••• •••0 189",
                "Date de valeur : 24 novembre 2026",
            ],
            "en": [
                "Payment method: SEPA transfer",
                "Transfer reference: VIR-2026-1123-0042",
                "Account (IBAN): FR76 •••• •••• •••• •••• •••0 189",
                "Value date: 24 November 2026",
            ],
        },
    ),
    "cheque": (
        CHEQUE,
        {
            "fr": [
                "Moyen de paiement : chèque",
                "Chèque n° : 0001234",
                "Tiré sur : Crédit Agricole",
                "Reçu le : 23 novembre 2026",
                "Date d’encaissement : 26 novembre 2026",
            ],
            "en": [
                "Payment method: cheque",
                "Cheque no.: 0001234",
                "Drawn on: Crédit Agricole",
                "Received on: 23 November 2026",
                "Date paid in: 26 November 2026",
            ],
        },
    ),
    "cash": (
        CASH,
        {
            "fr": ["Moyen de paiement : espèces", "Reçu par : Marie Dupont", "Montant : 123,45 €"],
            "en": ["Payment method: cash", "Received by: Marie Dupont", "Amount: €123.45"],
        },
    ),
    "card": (
        CARD,
        {
            "fr": [
                "Moyen de paiement : Visa •••• 4242",
                "Portefeuille : Apple Pay",
                "N° de transaction : pi_3PqR7",
            ],
            "en": [
                "Payment method: Visa •••• 4242",
                "Wallet: Apple Pay",
                "Transaction no.: pi_3PqR7",
            ],
        },
    ),
    "sepa-debit": (
        DEBIT,
        {
            "fr": [
                "Moyen de paiement : prélèvement SEPA",
                "Référence du mandat : MD-2026-00042",
            ],
            "en": ["Payment method: SEPA direct debit", "Mandate reference: MD-2026-00042"],
        },
    ),
}


def _email(kind: str, method: PaymentMethod, locale: str, tone: str, **kw: Any) -> EmailMessage:
    job = notification_job(
        PAID_AT,
        correlation_id="c-1",
        kind=kind,
        change_id=f"R-2026-000042:{kind}",
        customer_id="C-1",
        receipt_number="R-2026-000042",
        invoice_number="F-2026-0042",
        amount=Money(amount_minor=12345, currency="EUR"),
        method=method,
        **kw,
    )
    return compose_email(
        job,
        profile=CustomerProfile(
            email="camille@example.com",
            name="Camille Martin",
            locale=locale,
            segment="b2b" if tone == "formal" else "b2c",
            timezone="Europe/Paris",
        ),
        link=LINK,
        letterhead=LETTERHEAD,
        options=MessageOptions(),
    )


def _lines(message: EmailMessage) -> tuple[list[str], str]:
    """The plain part's lines (spaces normalised) and the HTML part's visible words."""
    _, parsed = wire(message)
    text, html = parts(parsed)
    return [" ".join(plain(line).split()) for line in text.splitlines()], HtmlText(html).words()


@pytest.mark.parametrize("tone", ["formal", "warm"])
@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("method", list(PROOFS))
def test_the_confirmation_states_the_proofs_of_its_method(
    method: str, locale: str, tone: str
) -> None:
    # Given a payment by this method, confirmed to a customer of this language and segment
    payment, expected = PROOFS[method]
    lines, html = _lines(_email("payment_confirmed", payment, locale, tone))
    # Then each proof reads as one line of the plain part and the same words in the HTML part
    for proof in expected[locale]:
        assert proof in lines, (proof, lines)
        assert proof in html, (proof, html)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_partly_paid_invoice_states_the_transfer_that_paid_part_of_it(locale: str) -> None:
    lines, html = _lines(
        _email(
            "partial_payment",
            TRANSFER,
            locale,
            "formal",
            balance_due=Money(amount_minor=5000, currency="EUR"),
        )
    )
    for proof in PROOFS["transfer"][1][locale]:
        assert proof in lines and proof in html


def test_a_cheque_received_late_in_the_evening_states_the_customers_day() -> None:
    # 23:30 UTC on 30 November is 1 December in Paris: the customer's calendar decides.
    job_at = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    message = compose_email(
        notification_job(
            job_at,
            correlation_id="c-1",
            kind="payment_confirmed",
            change_id="R-1:payment_confirmed",
            customer_id="C-1",
            receipt_number="R-1",
            invoice_number="F-1",
            amount=Money(amount_minor=12345, currency="EUR"),
            method=CHEQUE.model_copy(update={"cashing_date": None}),
        ),
        profile=CustomerProfile(email="camille@example.com", locale="en", timezone="Europe/Paris"),
        link=LINK,
        letterhead=LETTERHEAD,
        options=MessageOptions(),
    )
    lines, _ = _lines(message)
    assert "Received on: 1 December 2026" in lines
    assert not any(line.startswith("Date paid in") for line in lines)  # not cashed yet


def test_a_hostile_proof_value_is_text_in_both_parts() -> None:
    hostile = TRANSFER.model_copy(
        update={"transfer_reference": "<script>x</script>\r\nBcc: victim@example.com"}
    )
    _, parsed = wire(_email("payment_confirmed", hostile, "fr", "warm"))
    text, html = parts(parsed)
    assert parsed["Bcc"] is None
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Référence du virement : <script>x</script> Bcc: victim@example.com" in plain(text)


def test_a_refund_names_where_the_money_goes_not_the_payments_proofs() -> None:
    message = compose_email(
        notification_job(
            PAID_AT + timedelta(days=2),
            correlation_id="c-1",
            kind="refund_issued",
            change_id="AV-1:refund_issued",
            customer_id="C-1",
            receipt_number="AV-2026-000007",
            original_receipt_number="R-2026-000042",
            invoice_number="F-2026-0042",
            amount=Money(amount_minor=5000, currency="EUR"),
            method=TRANSFER,
        ),
        profile=CustomerProfile(email="camille@example.com", locale="fr"),
        link=LINK,
        letterhead=LETTERHEAD,
        options=MessageOptions(),
    )
    lines, _ = _lines(message)
    assert "Moyen de paiement : virement SEPA" in lines
    assert not any(line.startswith("Référence du virement") for line in lines)
