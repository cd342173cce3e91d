"""The customer's id in the ledger: derived from the gateway's reference, carrying no contact
data. Its own module so that intake computes it without importing the ledger's rules."""

from __future__ import annotations

import hashlib


def pseudonymous_customer_id(provider: str, reference: str) -> str:
    """A stable id that carries no contact data into the ledger."""
    digest = hashlib.sha256(f"{provider}:{reference}".encode()).hexdigest()
    return f"C-{digest[:20]}"
