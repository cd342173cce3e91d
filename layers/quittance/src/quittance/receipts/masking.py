"""No printed value may look like a full card number."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup
from stdnum import luhn

# Card numbers have 13 to 19 digits, possibly grouped by spaces or dashes.
_PAN_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def _mask_pan(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match[0])
    if digits[0] in "23456" and luhn.is_valid(digits):
        return f"•••• {digits[-4:]}"
    return match[0]


def mask_card_numbers(value: Any) -> Any:
    """Jinja ``finalize`` hook: no printed value may look like a full card number.

    Providers and sellers fill free-text fields (references, names, next steps); a
    pasted card number there must not end up on a document kept for ten years.
    """
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return _PAN_CANDIDATE.sub(_mask_pan, value)
