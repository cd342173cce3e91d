"""The payment-confirmation email: a transactional message, French or English, formal (B2B)
or warm (B2C), with a plain-text and an HTML alternative, built with the email kit
(:mod:`quittance.notifications.email_kit`, which also says how headers are kept safe).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from email_validator import validate_email

from quittance.models.money import Money
from quittance.notifications.email_kit import (
    BABEL_LOCALES,
    DOMAIN_RE,
    TEXTS,
    TONES,
    Attachment,
    Sender,
    Tone,
    UnsafeHeaderValue,
    build_message,
    checked_extra_headers,
    language_of,
    paid_at_text,
    require_single_line,
    require_web_url,
    single_line,
    template_environment,
    zone_info,
)
from quittance.notifications.extras import MarketingExtras, extras_context


def compose_payment_confirmation(
    *,
    sender: Sender,
    to_email: str,
    to_name: str | None,
    locale: str,
    tone: Tone,
    receipt_number: str,
    invoice_number: str,
    amount: Money,
    paid_at: datetime,
    timezone: str,
    receipt_url: str,
    seller_name: str,
    seller_email: str,
    seller_phone: str,
    message_id_domain: str,
    configuration_set_headers: Mapping[str, str] | None = None,
    method_label: str | None = None,
    attachment: Attachment | None = None,
    extras: MarketingExtras | None = None,
) -> EmailMessage:
    """The confirmation for one settled invoice, ready for SES ``SendEmail`` (raw content).

    ``method_label`` describes how it was paid (``"Visa •••• 4242"``); ``attachment`` is the
    archived PDF when the customer asked for it; ``extras`` (only with marketing consent)
    adds the loyalty and offer block, an opt-out link and the List-Unsubscribe headers.

    Raises ``email_validator.EmailNotValidError`` (a ValueError) for an unusable recipient
    address and UnsafeHeaderValue (a ValueError) for an unsafe configuration value;
    both before anything is built.
    """
    # Validation first, so a refusal never leaves a half-built message behind.
    for label, value in (
        ("sender name", sender.name),
        ("sender email", sender.email),
        ("seller name", seller_name),
        ("seller email", seller_email),
        ("seller phone", seller_phone),
        ("receipt number", receipt_number),
    ):
        require_single_line(label, value)
    if not DOMAIN_RE.fullmatch(message_id_domain):
        raise UnsafeHeaderValue("message_id_domain must be a plain host name")
    extra_headers = checked_extra_headers(configuration_set_headers or {})
    if tone not in ("formal", "warm"):
        raise ValueError(f"unknown tone {tone!r}")
    if paid_at.tzinfo is None or paid_at.utcoffset() is None:
        raise ValueError("paid_at must carry a timezone")
    zone = zone_info(timezone)
    require_web_url(receipt_url)
    if extras is not None:
        extras.check()
    # SES does not take SMTPUTF8 mailboxes, so refuse them here rather than at send time;
    # the ASCII form carries an internationalised domain as punycode.
    recipient = validate_email(to_email, check_deliverability=False, allow_smtputf8=False)
    recipient_address = recipient.ascii_email or recipient.normalized

    name = single_line(to_name) if to_name else ""
    invoice = single_line(invoice_number)
    lang = language_of(locale)
    babel_locale = BABEL_LOCALES[lang]
    texts = TEXTS[lang]
    tone_texts = TONES[(lang, tone)]
    context: dict[str, Any] = {
        "lang": lang,
        "t": texts,
        "greeting": (
            tone_texts["greeting_named"].format(name=name) if name else tone_texts["greeting"]
        ),
        "thanks": tone_texts["thanks"],
        "closing": tone_texts["closing"],
        "invoice_number": invoice,
        "receipt_number": receipt_number,
        "method": single_line(method_label) if method_label else "",
        "attached": attachment is not None,
        "extras": extras_context(extras, lang),
        "amount": amount.format(babel_locale),
        "paid_at": paid_at_text(paid_at, zone, lang),
        "receipt_url": receipt_url,
        "contact": texts["contact"].format(seller=seller_name),
        "seller_name": seller_name,
        "seller_email": seller_email,
        "seller_phone": seller_phone,
        "seller_phone_href": re.sub(r"[^\d+]", "", seller_phone),
    }
    env = template_environment()
    text_body = env.get_template("payment_confirmation.txt.j2").render(**context)
    html_body = env.get_template("payment_confirmation.html.j2").render(**context)

    return build_message(
        sender=sender,
        to_name=name,
        to_address=recipient_address,
        seller_name=seller_name,
        seller_email=seller_email,
        subject=texts["subject"].format(receipt=receipt_number, invoice=invoice),
        message_id_domain=message_id_domain,
        extra_headers=extra_headers,
        text_body=text_body,
        html_body=html_body,
        list_unsubscribe=extras.unsubscribe_url if extras else None,
        attachment=attachment,
    )
