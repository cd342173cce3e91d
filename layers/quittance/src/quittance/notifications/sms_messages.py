"""The SMS text of each message kind, French or English, meant to fit one GSM-7 segment.

The wording avoids characters outside the GSM 7-bit alphabet (French "ç", "ê", "î" …:
"quittance" rather than "reçu"), and Babel's typographic spaces are made plain, so that a
realistic text stays within 160 septets (``sms_text``). A text never names the customer
(nothing personal on a lock screen) and says nothing marketing. Where a link would not fit
in one segment (a signed receipt link is long), the text is sent without it: the email
carries the link; the SMS is the nudge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from quittance.ledger.state import AnomalyKind
from quittance.models.events import FailureCategory
from quittance.notifications.email_kit import Language
from quittance.notifications.sms_text import fits_one_segment, plain

_TEXTS: dict[Language, dict[str, str]] = {
    "fr": {
        "payment_confirmed": (
            "{brand}: paiement de {amount} bien enregistré, facture {invoice} soldée "
            "(quittance {receipt}). Merci !"
        ),
        "payment_confirmed+link": (
            "{brand}: paiement de {amount} enregistré, facture {invoice} soldée. Merci ! "
            "Quittance: {link}"
        ),
        "partial_payment": (
            "{brand}: nous avons bien enregistré {amount} pour la facture {invoice}. "
            "Reste à régler: {balance}. Merci !"
        ),
        "partial_payment+link": (
            "{brand}: {amount} enregistrés pour la facture {invoice}. Reste à régler: "
            "{balance}. Régler: {link}"
        ),
        "payment_failed": (
            "{brand}: votre paiement de {amount} (facture {invoice}) n'a pas abouti: "
            "{reason}. Aucun montant n'a été débité."
        ),
        "payment_failed+link": (
            "{brand}: paiement de {amount} non abouti ({reason}). Aucun montant débité. "
            "Mettre à jour: {link}"
        ),
        "refund_issued": (
            "{brand}: remboursement de {amount} effectué (avoir {receipt}). "
            "Visible sur votre compte sous {delay} en général."
        ),
        "anomaly_notice": "{brand}: facture {invoice}, paiement de {amount}. {anomaly}",
        "invoice_reminder": (
            "{brand}: petit rappel, la facture {invoice} attend encore {amount}. "
            "Déjà réglé ? Merci, ignorez ce message."
        ),
    },
    "en": {
        "payment_confirmed": (
            "{brand}: payment of {amount} received, invoice {invoice} paid in full "
            "(receipt {receipt}). Thank you!"
        ),
        "payment_confirmed+link": (
            "{brand}: payment of {amount} received, invoice {invoice} paid in full. "
            "Thank you! Receipt: {link}"
        ),
        "partial_payment": (
            "{brand}: we received {amount} for invoice {invoice}. "
            "Balance due: {balance}. Thank you!"
        ),
        "partial_payment+link": (
            "{brand}: we received {amount} for invoice {invoice}. Balance due: {balance}. "
            "Pay: {link}"
        ),
        "payment_failed": (
            "{brand}: your payment of {amount} (invoice {invoice}) did not go through: "
            "{reason}. No amount was charged."
        ),
        "payment_failed+link": (
            "{brand}: your payment of {amount} did not go through ({reason}). "
            "No amount was charged. Update: {link}"
        ),
        "refund_issued": (
            "{brand}: refund of {amount} issued (credit note {receipt}). "
            "Usually on your account within {delay}."
        ),
        "anomaly_notice": "{brand}: invoice {invoice}, payment of {amount}. {anomaly}",
        "invoice_reminder": (
            "{brand}: a friendly reminder that {amount} is still due on invoice {invoice}. "
            "Already paid? Thank you, please ignore this."
        ),
    },
}

_REASONS: dict[Language, dict[FailureCategory, str]] = {
    "fr": {
        FailureCategory.INSUFFICIENT_FUNDS: "solde insuffisant",
        FailureCategory.EXPIRED_CARD: "carte expirée",
        FailureCategory.SUSPECTED_FRAUD: "bloqué par précaution",
        FailureCategory.AUTHENTICATION_REQUIRED: "validation non faite",
        FailureCategory.DECLINED: "refusé par votre banque",
        FailureCategory.TECHNICAL: "incident technique",
    },
    "en": {
        FailureCategory.INSUFFICIENT_FUNDS: "insufficient funds",
        FailureCategory.EXPIRED_CARD: "card expired",
        FailureCategory.SUSPECTED_FRAUD: "blocked as a precaution",
        FailureCategory.AUTHENTICATION_REQUIRED: "bank check not done",
        FailureCategory.DECLINED: "declined by your bank",
        FailureCategory.TECHNICAL: "technical problem",
    },
}

_ANOMALIES: dict[Language, dict[AnomalyKind, str]] = {
    "fr": {
        AnomalyKind.PARTIAL_PAYMENT: "Il reste un solde à régler.",
        AnomalyKind.OVERPAYMENT: "Montant trop élevé: l'excédent vous sera remboursé.",
        AnomalyKind.POSSIBLE_DOUBLE_CHARGE: "Deuxième paiement: nous vérifions, rien à faire.",
        AnomalyKind.CURRENCY_MISMATCH: "Autre devise: il vous sera remboursé.",
        AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE: "Facture annulée: il vous sera remboursé.",
    },
    "en": {
        AnomalyKind.PARTIAL_PAYMENT: "A balance remains due.",
        AnomalyKind.OVERPAYMENT: "More than was due: the excess will be refunded.",
        AnomalyKind.POSSIBLE_DOUBLE_CHARGE: "Second payment: we are checking, nothing to do.",
        AnomalyKind.CURRENCY_MISMATCH: "Other currency: it will be refunded.",
        AnomalyKind.PAYMENT_ON_CANCELLED_INVOICE: "Cancelled invoice: it will be refunded.",
    },
}


@dataclass(frozen=True)
class SmsFacts:
    """The values an SMS may show, already formatted for the customer's locale."""

    brand: str
    invoice: str
    amount: str
    receipt: str = ""
    balance: str = ""
    delay: str = ""
    reason: FailureCategory | None = None
    anomaly: AnomalyKind | None = None
    link: str | None = None
    fallback_link: str | None = None
    """A shorter link to try when ``link`` does not fit (a gateway's page is long)."""


def sms_text(kind: str, lang: Language, facts: SmsFacts) -> str:
    """The text for ``kind``: with its link when that still fits one segment, else without."""
    texts = _TEXTS[lang]
    if kind not in texts:
        raise ValueError(f"no SMS wording for {kind!r}")
    values: Mapping[str, str] = {
        "brand": facts.brand,
        "invoice": facts.invoice,
        "amount": facts.amount,
        "receipt": facts.receipt,
        "balance": facts.balance,
        "delay": facts.delay,
        "reason": _REASONS[lang][facts.reason] if facts.reason else "",
        "anomaly": _ANOMALIES[lang][facts.anomaly] if facts.anomaly else "",
        "link": facts.link or "",
    }
    with_link = f"{kind}+link"
    if with_link in texts:
        for link in (facts.link, facts.fallback_link):
            if not link:
                continue
            text = plain(texts[with_link].format(**{**values, "link": link}))
            if fits_one_segment(text):
                return text
    return plain(texts[kind].format(**values))
