"""SMS length as the network counts it (3GPP TS 23.038, "GSM 03.38").

A text written only with the GSM 7-bit default alphabet travels as septets: 160 in one
segment, 153 per segment once split (the user-data header takes 7). Characters of the
extension table (``€``, ``[``, ``{`` …) cost two septets: an escape, then the character.
One character outside both tables switches the whole text to UCS-2: 70 UTF-16 code units
in one segment, 67 per segment once split. Every segment is billed, and a split message can
arrive in pieces, so our SMS wording aims for one segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67

# Typography our wording and Babel's number formats use, and its GSM-7 stand-in: without
# this, one narrow no-break space in "12,50 €" would make the whole text UCS-2.
_PLAIN = str.maketrans(
    {
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)


@dataclass(frozen=True)
class SmsLength:
    encoding: Literal["GSM-7", "UCS-2"]
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2)."""
    segments: int


def plain(text: str) -> str:
    """Typographic spaces, quotes and dashes replaced by their GSM-7 equivalents."""
    return text.translate(_PLAIN)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def measure(text: str) -> SmsLength:
    """Encoding, length and number of segments of ``text`` as sent (no normalisation)."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        return SmsLength("GSM-7", units, _segments(units, GSM7_SINGLE, GSM7_MULTI))
    units = len(text.encode("utf-16-le")) // 2
    return SmsLength("UCS-2", units, _segments(units, UCS2_SINGLE, UCS2_MULTI))


def fits_one_segment(text: str) -> bool:
    return measure(text).segments == 1


def _segments(units: int, single: int, multi: int) -> int:
    return 1 if units <= single else math.ceil(units / multi)
