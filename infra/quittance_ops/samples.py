"""Sample receipt documents: the previews in docs/receipts and the render benchmark use them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from quittance.models.events import MethodKind, PaymentMethod
from quittance.models.money import Money
from quittance.receipts.document import ReceiptDocument, Seller

SELLER = Seller(
    name="Atelier Quittance SAS",
    address="12 rue des Archives, 75004 Paris, France",
    siren="732829320",
    vat_number="FR44732829320",
    email="contact@example.com",
    phone="+33 1 23 45 67 89",
    brand_colour="#1f4e79",
    opening_hours="Lun–ven 9 h–18 h",
)
ISSUED = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)


def french_b2c_card(seller: Seller = SELLER) -> ReceiptDocument:
    return ReceiptDocument(
        receipt_number="R-2026-000042",
        invoice_number="F-2026-0142",
        issued_at=ISSUED,
        paid_at=datetime(2026, 11, 23, 13, 4, tzinfo=UTC),
        locale="fr",
        tone="warm",
        seller=seller,
        customer_name="Camille Durand",
        customer_address="8 avenue Jean Jaurès, 69007 Lyon",
        amount=Money(amount_minor=123456, currency="EUR"),
        status="paid",
        balance_due=Money(amount_minor=0, currency="EUR"),
        method=PaymentMethod(
            kind=MethodKind.CARD,
            card_brand="visa",
            card_last4="4242",
            transaction_id="ch_3PqRsTuVwXyZ0123456789ab",
        ),
        verify_url="https://pay.example.com/r/AQJrMQ1SLTIwMjYtMDAwMDQy",
        next_steps="Votre commande part demain de notre atelier de Lyon.",
    )


def english_b2b_transfer(seller: Seller = SELLER) -> ReceiptDocument:
    return ReceiptDocument(
        receipt_number="R-2026-000043",
        invoice_number="F-2026-0143",
        issued_at=ISSUED,
        paid_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        locale="en",
        tone="formal",
        is_translation=True,
        seller=seller,
        customer_name="Northwind Trading Ltd",
        customer_address="1 King Street, London EC2V 8AU, United Kingdom",
        amount=Money(amount_minor=480000, currency="EUR"),
        status="paid",
        balance_due=Money(amount_minor=0, currency="EUR"),
        method=PaymentMethod(
            kind=MethodKind.SEPA_TRANSFER,
            transfer_reference="VIR-SEPA-20261120-000117",
            iban_masked="FR76 **** **** **** **** ***0 189",
            value_date=date(2026, 11, 20),
        ),
        verify_url="https://pay.example.com/r/AQJrMQ1SLTIwMjYtMDAwMDQz",
        line_items=(
            {
                "description": "Consulting, November",
                "quantity": "8",
                "unit_price": {"amount_minor": 45000, "currency": "EUR"},
                "vat_rate": "0",
            },
            {
                "description": "Travel",
                "quantity": "1",
                "unit_price": {"amount_minor": 120000, "currency": "EUR"},
                "vat_rate": "0",
            },
        ),
    )


def credit_note(seller: Seller = SELLER) -> ReceiptDocument:
    return ReceiptDocument(
        receipt_number="AV-2026-000007",
        kind="credit_note",
        original_receipt_number="R-2026-000042",
        invoice_number="F-2026-0142",
        issued_at=ISSUED,
        paid_at=datetime(2026, 11, 23, 12, 40, tzinfo=UTC),
        locale="fr",
        tone="warm",
        seller=seller,
        customer_name="Camille Durand",
        customer_address=None,
        amount=Money(amount_minor=20000, currency="EUR"),
        status="refunded",
        balance_due=Money(amount_minor=0, currency="EUR"),
        method=PaymentMethod(kind=MethodKind.CARD, card_brand="visa", card_last4="4242"),
        verify_url="https://pay.example.com/r/AQJrMQ5BVi0yMDI2LTAwMDAwNw",
    )


SAMPLES = {
    "fr-b2c-card": french_b2c_card,
    "en-b2b-transfer": english_b2b_transfer,
    "fr-credit-note": credit_note,
}
