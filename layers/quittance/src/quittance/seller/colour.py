"""WCAG 2.x contrast (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio), so a brand colour
is refused before it makes a document hard to read."""

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
