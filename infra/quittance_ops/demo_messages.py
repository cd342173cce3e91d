"""Demo support for customer messages: the SMS the local stack "sent" (moto records them
instead), written as ``.sms.txt`` beside the ``.eml`` files, and the deliveries that show
each message kind.

Wiring (in demo.py, by the lead): before posting the scenes, ``prefer_both_channels`` for the
SEPA-transfer customer (its Standard Webhooks delivery carries a phone number); after the
queues drain, ``write_messages(stack.endpoint, ledger, invoices, out / "emails")``.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quittance.aws.customers_table import CustomersTable
from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.service import pseudonymous_customer_id
from quittance_ops.deliveries import Delivery
from quittance_ops.deliveries.stripe import stripe_payment_failed, stripe_payment_intent_succeeded
from quittance_ops.outbox import sent_emails


@dataclass(frozen=True)
class SentSms:
    message_id: str
    phone_number: str
    text: str


def sent_sms(moto_endpoint: str) -> list[SentSms]:
    """Every SMS published through the local stack's SNS, from moto's state endpoint."""
    with urllib.request.urlopen(f"{moto_endpoint}/moto-api/data.json", timeout=10) as response:  # noqa: S310 - loopback only
        state: dict[str, Any] = json.load(response)
    return [
        SentSms(str(m.get("message_id")), str(m.get("phone_number")), str(m.get("message")))
        for m in (state.get("sns") or {}).get("SMS", [])
    ]


def prefer_both_channels(customers: CustomersTable, provider: str, reference: str) -> str:
    """Make a demo customer want email and SMS; returns the pseudonymous id."""
    customer_id = pseudonymous_customer_id(provider, reference)
    customers.set_channel_preference(customer_id, "both")
    return customer_id


def write_messages(
    moto_endpoint: str, ledger: LedgerTable, invoices: Iterable[str], out: Path
) -> list[Path]:
    """Each message the ledger's log says was sent about ``invoices``: the email as
    ``<document or invoice>-<kind>.eml`` and the SMS as ``<…>-<kind>.sms.txt``."""
    out.mkdir(parents=True, exist_ok=True)
    emails = {e.message_id: e.raw for e in sent_emails(moto_endpoint)}
    texts = {s.message_id: s.text for s in sent_sms(moto_endpoint)}
    written: list[Path] = []
    for invoice in invoices:
        for entry in ledger.messages(invoice):
            if entry.get("status") != "sent":
                continue
            stem = f"{entry.get('receipt_number') or invoice}-{entry['kind']}"
            provider_id = str(entry.get("provider_message_id"))
            channel = str(entry["sk"]).rsplit("#", 1)[1]
            if channel == "email" and provider_id in emails:
                path = out / f"{stem}.eml"
                path.write_bytes(emails[provider_id])
            elif channel == "sms" and provider_id in texts:
                path = out / f"{stem}.sms.txt"
                path.write_text(texts[provider_id] + "\n", encoding="utf-8")
            else:
                continue
            written.append(path)
    return written


def message_kind_deliveries(secret: str) -> dict[str, Delivery]:
    """Stripe deliveries that make each new kind appear (same demo customer as the card
    payment, so the messages go to a known profile):

    - ``payment_failed``: an expired card on an open invoice (F-2026-0148);
    - ``partial_payment``: 60.00 € on F-2026-0147, which must first be registered for
      100.00 € through the admin API (a gateway-only invoice takes its amount from its
      first payment, so it is never partly paid);
    - ``refund_issued``: already shown by the demo's partial refund of F-2026-0142.
    """
    paid = stripe_payment_intent_succeeded(
        secret=secret, invoice_number="F-2026-0147", amount_minor=6000
    )
    return {
        "payment_failed": stripe_payment_failed(
            secret=secret,
            invoice_number="F-2026-0148",
            amount_minor=4900,
            decline_code="expired_card",
            timestamp=int(time.time()),
        ),
        "partial_payment": paid,
    }


def partial_invoice_registration() -> dict[str, Any]:
    """Body of ``PUT /admin/invoices/F-2026-0147`` (100.00 €, no VAT) for the partial scene."""
    return {
        "customer_reference": "cus_NffrFeUfNV2Hib",
        "currency": "EUR",
        "lines": [
            {
                "description": "Atelier reliure (acompte demandé)",
                "quantity": "1",
                "unit_price_minor": 10000,
                "vat_rate": "0",
            }
        ],
        "issue_date": "2026-11-01",
        "due_date": "2026-12-01",
        "nature": "services",
        "cancelled": False,
    }


__all__ = [
    "SentSms",
    "message_kind_deliveries",
    "partial_invoice_registration",
    "prefer_both_channels",
    "sent_sms",
    "write_messages",
]
