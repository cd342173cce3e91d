"""Keep personal data out of logs: known fields redacted, and a pattern guard that masks
emails, phone numbers, IBANs and card numbers wherever they appear in a log line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stdnum import iban as iban_number
from stdnum import luhn

REDACTED = "[redacted]"
# Keys whose value is personal data whatever it looks like.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "email",
        "phone",
        "address",
        "iban",
        "pan",
        "card_number",
        "customer_name",
        "customer_email",
        "customer_phone",
        "to",
        "to_email",
        "to_name",
        "recipient",
        "destination",
        "billing_details",
    }
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){3,5}(?![\w])")


def _iban(match: re.Match[str]) -> str:
    return "[iban]" if iban_number.is_valid(match.group(0)) else match.group(0)


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and luhn.is_valid(digits) else match.group(0)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    # A phone number: 9 to 15 digits, written with a + or a leading 0 (national form).
    if 9 <= len(digits) <= 15 and (text.startswith(("+", "(")) or digits.startswith("0")):
        return "[phone]"
    return text


def mask_text(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub(_iban, text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)


def redact(value: Any, key: str | None = None) -> Any:
    """The value with personal fields replaced and personal patterns masked, recursively."""
    if key is not None and key.lower() in PERSONAL_KEYS and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (an exception, a datetime...) is logged as its text: mask that text.
    return mask_text(str(value))
