"""Marketing extras: the loyalty thank-you with a promo code and a related offer.

They appear only in a message to a customer whose profile records marketing consent (the
caller decides; see ``dispatch.marketing_extras``), and never without their opt-out: the
block always ends with an unsubscribe link, and the message that carries it gets the
RFC 8058 ``List-Unsubscribe`` / ``List-Unsubscribe-Post`` headers. A message without extras
is purely transactional and carries neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

_NBSP = "\u00a0"
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# What a customer types at checkout: letters, digits and a few separators.
_PROMO_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")

_TEXTS: dict[Literal["fr", "en"], dict[str, str]] = {
    "fr": {
        "loyalty": (
            "Merci pour votre fidélité. Pour vous remercier, voici un code de réduction "
            f"pour votre prochaine commande{_NBSP}:"
        ),
        "offer_button": "Découvrir l’offre",
        "optout": (
            "Vous recevez ces offres parce que vous avez accepté nos communications "
            f"commerciales. Pour ne plus en recevoir{_NBSP}:"
        ),
        "optout_button": "Se désabonner",
    },
    "en": {
        "loyalty": (
            "Thank you for your loyalty. As a thank-you, here is a discount code for your "
            "next order:"
        ),
        "offer_button": "See the offer",
        "optout": (
            "You are receiving these offers because you agreed to hear from us. "
            "To stop receiving them:"
        ),
        "optout_button": "Unsubscribe",
    },
}


@dataclass(frozen=True)
class MarketingExtras:
    """What a consenting customer's message adds; ``unsubscribe_url`` is mandatory."""

    unsubscribe_url: str
    promo_code: str | None = None
    offer_text: str | None = None
    offer_url: str | None = None

    def check(self) -> None:
        """Our own configuration values: refused (ValueError) rather than neutralised."""
        _require_url("unsubscribe_url", self.unsubscribe_url)
        if self.offer_url is not None:
            _require_url("offer_url", self.offer_url)
        if self.promo_code is not None and not _PROMO_RE.fullmatch(self.promo_code):
            raise ValueError("promo_code must be 1 to 32 letters, digits, '-' or '_'")
        if self.offer_text is not None and (
            not self.offer_text.strip() or _CONTROL_RE.search(self.offer_text)
        ):
            raise ValueError("offer_text must be a non-empty single line of text")
        if self.promo_code is None and self.offer_text is None:
            raise ValueError("marketing extras need a promo code or an offer")


def extras_context(extras: MarketingExtras | None, lang: Literal["fr", "en"]) -> Any:
    """The template values of the extras block, or None when the message carries none."""
    if extras is None:
        return None
    texts = _TEXTS[lang]
    return {
        "loyalty": texts["loyalty"] if extras.promo_code else None,
        "promo_code": extras.promo_code,
        "offer_text": extras.offer_text,
        "offer_url": extras.offer_url,
        "offer_button": texts["offer_button"],
        "optout": texts["optout"],
        "optout_url": extras.unsubscribe_url,
        "optout_button": texts["optout_button"],
    }


def _require_url(label: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or _CONTROL_RE.search(url):
        raise ValueError(f"{label} must be an absolute http(s) URL")
