"""Standard Webhooks deliveries (https://www.standardwebhooks.com): quittance's documented
payment schema (docs/providers/standard-webhooks.md), signed with the spec's exact scheme and
sent with its three ``webhook-*`` headers, as any compliant sender would."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any, TypedDict, Unpack

from quittance.providers import standard_webhooks
from quittance_ops.deliveries import Delivery

CARD: dict[str, Any] = {
    "kind": "card",
    "brand": "visa",
    "last4": "4242",
}

SEPA_TRANSFER: dict[str, Any] = {
    "kind": "sepa_transfer",
    "transfer_reference": "VIR-SEPA-20260608-000117",
    # A French IBAN printed in groups of four with only its last 4 characters shown: the
    # adapter writes the shown tail without its space (…***0189) for the canonical model.
    "iban_masked": "FR76 **** **** **** **** ***0 189",
    "value_date": "2026-06-08",
}

CUSTOMER: dict[str, Any] = {
    "reference": "CLI-000042",
    "name": "Camille Durand",
    "email": "camille.durand@example.com",
    "phone": "+33612345678",
    "locale": "fr",
}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class PaymentOptions(TypedDict, total=False):
    """What a delivery may set besides its invoice and amount (a parameter object). The
    envelope: ``event_type`` (payment.succeeded by default), ``msg_id``, ``timestamp`` (the
    attempt's time, the ``webhook-timestamp`` header, now by default) and ``occurred_at``
    (the event's, the body's ``timestamp``, two seconds earlier by default). Every other key
    goes into ``data``: those below, or anything a sender adds."""

    event_type: str
    msg_id: str | None
    timestamp: int | None
    occurred_at: datetime | None
    currency: str
    method: dict[str, Any]
    customer: dict[str, Any] | None
    payment_id: str
    failure: dict[str, Any]
    refund: dict[str, Any]
    dispute: dict[str, Any]
    livemode: bool


ENVELOPE = ("event_type", "msg_id", "timestamp", "occurred_at")


def standard_payment(
    secret: str, *, invoice_number: str | None, amount_minor: int, **options: Unpack[PaymentOptions]
) -> Delivery:
    """A signed delivery of one payment event (PaymentOptions says what else it may carry).
    A value of None leaves the key out of ``data`` (``customer=None``: a payment without its
    payer)."""
    timestamp = options.get("timestamp")
    now = int(time.time()) if timestamp is None else timestamp
    msg_id = options.get("msg_id") or f"msg_{uuid.uuid4().hex}"
    customer = options.get("customer", CUSTOMER)
    data: dict[str, Any] = {
        "payment_id": f"pay_{uuid.uuid4().hex[:24]}",
        "invoice_number": invoice_number,
        "amount": amount_minor,
        "currency": options.get("currency", "EUR"),
        "method": dict(options.get("method", CARD)),
        "customer": None if customer is None else dict(customer),
    }
    data.update(
        (key, value)
        for key, value in options.items()
        if key not in {*ENVELOPE, "currency", "method", "customer"}
    )
    data = {key: value for key, value in data.items() if value is not None}
    moment = options.get("occurred_at") or datetime.fromtimestamp(now - 2, UTC)
    event_type = options.get("event_type", "payment.succeeded")
    payload = {"type": event_type, "timestamp": _rfc3339(moment), "data": data}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Delivery(
        provider="standard",
        body=body,
        headers={
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(now),
            "webhook-signature": standard_webhooks.sign(msg_id, now, body, secret),
        },
        event_id=msg_id,
    )


def standard_sepa_transfer(
    secret: str, *, invoice_number: str, amount_minor: int, **kwargs: Any
) -> Delivery:
    """A bank transfer received for an invoice: reference, masked IBAN and value date."""
    return standard_payment(
        secret,
        invoice_number=invoice_number,
        amount_minor=amount_minor,
        method=SEPA_TRANSFER,
        **kwargs,
    )


def standard_payment_failed(
    secret: str,
    *,
    invoice_number: str,
    amount_minor: int,
    category: str = "insufficient_funds",
    code: str = "card_declined/insufficient_funds",
    message: str = "The card has insufficient funds.",
    **kwargs: Any,
) -> Delivery:
    """A declined card payment: the failure's category in our words, the sender's own code."""
    return standard_payment(
        secret,
        event_type="payment.failed",
        invoice_number=invoice_number,
        amount_minor=amount_minor,
        method=kwargs.pop("method", {"kind": "card", "brand": "mastercard", "last4": "0341"}),
        failure={"category": category, "code": code, "message": message},
        **kwargs,
    )


def standard_refund(
    secret: str,
    *,
    payment_id: str,
    invoice_number: str | None,
    amount_minor: int,
    refunded_minor: int,
    reason: str | None = "requested_by_customer",
    **kwargs: Any,
) -> Delivery:
    """A refund of (part of) an earlier payment: ``amount_minor`` is the payment's amount,
    ``refunded_minor`` this refund's."""
    return standard_payment(
        secret,
        event_type="payment.refunded",
        payment_id=payment_id,
        invoice_number=invoice_number,
        amount_minor=amount_minor,
        refund={
            "refund_id": f"rfd_{uuid.uuid4().hex[:24]}",
            "amount": refunded_minor,
            "reason": reason,
        },
        **kwargs,
    )
