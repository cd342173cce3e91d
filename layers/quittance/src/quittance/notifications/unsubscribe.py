"""One-click unsubscribe links (RFC 8058): ``<base>/u/<signed token>``.

The token is a link token (``links/tokens.py``, same keys, same rotation) whose claim is
``U:`` and the pseudonymous customer id, never an address: the URL sits in mail headers,
and whoever holds it can only withdraw that customer's marketing consent. The prefix keeps
the two kinds of link apart: a receipt token is not an unsubscribe token, and back.
"""

from __future__ import annotations

from datetime import datetime

from quittance.errors import LinkInvalid
from quittance.links.tokens import LinkSigner

_PREFIX = "U:"


def unsubscribe_url(base_url: str, signer: LinkSigner, customer_id: str, expires: datetime) -> str:
    return f"{base_url.rstrip('/')}/u/{signer.issue(_PREFIX + customer_id, expires)}"


def customer_of(signer: LinkSigner, token: str, now: datetime) -> str:
    """The customer an unsubscribe token names; LinkInvalid / LinkExpired otherwise."""
    claims = signer.verify(token, now)
    if not claims.receipt_number.startswith(_PREFIX) or len(claims.receipt_number) == 2:
        raise LinkInvalid("link token is not valid")
    return claims.receipt_number[len(_PREFIX) :]
