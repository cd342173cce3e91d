"""What a receipt or a credit note says, in French and English, and the names of card
brands and wallets as their holders know them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from quittance.receipts.document import Language

TEXT: Final[dict[Language, dict[str, str]]] = {
    "fr": {
        "title.receipt": "Reçu de paiement",
        "title.credit_note": "Avoir",
        "pdf_title.receipt": "Reçu {number}",
        "pdf_title.credit_note": "Avoir {number}",
        "number.receipt": "Reçu n°",
        "number.credit_note": "Avoir n°",
        "invoice_number": "Facture n°",
        "original_receipt": "Reçu d’origine",
        "issued_at": "Date d’émission",
        "paid_at.receipt": "Payé le",
        "paid_at.credit_note": "Remboursement émis le",
        "amount.receipt": "Montant reçu",
        "amount.credit_note": "Montant remboursé",
        "status.paid": "Facture soldée",
        "status.partial": "Reste à payer\u00a0: {balance}",
        "status.overpaid": (
            "Trop-perçu de {balance}\u00a0: il vous sera remboursé sur le même moyen de paiement."
        ),
        "status.refunded": (
            "{amount} seront recrédités sur votre moyen de paiement d’origine, "
            "sous {low} à {high} jours ouvrés."
        ),
        "credit_note.intro": (
            "Cet avoir se rapporte au reçu n°\u00a0{original} (facture n°\u00a0{invoice})."
        ),
        "customer": "Client",
        "method.receipt": "Moyen de paiement",
        "method.credit_note": "Remboursé sur",
        "field.method": "Moyen",
        "field.card": "Carte",
        "field.transaction": "N° de transaction",
        "field.transfer_reference": "Référence du virement",
        "field.iban": "Compte (IBAN)",
        "field.value_date": "Date de valeur",
        "field.mandate": "Référence du mandat",
        "field.cheque_number": "Chèque n°",
        "field.cheque_bank": "Tiré sur",
        "field.cashing_date": "Date d’encaissement",
        "field.received_by": "Reçu par",
        "field.wallet": "Portefeuille",
        "kind.card": "Carte bancaire",
        "kind.sepa_transfer": "Virement SEPA",
        "kind.sepa_debit": "Prélèvement SEPA",
        "kind.cheque": "Chèque",
        "kind.cash": "Espèces",
        "kind.wallet": "Portefeuille électronique",
        "kind.other": "Autre moyen de paiement",
        "thanks.receipt.formal": "Nous vous remercions de votre règlement.",
        "thanks.receipt.warm": "Merci beaucoup, à très bientôt\u00a0!",
        "thanks.credit_note.formal": "Nous restons à votre disposition pour toute question.",
        "thanks.credit_note.warm": (
            "Une question\u00a0? Écrivez-nous, nous sommes là pour vous aider."
        ),
        "next_steps": "Et maintenant\u00a0?",
        "verify.title.receipt": "Vérifier ce reçu",
        "verify.title.credit_note": "Vérifier cet avoir",
        "verify.text": (
            "Scannez le code ou ouvrez le lien pour vérifier l’authenticité "
            "de ce document et le retrouver en ligne."
        ),
        "invoice_details": "Détail de la facture",
        "col.description": "Désignation",
        "col.quantity": "Qté",
        "col.unit_price": "PU HT",
        "col.vat_rate": "TVA",
        "col.total": "Total HT",
        "vat.rate": "Taux",
        "vat.base": "Base HT",
        "vat.amount": "TVA",
        "vat.total": "Total TTC",
        "total.excl": "Total HT",
        "total.vat": "Total TVA",
        "total.incl": "Total TTC",
        "contact.hours": "Horaires\u00a0:",
        "tz.zone": "heure de {city}",
        "tz.utc": "UTC",
        "datetime": "d MMMM y 'à' HH:mm",
        "legal.siren": "SIREN\u00a0{siren}",
        "legal.vat": "TVA intracommunautaire\u00a0{vat}",
        "legal.terms": "Conditions générales de vente\u00a0: {url}",
        "legal.electronic": (
            "Document émis électroniquement au format PDF/A-3. "
            "Une copie lisible par machine ({attachment}) y est jointe."
        ),
    },
    "en": {
        "title.receipt": "Payment receipt",
        "title.credit_note": "Credit note",
        "pdf_title.receipt": "Receipt {number}",
        "pdf_title.credit_note": "Credit note {number}",
        "number.receipt": "Receipt no.",
        "number.credit_note": "Credit note no.",
        "invoice_number": "Invoice no.",
        "original_receipt": "Original receipt",
        "issued_at": "Issue date",
        "paid_at.receipt": "Paid on",
        "paid_at.credit_note": "Refund issued on",
        "amount.receipt": "Amount received",
        "amount.credit_note": "Amount refunded",
        "status.paid": "Invoice paid in full",
        "status.partial": "Balance due: {balance}",
        "status.overpaid": (
            "Overpayment of {balance}: it will be refunded to the same payment method."
        ),
        "status.refunded": (
            "{amount} will be credited back to your original payment method "
            "within {low} to {high} business days."
        ),
        "credit_note.intro": (
            "This credit note relates to receipt no.\u00a0{original} (invoice no.\u00a0{invoice})."
        ),
        "customer": "Customer",
        "method.receipt": "Payment method",
        "method.credit_note": "Refunded to",
        "field.method": "Method",
        "field.card": "Card",
        "field.transaction": "Transaction no.",
        "field.transfer_reference": "Transfer reference",
        "field.iban": "Account (IBAN)",
        "field.value_date": "Value date",
        "field.mandate": "Mandate reference",
        "field.cheque_number": "Cheque no.",
        "field.cheque_bank": "Drawn on",
        "field.cashing_date": "Date paid in",
        "field.received_by": "Received by",
        "field.wallet": "Wallet",
        "kind.card": "Bank card",
        "kind.sepa_transfer": "SEPA bank transfer",
        "kind.sepa_debit": "SEPA Direct Debit",
        "kind.cheque": "Cheque",
        "kind.cash": "Cash",
        "kind.wallet": "Digital wallet",
        "kind.other": "Other payment method",
        "thanks.receipt.formal": "Thank you for your payment.",
        "thanks.receipt.warm": "Thanks so much — see you soon!",
        "thanks.credit_note.formal": "Please do not hesitate to contact us with any questions.",
        "thanks.credit_note.warm": "Any questions? Just drop us a line — we’re happy to help.",
        "next_steps": "What happens next",
        "verify.title.receipt": "Verify this receipt",
        "verify.title.credit_note": "Verify this credit note",
        "verify.text": (
            "Scan the code or open the link to check that this document is genuine "
            "and to find it online."
        ),
        "invoice_details": "Invoice details",
        "col.description": "Description",
        "col.quantity": "Qty",
        "col.unit_price": "Unit price",
        "col.vat_rate": "VAT",
        "col.total": "Net",
        "vat.rate": "Rate",
        "vat.base": "Net",
        "vat.amount": "VAT",
        "vat.total": "Gross",
        "total.excl": "Total excl. VAT",
        "total.vat": "Total VAT",
        "total.incl": "Total incl. VAT",
        "contact.hours": "Opening hours:",
        "tz.zone": "{city} time",
        "tz.utc": "UTC",
        "datetime": "d MMMM y 'at' HH:mm",
        "legal.siren": "SIREN\u00a0{siren}",
        "legal.vat": "VAT no.\u00a0{vat}",
        "legal.terms": "Terms of sale: {url}",
        "legal.electronic": (
            "Issued electronically as a PDF/A-3 document, "
            "with a machine-readable copy ({attachment}) attached."
        ),
        "translation": "Translation — the French original is the legal document.",
    },
}

CARD_BRANDS: Final = {
    "amex": "American Express",
    "american_express": "American Express",
    "cartes_bancaires": "CB",
    "cb": "CB",
    "diners": "Diners Club",
    "discover": "Discover",
    "jcb": "JCB",
    "maestro": "Maestro",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}
WALLETS: Final = {
    "apple_pay": "Apple Pay",
    "applepay": "Apple Pay",
    "google_pay": "Google Pay",
    "googlepay": "Google Pay",
    "lydia": "Lydia",
    "paylib": "Paylib",
    "paypal": "PayPal",
    "samsung_pay": "Samsung Pay",
    "wero": "Wero",
}


def pretty_name(names: Mapping[str, str], value: str) -> str:
    """A provider's code ("american_express", "apple_pay") as its holder knows it."""
    return names.get(value.strip().lower().replace(" ", "_"), value)
