"""The customer-facing URL of a receipt: ``<base>/r/<signed token>``."""

from __future__ import annotations

from datetime import datetime

from quittance.links.page import resolve_language
from quittance.links.tokens import LinkSigner


def receipt_link(
    base_url: str,
    signer: LinkSigner,
    receipt_number: str,
    expires: datetime,
    locale: str | None = None,
) -> str:
    """With ``locale``, the page opens in the customer's language whatever their browser's
    (``?lang=``; not signed: the language is no secret and the page offers a switch)."""
    link = f"{base_url.rstrip('/')}/r/{signer.issue(receipt_number, expires)}"
    return f"{link}?lang={resolve_language(locale)}" if locale else link
