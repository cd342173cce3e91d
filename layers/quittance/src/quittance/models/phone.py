"""Phone numbers as SNS wants them: E.164, checked with libphonenumber's metadata."""

from __future__ import annotations

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """Not a number an SMS can reach (its value is never put in the message)."""


def to_e164(raw: str, default_region: str) -> str:
    """``raw`` as ``+<country><number>``; a national number is read in ``default_region``.

    Raises InvalidPhoneNumber for anything that does not parse or is not a valid number in
    its country's numbering plan (too short, unallocated range, …).
    """
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("phone number does not parse") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("phone number is not valid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
