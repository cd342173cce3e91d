"""How a payment method reads in a customer message: "Visa •••• 4242", "virement SEPA"."""

from __future__ import annotations

from typing import Literal

from quittance.models.events import MethodKind, PaymentMethod

_KINDS: dict[Literal["fr", "en"], dict[MethodKind, str]] = {
    "fr": {
        MethodKind.CARD: "carte bancaire",
        MethodKind.SEPA_TRANSFER: "virement SEPA",
        MethodKind.SEPA_DEBIT: "prélèvement SEPA",
        MethodKind.CHEQUE: "chèque",
        MethodKind.CASH: "espèces",
        MethodKind.WALLET: "portefeuille électronique",
        MethodKind.OTHER: "autre moyen de paiement",
    },
    "en": {
        MethodKind.CARD: "bank card",
        MethodKind.SEPA_TRANSFER: "SEPA transfer",
        MethodKind.SEPA_DEBIT: "SEPA direct debit",
        MethodKind.CHEQUE: "cheque",
        MethodKind.CASH: "cash",
        MethodKind.WALLET: "digital wallet",
        MethodKind.OTHER: "other payment method",
    },
}
_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "cb": "CB",
    "apple_pay": "Apple Pay",
    "google_pay": "Google Pay",
    "paypal": "PayPal",
}


def method_label(method: PaymentMethod, lang: Literal["fr", "en"]) -> str:
    """Brand and last four digits when known, else the kind; never more of a card or IBAN."""
    if method.card_brand or method.card_last4:
        brand = pretty_name(method.card_brand) if method.card_brand else _KINDS[lang][method.kind]
        return f"{brand} •••• {method.card_last4}" if method.card_last4 else brand
    if method.wallet_provider:
        return pretty_name(method.wallet_provider)
    return _KINDS[lang][method.kind]


def pretty_name(value: str) -> str:
    """A card brand or wallet as customers write it ("apple_pay" → "Apple Pay")."""
    return _BRANDS.get(value.strip().lower(), value.strip())
