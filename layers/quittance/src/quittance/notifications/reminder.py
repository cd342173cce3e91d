"""The invoice reminder: a courteous, transactional email (no unsubscribe) in French or
English, formal (B2B) or warm (B2C), before or after the due date.

It says what is due, by when, how to pay and whom to ask, and that a payment made in the
meantime makes it void. Built like the refund and anomaly notices (``refund.py``,
``anomaly.py``): the same header safety, address validation, Jinja2 environment and layout,
and Babel for amounts and dates in the customer's locale. The due date is a calendar date;
whether it has passed is judged on the customer's own calendar (their time zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage

from babel.dates import format_date

from quittance.models.money import Money
from quittance.notifications.email_kit import (
    BABEL_LOCALES,
    NBSP,
    NNBSP,
    Language,
    Letterhead,
    Recipient,
    Tone,
    base_context,
    prepare_envelope,
    render_message,
    shared_labels,
    single_line,
)

_TEXTS: dict[Language, dict[str, str]] = {
    "fr": {
        "subject_upcoming": f"Rappel{NBSP}: facture {{invoice}} à régler avant le {{due}}",
        "subject_overdue": f"Facture {{invoice}}{NBSP}: règlement en attente",
        "headline_upcoming": "Échéance à venir",
        "headline_overdue": "Règlement en attente",
        "due_date": f"Échéance{NBSP}:",
        "amount_due": f"Montant restant dû{NBSP}:",
        "how_to_pay": (
            "Vous pouvez régler {amount} par le moyen de paiement de votre choix, "
            "en indiquant la référence {invoice}."
        ),
        "pay_intro": f"Vous pouvez aussi régler en ligne, en quelques instants{NBSP}:",
        "pay_button": "Régler la facture",
        "already_paid": (
            "Si vous avez réglé cette facture entre-temps, merci de ne pas tenir compte "
            "de ce message."
        ),
    },
    "en": {
        "subject_upcoming": "Reminder: invoice {invoice} is due on {due}",
        "subject_overdue": "Invoice {invoice}: payment outstanding",
        "headline_upcoming": "Payment due soon",
        "headline_overdue": "Payment outstanding",
        "due_date": "Due date:",
        "amount_due": "Amount due:",
        "how_to_pay": (
            "You can pay {amount} with the payment method of your choice, "
            "quoting reference {invoice}."
        ),
        "pay_intro": "You can also pay online in a few moments:",
        "pay_button": "Pay the invoice",
        "already_paid": (
            "If you have paid this invoice in the meantime, please disregard this message."
        ),
    },
}

_OPENERS: dict[tuple[Language, Tone, bool], str] = {
    ("fr", "formal", False): (
        "Nous nous permettons de vous rappeler que la facture {invoice} arrive à échéance le {due}."
    ),
    ("fr", "warm", False): (
        f"Petit rappel amical{NNBSP}: votre facture {{invoice}} arrive à échéance le {{due}}."
    ),
    ("fr", "formal", True): (
        "Sauf erreur de notre part, la facture {invoice}, arrivée à échéance le {due}, "
        "n’a pas encore été réglée."
    ),
    ("fr", "warm", True): (
        "Nous n’avons pas encore reçu le règlement de votre facture {invoice}, "
        f"arrivée à échéance le {{due}}. Un simple oubli, sans doute{NNBSP}!"
    ),
    ("en", "formal", False): "This is a courtesy reminder that invoice {invoice} is due on {due}.",
    ("en", "warm", False): "Just a friendly reminder: your invoice {invoice} is due on {due}.",
    ("en", "formal", True): (
        "According to our records, invoice {invoice}, which was due on {due}, "
        "has not been paid yet."
    ),
    ("en", "warm", True): (
        "We haven't received payment for your invoice {invoice} yet, which was due on {due}. "
        "It's easy to miss one!"
    ),
}


@dataclass(frozen=True)
class DueInvoice:
    """An unpaid invoice as its reminder states it: the balance due, the due date, and when
    the reminder was queued (``sent_at``). ``payment_url``, when given, links to where the
    invoice can be paid online."""

    invoice_number: str
    amount_due: Money
    due_date: date
    sent_at: datetime
    payment_url: str | None = None


def compose_invoice_reminder(
    letterhead: Letterhead, recipient: Recipient, invoice_due: DueInvoice
) -> EmailMessage:
    """The reminder of an unpaid invoice: before its due date ("due on …") or after it
    ("payment outstanding"), as judged on the customer's calendar at ``sent_at``.

    Transactional: no List-Unsubscribe. Raises ValueError (EmailNotValidError,
    UnsafeHeaderValue or a plain ValueError) before anything is built.
    """
    amount_due, due_date = invoice_due.amount_due, invoice_due.due_date
    sent_at, payment_url = invoice_due.sent_at, invoice_due.payment_url
    envelope = prepare_envelope(
        letterhead,
        recipient,
        moments=(("sent_at", sent_at),),
        urls=(("payment_url", payment_url),),
    )
    if amount_due.amount_minor <= 0:
        raise ValueError("a reminder needs a positive amount due")

    lang = envelope.lang
    babel_locale = BABEL_LOCALES[lang]
    texts = _TEXTS[lang]
    overdue = sent_at.astimezone(envelope.zone).date() > due_date
    stage = "overdue" if overdue else "upcoming"
    invoice = single_line(invoice_due.invoice_number)
    amount = amount_due.format(babel_locale)
    due = format_date(due_date, "long", locale=babel_locale)
    values = {"invoice": invoice, "amount": amount, "due": due}

    links = (
        [{"intro": texts["pay_intro"], "url": payment_url, "button": texts["pay_button"]}]
        if payment_url
        else []
    )
    context = base_context(envelope) | {
        "t": shared_labels(lang),
        "opener": _OPENERS[(lang, envelope.tone, overdue)].format(**values),
        "headline": texts[f"headline_{stage}"],
        "badge": "info",
        "invoice_number": invoice,
        "paragraphs": [texts["how_to_pay"].format(**values)],
        "details": [
            (shared_labels(lang)["invoice"], invoice),
            (texts["due_date"], due),
            (texts["amount_due"], amount),
        ],
        "links": links,
        "already_paid": texts["already_paid"],
    }
    return render_message(
        envelope,
        subject=texts[f"subject_{stage}"].format(**values),
        template="invoice_reminder",
        context=context,
    )
