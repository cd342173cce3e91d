"""Complete a GoCardless event from GoCardless's API, as its own client libraries do after
each event: payment → mandate → customer (and the refund for ``refunds.created``).

- amount and currency: the payment's (the refund's for a refund), unless the resource's
  ``metadata.amount`` overrides it;
- invoice number: ``metadata.invoice_number``, else none (filed under ``GW-<payment id>``);
- payer: ``metadata.customer_reference``, else the GoCardless customer id (``CU…``); email,
  name (given and family name, else the company name), phone, address and language from the
  customer;
- method: the mandate's scheme (``sepa_core`` is a SEPA Core direct debit) and its reference
  (the mandate reference the payer's bank shows).

Subscription and instalment payments carry no metadata of the merchant's: they need none."""

from __future__ import annotations

from typing import Any

from quittance.gateways.ports import GoCardlessApi, JsonObject
from quittance.gateways.stripe_lookup import Completion
from quittance.models.events import CustomerDetails, EventType, PaymentEvent
from quittance.models.lookups import GatewayLookup
from quittance.models.money import Money
from quittance.providers.gocardless import (
    AMOUNT_KEY,
    CUSTOMER_KEY,
    INVOICE_KEY,
    _amount,
    _method_kind,
    _Unmapped,
    event_details,
)

_KINDS = {
    "payments.confirmed": EventType.PAYMENT_SUCCEEDED,
    "payments.failed": EventType.PAYMENT_FAILED,
    "payments.charged_back": EventType.DISPUTE_OPENED,
    "payments.chargeback_cancelled": EventType.DISPUTE_CLOSED,
    "refunds.created": EventType.REFUND_ISSUED,
}


def complete_gocardless(lookup: GatewayLookup, api: GoCardlessApi) -> Completion:
    kind = _KINDS.get(lookup.event_type)
    if kind is None:
        return Completion(skipped="event_type_not_looked_up")
    refund: JsonObject | None = None
    if kind is EventType.REFUND_ISSUED:
        refund = api.refund(lookup.object_id)
        payment_id = _text(_links(refund).get("payment")) or lookup.links.get("payment")
    else:
        payment_id = lookup.object_id
    if payment_id is None:
        return Completion(skipped="missing_payment")
    payment = api.payment(payment_id)
    mandate_id = _text(_links(payment).get("mandate")) or lookup.links.get("mandate")
    mandate = api.mandate(mandate_id) if mandate_id else {}
    customer_id = _text(_links(mandate).get("customer"))
    customer = api.customer(customer_id) if customer_id else {}
    overrides = lookup.overrides
    source = refund if refund is not None else payment
    try:
        amount = (
            _amount(overrides[AMOUNT_KEY])
            if AMOUNT_KEY in overrides
            else Money(amount_minor=int(source["amount"]), currency=str(source["currency"]))
        )
    except _Unmapped as exc:
        return Completion(skipped=exc.reason)
    metadata = {**_metadata(payment), **overrides}
    reference = _text(metadata.get(CUSTOMER_KEY)) or customer_id or mandate_id
    scheme = _text(mandate.get("scheme"))
    event: dict[str, Any] = {
        "event_id": lookup.event_id,
        "provider": "gocardless",
        "type": kind,
        "occurred_at": lookup.occurred_at,
        "payment_id": payment_id,
        "invoice_number": _text(metadata.get(INVOICE_KEY)),
        "amount": amount,
        "method": {
            "kind": _method_kind(scheme, amount.currency),
            "transaction_id": payment_id,
            "mandate_reference": _text(mandate.get("reference")) or mandate_id,
        },
        "customer": _payer(reference, customer) if reference else None,
        "livemode": lookup.livemode,
    }
    event.update(event_details(kind, lookup.details, amount, payment_id, lookup.object_id))
    return Completion(events=(PaymentEvent.model_validate(event),))


def _links(obj: JsonObject) -> dict[str, Any]:
    links = obj.get("links")
    return links if isinstance(links, dict) else {}


def _metadata(obj: JsonObject) -> dict[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _payer(reference: str, customer: JsonObject) -> CustomerDetails:
    given, family = _text(customer.get("given_name")), _text(customer.get("family_name"))
    name = " ".join(p for p in (given, family) if p) or _text(customer.get("company_name"))
    town = " ".join(
        p for p in (_text(customer.get("postal_code")), _text(customer.get("city"))) if p
    )
    lines = [
        _text(customer.get("address_line1")),
        _text(customer.get("address_line2")),
        _text(customer.get("address_line3")),
        town or None,
        _text(customer.get("country_code")),
    ]
    address = "\n".join(line for line in lines if line)[:500] or None
    return CustomerDetails(
        reference=reference[:128],
        name=name[:200] if name else None,
        email=_text(customer.get("email")),
        phone=_text(customer.get("phone_number")),
        locale=_text(customer.get("language")),
        address=address,
    )
