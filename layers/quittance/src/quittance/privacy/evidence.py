"""The gateway's delivery exactly as received, kept as evidence of a payment.

A third party holding the gateway's secret can re-verify the signature from these bytes
alone, so nothing here is parsed or normalised: body byte for byte, the signature headers,
when it arrived and what our verification said. It carries the payer's personal data, so it
is stored sealed with that customer's key (:mod:`quittance.privacy.keyring`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

# Only what re-verifying a signature needs; cookies, source addresses, tracing headers are not
# evidence and are not kept.
SIGNATURE_HEADERS = frozenset(
    {
        "content-type",
        "stripe-signature",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "webhook-signature-version",
        "origin",
    }
)
EVIDENCE_CONTEXT = "evidence.delivery"


@dataclass(frozen=True)
class RawDelivery:
    provider: str
    event_id: str
    received_at: datetime
    headers: dict[str, str]
    body: bytes
    verification: str


class DeliverySource(Protocol):
    """Reads a kept delivery back (``quittance.aws.evidence_store.EvidenceStore``): raises
    CustomerErased once the customer's key is destroyed, NotFound when nothing was kept.
    ``received_at`` (the event's time) only tells it which month to look in first."""

    def fetch(
        self,
        provider: str,
        event_id: str,
        customer_id: str,
        *,
        received_at: datetime | None = None,
    ) -> RawDelivery: ...


def signature_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers a provider signs with (GoCardless: ``webhook-signature``; Stripe:
    ``stripe-signature``; Standard Webhooks: ``webhook-id/timestamp/signature``)."""
    return {k.lower(): v for k, v in headers.items() if k.lower() in SIGNATURE_HEADERS}


def evidence_key(provider: str, event_id: str, received_at: datetime) -> str:
    at = received_at.astimezone(UTC)
    return f"evidence/{provider}/{at:%Y}/{at:%m}/{event_id}.bin"


def encode(delivery: RawDelivery) -> bytes:
    """Length-prefixed JSON header, then the body untouched (no base64, no re-encoding)."""
    header = json.dumps(
        {
            "format": "quittance.evidence/1",
            "provider": delivery.provider,
            "event_id": delivery.event_id,
            "received_at": delivery.received_at.astimezone(UTC).isoformat(),
            "headers": delivery.headers,
            "verification": delivery.verification,
            "body_length": len(delivery.body),
        },
        sort_keys=True,
    ).encode()
    return len(header).to_bytes(4, "big") + header + delivery.body


def decode(data: bytes) -> RawDelivery:
    size = int.from_bytes(data[:4], "big")
    header = json.loads(data[4 : 4 + size])
    body = data[4 + size :]
    if header.get("format") != "quittance.evidence/1" or len(body) != header["body_length"]:
        raise ValueError("not a quittance evidence record")
    return RawDelivery(
        provider=header["provider"],
        event_id=header["event_id"],
        received_at=datetime.fromisoformat(header["received_at"]),
        headers=dict(header["headers"]),
        body=body,
        verification=header["verification"],
    )
