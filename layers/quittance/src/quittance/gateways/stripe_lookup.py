"""Complete a Stripe event from Stripe's API, the way Stripe advises: every payment event is
read back through its PaymentIntent (with its latest Charge and Customer expanded), the
Checkout Session that created it and the Billing invoice it paid, so that whichever of
``payment_intent.succeeded``, ``charge.succeeded``, ``checkout.session.completed``,
``checkout.session.async_payment_succeeded`` and ``invoice.paid`` arrive, in any order, they
become the same payment: same payment id, same invoice, same payer.

Where each field comes from:

- amount: the PaymentIntent's ``amount_received``;
- method and its proof fields: the Charge's ``payment_method_details`` (never the intent's
  ``payment_method_types``, which lists what was offered);
- invoice number: the intent's ``metadata.invoice_number``, else the Stripe invoice's own
  ``number`` (Billing), else none (the ledger files it under ``GW-<payment intent>``);
- payer email: the Checkout Session's ``customer_details``, the invoice's ``customer_email``,
  the Charge's ``billing_details``, the intent's ``receipt_email``, the Customer, in that order;
  name, phone and address likewise; language: ``metadata.locale``, the Session's locale, the
  Customer's ``preferred_locales``;
- refunds: each Refund at its own amount, keyed by its id (``charge.refunded`` on current API
  versions lists none, so the charge's refunds are listed);
- a failed attempt (``invoice.payment_failed``, an invoice's or an unnumbered
  ``payment_intent.payment_failed``): why from the intent's ``last_payment_error``, the
  invoice and payer as for a payment, and where the payer can pay again: the invoice's
  ``hosted_invoice_url``, else the Checkout Session's ``url`` while it is open, else its
  ``after_expiration.recovery.url`` (when the merchant enabled recovery)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from quittance.gateways.ports import JsonObject, StripeApi
from quittance.models.events import CustomerDetails, EventType, PaymentEvent
from quittance.models.lookups import GatewayLookup
from quittance.providers.stripe import (
    _consent,
    _money,
    _obj,
    _postal_address,
    _str,
    failed_attempt_billing,
    failed_attempt_charge,
    failure_of,
    method_of,
    payer_reference,
    refund_event,
)


@dataclass(frozen=True)
class Completion:
    """The canonical events a lookup yields; ``skipped`` says why there are none."""

    events: tuple[PaymentEvent, ...] = ()
    skipped: str | None = None


_PAYMENT_EVENTS = frozenset(
    [
        "payment_intent.succeeded",
        "charge.succeeded",
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "invoice.paid",
    ]
)


def complete_stripe(lookup: GatewayLookup, api: StripeApi) -> Completion:  # noqa: PLR0911 - one exit per event type, read as a table
    if lookup.event_type == "charge.refunded":
        return _refunds_of_charge(lookup, api)
    if lookup.event_type in _FAILURE_EVENTS:
        return _failed_attempt(lookup, api)
    if lookup.event_type not in _PAYMENT_EVENTS:
        return Completion(skipped="event_type_not_looked_up")
    session: JsonObject | None = None
    invoice: JsonObject | None = None
    intent_id: str | None
    if lookup.event_type.startswith("checkout.session."):
        session = api.checkout_session(lookup.object_id)
        if session.get("mode") != "payment":
            return Completion(skipped="not_payment_mode")
        if session.get("payment_status") != "paid":
            return Completion(skipped="not_paid_yet")
        intent_id = _id(session.get("payment_intent"))
    elif lookup.event_type == "invoice.paid":
        invoice = api.invoice(lookup.object_id)
        if not invoice.get("amount_paid"):
            return Completion(skipped="nothing_paid")
        intent_id = _id(invoice.get("payment_intent")) or api.intent_of_invoice(invoice["id"])
    elif lookup.event_type == "charge.succeeded":
        intent_id = lookup.links.get("payment_intent")
        if intent_id is None:
            # A charge made without a PaymentIntent (the legacy Charges API): it is the payment.
            return Completion(events=(_charge_payment(lookup, api.charge(lookup.object_id)),))
    else:
        intent_id = lookup.object_id
    if intent_id is None:
        return Completion(skipped="no_payment_intent")  # an invoice paid out of band
    return _intent_payment(lookup, api, intent_id, session=session, invoice=invoice)


_FAILURE_EVENTS = frozenset(["invoice.payment_failed", "payment_intent.payment_failed"])


def _failed_attempt(lookup: GatewayLookup, api: StripeApi) -> Completion:
    invoice: JsonObject | None = None
    if lookup.event_type == "invoice.payment_failed":
        invoice = api.invoice(lookup.object_id)
        intent_id = _id(invoice.get("payment_intent")) or api.intent_of_invoice(
            invoice["id"], status="open"
        )
        if intent_id is None:
            return Completion(skipped="no_payment_intent")
    else:
        intent_id = lookup.object_id
    intent = api.payment_intent(intent_id)
    if intent.get("status") == "succeeded":
        # Paid meanwhile (a retry, another card): the receipt says so; no failure to tell.
        return Completion(skipped="intent_succeeded")
    charge = _charge_of(intent, api)
    if invoice is None:
        invoice_id = _id(intent.get("invoice"))  # API versions before 2025-03-31
        invoice = api.invoice(invoice_id) if invoice_id else api.invoice_for(intent_id)
    session = api.checkout_session_for(intent_id) if invoice is None else None
    if not _obj(charge.get("billing_details"), "billing_details"):
        charge = {**charge, "billing_details": failed_attempt_billing(intent)}
    customer = intent.get("customer") if isinstance(intent.get("customer"), dict) else {}
    metadata = _obj(intent.get("metadata"), "metadata")
    event = PaymentEvent.model_validate(
        {
            "event_id": lookup.event_id,
            "provider": "stripe",
            "type": EventType.PAYMENT_FAILED,
            "occurred_at": lookup.occurred_at,
            "payment_id": intent["id"],
            "invoice_number": _str(metadata.get("invoice_number"))
            or (_str(invoice.get("number")) if invoice else None),
            "amount": _money(intent.get("amount"), intent.get("currency")),
            "method": method_of(
                intent, charge if charge.get("id") else failed_attempt_charge(intent)
            ),
            "customer": _payer(intent, charge, session or {}, invoice or {}, customer or {}),
            "failure": failure_of(
                intent, charge, update_url=_update_url(invoice or {}, session or {})
            ),
            "livemode": lookup.livemode,
        }
    )
    return Completion(events=(event,))


def _update_url(invoice: JsonObject, session: JsonObject) -> str | None:
    """Where Stripe lets the payer pay again: https pages only."""
    recovery = _obj(_obj(session.get("after_expiration"), "after_expiration").get("recovery"))
    candidates = (
        invoice.get("hosted_invoice_url"),
        session.get("url") if session.get("status") == "open" else None,
        recovery.get("url") if session.get("status") == "expired" else None,
    )
    return next((url for url in candidates if isinstance(url, str) and _HTTPS.fullmatch(url)), None)


_HTTPS = re.compile(r"https://\S{1,2040}")


def _id(value: Any) -> str | None:
    """An expandable field: the id whether Stripe sent the id or the object."""
    if isinstance(value, dict):
        return _str(value.get("id"))
    return _str(value)


def _intent_payment(
    lookup: GatewayLookup,
    api: StripeApi,
    intent_id: str,
    *,
    session: JsonObject | None,
    invoice: JsonObject | None,
) -> Completion:
    intent = api.payment_intent(intent_id)
    if intent.get("status") != "succeeded":
        return Completion(skipped=f"intent_{_str(intent.get('status')) or 'unknown'}")
    charge = _charge_of(intent, api)
    if session is None:
        session = api.checkout_session_for(intent_id)
    if invoice is None:
        invoice_id = _id(intent.get("invoice"))  # API versions before 2025-03-31
        invoice = api.invoice(invoice_id) if invoice_id else api.invoice_for(intent_id)
    customer = intent.get("customer") if isinstance(intent.get("customer"), dict) else {}
    metadata = _obj(intent.get("metadata"), "metadata")
    amount = intent.get("amount_received") or intent.get("amount")
    event = PaymentEvent.model_validate(
        {
            "event_id": lookup.event_id,
            "provider": "stripe",
            "type": EventType.PAYMENT_SUCCEEDED,
            "occurred_at": lookup.occurred_at,
            "payment_id": intent["id"],
            "invoice_number": _str(metadata.get("invoice_number"))
            or (_str(invoice.get("number")) if invoice else None),
            "amount": _money(amount, intent.get("currency")),
            "method": method_of(intent, charge),
            "customer": _payer(intent, charge, session or {}, invoice or {}, customer or {}),
            "livemode": lookup.livemode,
            "next_steps": _str(metadata.get("next_steps")),
        }
    )
    return Completion(events=(event,))


def _charge_of(intent: JsonObject, api: StripeApi) -> JsonObject:
    latest = intent.get("latest_charge")
    if isinstance(latest, dict):
        return latest
    if isinstance(latest, str) and latest:
        return api.charge(latest)
    charges = _obj(intent.get("charges"), "charges").get("data")  # before 2022-11-15
    if isinstance(charges, list) and charges:
        return _obj(charges[0], "charges.data[0]")
    return {}


def _first(*values: Any) -> str | None:
    for value in values:
        text = _str(value)
        if text:
            return text
    return None


def _payer(
    intent: JsonObject,
    charge: JsonObject,
    session: JsonObject,
    invoice: JsonObject,
    customer: JsonObject,
) -> CustomerDetails:
    metadata = _obj(intent.get("metadata"), "metadata")
    details = _obj(session.get("customer_details"), "customer_details")
    billing = _obj(charge.get("billing_details"), "billing_details")
    email = _first(
        details.get("email"),
        invoice.get("customer_email"),
        billing.get("email"),
        intent.get("receipt_email"),
        customer.get("email"),
    )
    address = (
        _postal_address(billing.get("address"))
        or _postal_address(details.get("address"))
        or _postal_address(invoice.get("customer_address"))
        or _postal_address(customer.get("address"))
    )
    customer_id = _id(intent.get("customer")) or _id(session.get("customer"))
    customer_id = customer_id or _id(invoice.get("customer"))
    session_locale = _str(session.get("locale"))
    preferred = customer.get("preferred_locales")
    return CustomerDetails(
        reference=payer_reference(
            customer_id, _str(metadata.get("customer_reference")), email, intent["id"]
        ),
        name=_first(
            details.get("name"),
            invoice.get("customer_name"),
            billing.get("name"),
            customer.get("name"),
            metadata.get("customer_name"),
        ),
        email=email,
        phone=_first(
            details.get("phone"),
            invoice.get("customer_phone"),
            billing.get("phone"),
            customer.get("phone"),
        ),
        locale=_first(
            metadata.get("locale"),
            session_locale if session_locale != "auto" else None,
            preferred[0] if isinstance(preferred, list) and preferred else None,
        ),
        address=address,
        marketing_consent=_consent(metadata.get("marketing_consent")),
    )


def _charge_payment(lookup: GatewayLookup, charge: JsonObject) -> PaymentEvent:
    metadata = _obj(charge.get("metadata"), "metadata")
    billing = _obj(charge.get("billing_details"), "billing_details")
    email = _first(charge.get("receipt_email"), billing.get("email"))
    return PaymentEvent.model_validate(
        {
            "event_id": lookup.event_id,
            "provider": "stripe",
            "type": EventType.PAYMENT_SUCCEEDED,
            "occurred_at": lookup.occurred_at,
            "payment_id": charge["id"],
            "invoice_number": _str(metadata.get("invoice_number")),
            "amount": _money(charge.get("amount"), charge.get("currency")),
            "method": method_of({"id": charge["id"]}, charge),
            "customer": CustomerDetails(
                reference=payer_reference(
                    _id(charge.get("customer")),
                    _str(metadata.get("customer_reference")),
                    email,
                    charge["id"],
                ),
                name=_first(billing.get("name"), metadata.get("customer_name")),
                email=email,
                phone=_str(billing.get("phone")),
                locale=_str(metadata.get("locale")),
                address=_postal_address(billing.get("address")),
            ),
            "livemode": lookup.livemode,
        }
    )


def _refunds_of_charge(lookup: GatewayLookup, api: StripeApi) -> Completion:
    charge = api.charge(lookup.object_id)
    payload = {"created": int(lookup.occurred_at.timestamp()), "livemode": lookup.livemode}
    events = tuple(
        refund_event(f"{lookup.event_id}#{refund['id']}", payload, refund, charge)
        for refund in api.refunds_of(lookup.object_id)
        if refund.get("status") == "succeeded"
    )
    return Completion(events=events, skipped=None if events else "no_succeeded_refund")
