"""GoCardless deliveries in the real format (https://developer.gocardless.com/api-reference/
#appendix-webhooks): a batch ``{"events": [...], "meta": {"webhook_id": "WB…"}}`` signed with
``Webhook-Signature``. The helpers build single events; amounts travel in ``resource_metadata``
(the payment's or refund's own ``metadata``, copied by GoCardless into each event), as
docs/providers/gocardless.md asks merchants to set them."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any, TypedDict, Unpack

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


class PaymentOptions(TypedDict, total=False):
    """What a payment event may carry besides its invoice and amount (a parameter object:
    callers name only what they set)."""

    currency: str  # EUR by default
    customer_reference: str | None  # CLI-000042 by default
    payment_id: str | None
    mandate_id: str | None
    event_id: str | None
    created_at: datetime | None


class BankFailure(PaymentOptions, total=False):
    """A failure or a chargeback as the bank reports it (SEPA reason code)."""

    cause: str
    reason_code: str
    description: str
    will_attempt_retry: bool


def _payment_event(
    action: str,
    details: dict[str, Any],
    invoice_number: str | None,
    amount_minor: int,
    options: PaymentOptions,
) -> dict[str, Any]:
    payment_id = options.get("payment_id")
    mandate_id = options.get("mandate_id")
    links = {"payment": payment_id or gocardless_id("PM")}
    if mandate_id is not None:
        links["mandate"] = mandate_id
    return {
        "id": options.get("event_id") or gocardless_id("EV"),
        "created_at": _timestamp(options.get("created_at")),
        "resource_type": "payments",
        "action": action,
        "links": links,
        "details": details,
        "metadata": {},
        "resource_metadata": _payment_metadata(
            invoice_number,
            options.get("customer_reference", "CLI-000042"),
            amount_minor,
            options.get("currency", "EUR"),
        ),
    }


def payment_confirmed(
    *, invoice_number: str | None, amount_minor: int, **options: Unpack[PaymentOptions]
) -> dict[str, Any]:
    """``payments.confirmed``: the money has been collected from the customer's account."""
    details = {
        "origin": "gocardless",
        "cause": "payment_confirmed",
        "description": (
            "Enough time has passed since the payment was submitted for the banks to "
            "return an error, so this payment is now confirmed."
        ),
    }
    return _payment_event("confirmed", details, invoice_number, amount_minor, options)


def payment_failed(
    *, invoice_number: str | None, amount_minor: int, **options: Unpack[BankFailure]
) -> dict[str, Any]:
    """``payments.failed`` as a SEPA Core failure report (AM04, insufficient funds, by default)."""
    details = {
        "origin": "bank",
        "cause": options.get("cause", "insufficient_funds"),
        "scheme": "sepa_core",
        "reason_code": options.get("reason_code", "AM04"),
        "description": options.get(
            "description", "The customer's account had insufficient funds to make this payment."
        ),
        "will_attempt_retry": options.get("will_attempt_retry", False),
    }
    return _payment_event("failed", details, invoice_number, amount_minor, options)


def payment_charged_back(
    *, invoice_number: str | None, amount_minor: int, **options: Unpack[BankFailure]
) -> dict[str, Any]:
    """``payments.charged_back``: a SEPA refund claim (MD06, within 8 weeks) by default."""
    details = {
        "origin": "bank",
        "cause": options.get("cause", "refund_requested"),
        "scheme": "sepa_core",
        "reason_code": options.get("reason_code", "MD06"),
        "description": options.get(
            "description",
            "This payment was charged back by the customer's bank at the customer's request "
            "within the 8 week cool-off period.",
        ),
    }
    return _payment_event("charged_back", details, invoice_number, amount_minor, options)


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


def api_objects(
    event: dict[str, Any],
    *,
    amount_minor: int,
    email: str,
    given_name: str,
    family_name: str,
    currency: str = "EUR",
    language: str = "fr",
) -> list[dict[str, Any]]:
    """What GoCardless's API answers about an event's payment (and refund), as its API
    reference documents the objects: the payment, its mandate (SEPA Core) and the customer,
    for the local gateway API (``quittance_ops.gateway_api``) the lookup stage reads."""
    links = event["links"]
    payment_id = str(links["payment"])
    mandate_id = str(links.get("mandate") or f"MD{payment_id[2:]}")
    customer_id = f"CU{payment_id[2:]}"
    objects: list[dict[str, Any]] = [
        {
            "id": payment_id,
            "created_at": event["created_at"],
            "charge_date": str(event["created_at"])[:10],
            "amount": amount_minor,
            "amount_refunded": 0,
            "currency": currency,
            "description": None,
            "status": "confirmed",
            "reference": None,
            "metadata": event["resource_metadata"] if event["resource_type"] == "payments" else {},
            "links": {"mandate": mandate_id, "creditor": "CR000012345678"},
            "retry_if_possible": True,
        },
        {
            "id": mandate_id,
            "created_at": event["created_at"],
            "reference": f"QUITT-{mandate_id[-6:]}",
            "status": "active",
            "scheme": "sepa_core" if currency == "EUR" else "bacs",
            "metadata": {},
            "links": {
                "creditor": "CR000012345678",
                "customer": customer_id,
                "customer_bank_account": f"BA{payment_id[2:]}",
            },
        },
        {
            "id": customer_id,
            "created_at": event["created_at"],
            "email": email,
            "given_name": given_name,
            "family_name": family_name,
            "company_name": None,
            "address_line1": None,
            "address_line2": None,
            "address_line3": None,
            "city": None,
            "postal_code": None,
            "country_code": "FR",
            "language": language,
            "phone_number": None,
            "metadata": {},
        },
    ]
    if event["resource_type"] == "refunds":
        objects.append(
            {
                "id": str(links["refund"]),
                "created_at": event["created_at"],
                "amount": amount_minor,
                "currency": currency,
                "reference": None,
                "status": "created",
                "metadata": event["resource_metadata"],
                "links": {"payment": payment_id, "mandate": mandate_id},
            }
        )
    return objects
