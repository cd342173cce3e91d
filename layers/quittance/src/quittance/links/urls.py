"""The customer-facing URL of a receipt: ``<base>/r/<signed token>``."""

from __future__ import annotations

from datetime import datetime

from quittance.links.tokens import LinkSigner


def receipt_link(base_url: str, signer: LinkSigner, receipt_number: str, expires: datetime) -> str:
    return f"{base_url.rstrip('/')}/r/{signer.issue(receipt_number, expires)}"
