"""How a payment reads in a customer message: the method's label and the proof fields the
proof-of-payment guide asks each method to state, as rows of (label, value) that composers
show among the message's facts (the receipt PDF prints the same fields).

- card: brand and last four digits (the label), the wallet it went through, the
  transaction number;
- bank transfer: the bank's reference, the payer's IBAN masked, the value date;
- SEPA direct debit: the mandate reference (and the masked IBAN when known);
- cheque: its number, the bank it is drawn on, the day it was received, the day it was paid
  in when known;
- cash: who received it (the amount and the date are the message's own rows).

Values come from gateways, bank statements or staff: made single-line here, escaped by the
HTML template. Never more of a card number or an IBAN than the gateway gave masked."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from quittance.models.events import MethodKind, PaymentMethod
from quittance.notifications.email_kit import BABEL_LOCALES, NBSP, TEXTS, Language, single_line
from quittance.notifications.method_label import method_label, pretty_name

_LABELS: dict[Language, dict[str, str]] = {
    "fr": {
        "wallet": f"Portefeuille{NBSP}:",
        "transaction": f"N° de transaction{NBSP}:",
        "transfer_reference": f"Référence du virement{NBSP}:",
        "iban": f"Compte (IBAN){NBSP}:",
        "value_date": f"Date de valeur{NBSP}:",
        "mandate": f"Référence du mandat{NBSP}:",
        "cheque_number": f"Chèque n°{NBSP}:",
        "cheque_bank": f"Tiré sur{NBSP}:",
        "received_on": f"Reçu le{NBSP}:",
        "cashing_date": f"Date d’encaissement{NBSP}:",
        "received_by": f"Reçu par{NBSP}:",
    },
    "en": {
        "wallet": "Wallet:",
        "transaction": "Transaction no.:",
        "transfer_reference": "Transfer reference:",
        "iban": "Account (IBAN):",
        "value_date": "Value date:",
        "mandate": "Mandate reference:",
        "cheque_number": "Cheque no.:",
        "cheque_bank": "Drawn on:",
        "received_on": "Received on:",
        "cashing_date": "Date paid in:",
        "received_by": "Received by:",
    },
}
# Kinds whose proof is the gateway's transaction (the bank's own references prove the rest).
_TRANSACTION_KINDS = frozenset({MethodKind.CARD, MethodKind.WALLET, MethodKind.OTHER})


def method_rows(
    method: PaymentMethod, lang: Language, *, paid_on: date | None = None
) -> list[tuple[str, str]]:
    """The method as the customer knows it ("Visa •••• 4242", "virement SEPA"), then each
    proof field it carries. ``paid_on`` is the day the payment was received, on the
    customer's calendar: a cheque states it."""
    labels = _LABELS[lang]
    label = single_line(method_label(method, lang))
    rows = [(TEXTS[lang]["method"], label)]

    def add(key: str, value: str | None) -> None:
        if value and value.strip():
            rows.append((labels[key], single_line(value)))

    def day(value: date | None) -> str | None:
        return format_date(value, "long", locale=BABEL_LOCALES[lang]) if value else None

    if method.wallet_provider and pretty_name(method.wallet_provider) != label:
        add("wallet", pretty_name(method.wallet_provider))
    if method.kind in _TRANSACTION_KINDS:
        add("transaction", method.transaction_id)
    add("transfer_reference", method.transfer_reference)
    add("mandate", method.mandate_reference)
    add("iban", method.iban_masked.replace("*", "•") if method.iban_masked else None)
    add("value_date", day(method.value_date))
    add("cheque_number", method.cheque_number)
    add("cheque_bank", method.cheque_bank)
    if method.kind is MethodKind.CHEQUE:
        add("received_on", day(paid_on))
    add("cashing_date", day(method.cashing_date))
    add("received_by", method.received_by)
    return rows
