"""WCAG 2.x contrast (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio), so a brand colour
is refused before it makes a document hard to read, and the brand's variants documents print
(text, ink on the brand, tints) computed with the same formula."""

from __future__ import annotations

DOCUMENT_BACKGROUND = "#ffffff"
"""Receipts, credit notes, emails and pages print brand-coloured text on white."""

WCAG_AA_TEXT = 4.5
"""Success criterion 1.4.3, normal-size text."""


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """Relative luminance of ``#rrggbb``, from 0 (black) to 1 (white)."""
    digits = colour.lstrip("#")
    r, g, b = (_channel(int(digits[i : i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """From 1:1 (same colour) to 21:1 (black on white)."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


WCAG_AA_LARGE = 3.0
"""Success criterion 1.4.3, large or bold text (the ink on a brand-coloured band)."""


def _rgb(colour: str) -> tuple[int, int, int]:
    digits = colour.lstrip("#")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def mix(colour: str, other: str, weight: float) -> str:
    """``weight`` of ``other`` mixed into ``colour`` (both ``#rrggbb``)."""
    mixed = (x + (y - x) * weight for x, y in zip(_rgb(colour), _rgb(other), strict=True))
    return "#" + "".join(f"{round(channel):02x}" for channel in mixed)


def brand_palette(brand: str) -> dict[str, str]:
    """The brand colour's variants a document prints, readable whatever colour was picked:
    text in the brand colour darkened until it reaches AA on white (a profile already refuses
    a brand under AA; an older profile or a preview may not), the ink on a brand band, and
    two tints for panels and rules."""
    text = brand
    for step in range(1, 11):
        if contrast_ratio(text, DOCUMENT_BACKGROUND) >= WCAG_AA_TEXT:
            break
        text = mix(brand, "#000000", step / 10)
    return {
        "brand": brand,
        "brand_text": text,
        "brand_ink": (
            "#ffffff" if contrast_ratio(brand, DOCUMENT_BACKGROUND) >= WCAG_AA_LARGE else "#1a1a1a"
        ),
        "brand_tint": mix(brand, "#ffffff", 0.92),
        "brand_line": mix(brand, "#ffffff", 0.6),
    }
