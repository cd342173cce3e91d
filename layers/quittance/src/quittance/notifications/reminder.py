"""The invoice reminder: a courteous, transactional email (no unsubscribe) in French or
English, formal (B2B) or warm (B2C), before or after the due date.

It says what is due, by when, how to pay and whom to ask, and that a payment made in the
meantime makes it void. Built like the refund and anomaly notices (``notices.py``): the same
header safety, address validation, Jinja2 environment and layout, and Babel for amounts and
dates in the customer's locale. The due date is a calendar date; whether it has passed is
judged on the customer's own calendar (their time zone).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from email.message import EmailMessage

from babel.dates import format_date

from quittance.models.money import Money
from quittance.notifications.email_kit import (
    BABEL_LOCALES,
    NBSP,
    NNBSP,
    Language,
    Sender,
    Tone,
    single_line,
)
from quittance.notifications.notices import (
    assemble_notice,
    notice_context,
    notice_labels,
    prepare_notice,
)

__all__ = ["Sender", "compose_invoice_reminder"]

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


def compose_invoice_reminder(
    *,
    sender: Sender,
    to_email: str,
    to_name: str | None,
    locale: str,
    tone: Tone,
    invoice_number: str,
    amount_due: Money,
    due_date: date,
    sent_at: datetime,
    timezone: str,
    seller_name: str,
    seller_email: str,
    seller_phone: str,
    message_id_domain: str,
    payment_url: str | None = None,
    configuration_set_headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """The reminder of an unpaid invoice: before its due date ("due on …") or after it
    ("payment outstanding"), as judged on the customer's calendar at ``sent_at``.

    ``payment_url``, when given, links to where the invoice can be paid online.
    Transactional: no List-Unsubscribe. Raises ValueError (EmailNotValidError,
    UnsafeHeaderValue or a plain ValueError) before anything is built.
    """
    envelope = prepare_notice(
        sender=sender,
        to_email=to_email,
        to_name=to_name,
        locale=locale,
        tone=tone,
        timezone=timezone,
        seller_name=seller_name,
        seller_email=seller_email,
        seller_phone=seller_phone,
        message_id_domain=message_id_domain,
        configuration_set_headers=configuration_set_headers,
        own_values=(),
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
    invoice = single_line(invoice_number)
    amount = amount_due.format(babel_locale)
    due = format_date(due_date, "long", locale=babel_locale)
    values = {"invoice": invoice, "amount": amount, "due": due}

    links = (
        [{"intro": texts["pay_intro"], "url": payment_url, "button": texts["pay_button"]}]
        if payment_url
        else []
    )
    context = notice_context(envelope, seller_name, seller_email, seller_phone) | {
        "t": notice_labels(lang),
        "opener": _OPENERS[(lang, envelope.tone, overdue)].format(**values),
        "headline": texts[f"headline_{stage}"],
        "badge": "info",
        "invoice_number": invoice,
        "paragraphs": [texts["how_to_pay"].format(**values)],
        "details": [
            (notice_labels(lang)["invoice"], invoice),
            (texts["due_date"], due),
            (texts["amount_due"], amount),
        ],
        "links": links,
        "already_paid": texts["already_paid"],
    }
    return assemble_notice(
        envelope,
        sender=sender,
        seller_name=seller_name,
        seller_email=seller_email,
        message_id_domain=message_id_domain,
        subject=texts[f"subject_{stage}"].format(**values),
        template="invoice_reminder",
        context=context,
    )
