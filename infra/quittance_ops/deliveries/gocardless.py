"""GoCardless deliveries in the real format (https://developer.gocardless.com/api-reference/
#appendix-webhooks): a batch ``{"events": [...], "meta": {"webhook_id": "WB…"}}`` signed with
``Webhook-Signature``. The helpers build single events; amounts travel in ``resource_metadata``
(the payment's or refund's own ``metadata``, copied by GoCardless into each event), as
docs/providers/gocardless.md asks merchants to set them."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from quittance.providers import gocardless
from quittance_ops.deliveries import Delivery

# GoCardless ids: a two-letter prefix and twelve upper-case base-32 characters (EV00BD05S5VM2T).
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def gocardless_id(prefix: str) -> str:
    """A realistic GoCardless id: ``EV…`` event, ``PM…`` payment, ``MD…`` mandate, ``RF…``
    refund, ``WB…`` webhook."""
    return prefix + "00" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def _timestamp(at: datetime | None) -> str:
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _payment_metadata(
    invoice_number: str | None, customer_reference: str | None, amount_minor: int, currency: str
) -> dict[str, str]:
    metadata = {gocardless.AMOUNT_KEY: gocardless.metadata_amount(amount_minor, currency)}
    if invoice_number is not None:
        metadata[gocardless.INVOICE_KEY] = invoice_number
    if customer_reference is not None:
        metadata[gocardless.CUSTOMER_KEY] = customer_reference
    return metadata


def _payment_event(
    action: str,
    details: dict[str, Any],
    *,
    invoice_number: str | None,
    customer_reference: str | None,
    amount_minor: int,
    currency: str,
    payment_id: str | None,
    mandate_id: str | None,
    event_id: str | None,
    created_at: datetime | None,
) -> dict[str, Any]:
    links = {"payment": payment_id or gocardless_id("PM")}
    if mandate_id is not None:
        links["mandate"] = mandate_id
    return {
        "id": event_id or gocardless_id("EV"),
        "created_at": _timestamp(created_at),
        "resource_type": "payments",
        "action": action,
        "links": links,
        "details": details,
        "metadata": {},
        "resource_metadata": _payment_metadata(
            invoice_number, customer_reference, amount_minor, currency
        ),
    }


def payment_confirmed(
    *,
    invoice_number: str | None,
    amount_minor: int,
    currency: str = "EUR",
    customer_reference: str | None = "CLI-000042",
    payment_id: str | None = None,
    mandate_id: str | None = None,
    event_id: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """``payments.confirmed``: the money has been collected from the customer's account."""
    return _payment_event(
        "confirmed",
        {
            "origin": "gocardless",
            "cause": "payment_confirmed",
            "description": (
                "Enough time has passed since the payment was submitted for the banks to "
                "return an error, so this payment is now confirmed."
            ),
        },
        invoice_number=invoice_number,
        customer_reference=customer_reference,
        amount_minor=amount_minor,
        currency=currency,
        payment_id=payment_id,
        mandate_id=mandate_id,
        event_id=event_id,
        created_at=created_at,
    )


def payment_failed(
    *,
    invoice_number: str | None,
    amount_minor: int,
    currency: str = "EUR",
    customer_reference: str | None = "CLI-000042",
    cause: str = "insufficient_funds",
    reason_code: str = "AM04",
    description: str = "The customer's account had insufficient funds to make this payment.",
    will_attempt_retry: bool = False,
    payment_id: str | None = None,
    mandate_id: str | None = None,
    event_id: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """``payments.failed`` as a SEPA Core failure report (AM04, insufficient funds, by default)."""
    return _payment_event(
        "failed",
        {
            "origin": "bank",
            "cause": cause,
            "scheme": "sepa_core",
            "reason_code": reason_code,
            "description": description,
            "will_attempt_retry": will_attempt_retry,
        },
        invoice_number=invoice_number,
        customer_reference=customer_reference,
        amount_minor=amount_minor,
        currency=currency,
        payment_id=payment_id,
        mandate_id=mandate_id,
        event_id=event_id,
        created_at=created_at,
    )


def payment_charged_back(
    *,
    invoice_number: str | None,
    amount_minor: int,
    currency: str = "EUR",
    customer_reference: str | None = "CLI-000042",
    cause: str = "refund_requested",
    reason_code: str = "MD06",
    description: str = (
        "This payment was charged back by the customer's bank at the customer's request "
        "within the 8 week cool-off period."
    ),
    payment_id: str | None = None,
    mandate_id: str | None = None,
    event_id: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """``payments.charged_back``: a SEPA refund claim (MD06, within 8 weeks) by default."""
    return _payment_event(
        "charged_back",
        {
            "origin": "bank",
            "cause": cause,
            "scheme": "sepa_core",
            "reason_code": reason_code,
            "description": description,
        },
        invoice_number=invoice_number,
        customer_reference=customer_reference,
        amount_minor=amount_minor,
        currency=currency,
        payment_id=payment_id,
        mandate_id=mandate_id,
        event_id=event_id,
        created_at=created_at,
    )


def refund_created(
    *,
    payment_id: str,
    amount_minor: int,
    currency: str = "EUR",
    invoice_number: str | None = None,
    refund_id: str | None = None,
    mandate_id: str | None = None,
    event_id: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """``refunds.created``; ``resource_metadata`` is the refund's metadata, which carries the
    refund's own amount."""
    links = {"refund": refund_id or gocardless_id("RF"), "payment": payment_id}
    if mandate_id is not None:
        links["mandate"] = mandate_id
    return {
        "id": event_id or gocardless_id("EV"),
        "created_at": _timestamp(created_at),
        "resource_type": "refunds",
        "action": "created",
        "links": links,
        "details": {
            "origin": "api",
            "cause": "payment_refunded",
            "description": "The refund has been created, and will be submitted in the next batch.",
        },
        "metadata": {},
        "resource_metadata": _payment_metadata(invoice_number, None, amount_minor, currency),
    }


def mandate_event(action: str = "active", mandate_id: str | None = None) -> dict[str, Any]:
    """A mandate event, which quittance acknowledges and ignores."""
    return {
        "id": gocardless_id("EV"),
        "created_at": _timestamp(None),
        "resource_type": "mandates",
        "action": action,
        "links": {"mandate": mandate_id or gocardless_id("MD")},
        "details": {
            "origin": "gocardless",
            "cause": f"mandate_{action}",
            "description": f"The mandate is now {action}.",
        },
        "metadata": {},
        "resource_metadata": {},
    }


def gocardless_batch(
    secret: str,
    events: list[dict[str, Any]],
    *,
    webhook_id: str | None = None,
    sandbox: bool = True,
) -> Delivery:
    """The POST GoCardless sends to a webhook endpoint: the events, the webhook id, signed."""
    webhook_id = webhook_id or gocardless_id("WB")
    body = json.dumps(
        {"events": events, "meta": {"webhook_id": webhook_id}}, separators=(",", ":")
    ).encode()
    origin = gocardless.SANDBOX_ORIGIN if sandbox else "https://api.gocardless.com"
    return Delivery(
        provider="gocardless",
        body=body,
        headers={
            "Content-Type": "application/json",
            "Webhook-Signature": gocardless.sign(body, secret),
            "Origin": origin,
            "User-Agent": "gocardless-webhook-service/1.1",
        },
        event_id=str(events[0]["id"]) if events else webhook_id,
    )
