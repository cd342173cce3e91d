"""Stripe and GoCardless API objects as their published API references document them, at the
current API version and at one older version, for the lookup stage's tests.

Written from the references (never shaped to fit quittance's code):

- Stripe (https://docs.stripe.com/api): PaymentIntent, Charge, Checkout Session, Invoice,
  Invoice Payment, Refund, Customer, Event. "current" is the shape from 2025-03-31.basil on
  (the PaymentIntent and Charge name no invoice, the Invoice no payment_intent/charge: the link
  is an Invoice Payment; ``latest_charge`` is an id since 2022-11-15; ``charge.refunded`` has
  no ``refunds`` list). "2022-08-01" is the older shape: the PaymentIntent embeds a ``charges``
  list and names its ``invoice``, the Invoice names its ``payment_intent`` and ``charge``, the
  Charge embeds its ``refunds``.
- GoCardless (https://developer.gocardless.com/api-reference): Payment, Mandate, Customer,
  Refund, as returned inside their envelope (``{"payments": {...}}``).

Fields the references document and quittance does not read are kept where they change
nothing's meaning (a fixture that only holds what the code reads proves little)."""

from __future__ import annotations

import copy
from typing import Any, Literal

Version = Literal["current", "2022-08-01"]

CREATED = 1_781_000_000  # 2026-06-09T10:13:20Z


def card_details(
    brand: str = "visa", last4: str = "4242", wallet: str | None = None
) -> dict[str, Any]:
    return {
        "type": "card",
        "card": {
            "brand": brand,
            "checks": {"address_line1_check": None, "cvc_check": "pass"},
            "country": "FR",
            "exp_month": 12,
            "exp_year": 2029,
            "fingerprint": "Xt5EWLLDS7FJjR1c",
            "funding": "credit",
            "last4": last4,
            "network": brand,
            "three_d_secure": None,
            "wallet": {"type": wallet, wallet: {}} if wallet else None,
        },
    }


def sepa_debit_details(mandate: str = "mandate_1QfZq2F7Jp0sepa") -> dict[str, Any]:
    return {
        "type": "sepa_debit",
        "sepa_debit": {
            "bank_code": "37040044",
            "branch_code": None,
            "country": "DE",
            "fingerprint": "kHzLsK1CzwZl8pX4",
            "last4": "3000",
            "mandate": mandate,
        },
    }


def billing_details(
    email: str | None, name: str | None, *, city: str | None = "Lyon"
) -> dict[str, Any]:
    return {
        "address": {
            "city": city,
            "country": "FR" if city else None,
            "line1": "12 rue de la République" if city else None,
            "line2": None,
            "postal_code": "69002" if city else None,
            "state": None,
        },
        "email": email,
        "name": name,
        "phone": None,
        "tax_id": None,
    }


def charge(
    charge_id: str,
    intent_id: str | None,
    amount: int,
    *,
    method: dict[str, Any],
    billing: dict[str, Any],
    customer: str | None = None,
    version: Version = "current",
    refunds: list[dict[str, Any]] | None = None,
    currency: str = "eur",
    status: str = "succeeded",
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": sum(r["amount"] for r in refunds or []),
        "balance_transaction": f"txn_{charge_id[3:]}",
        "billing_details": billing,
        "captured": True,
        "created": CREATED,
        "currency": currency,
        "customer": customer,
        "description": None,
        "disputed": False,
        "failure_code": None if status != "failed" else "card_declined",
        "failure_message": None if status != "failed" else "Your card has insufficient funds.",
        "livemode": False,
        "metadata": {},
        "outcome": {"network_status": "approved_by_network", "type": "authorized"}
        if status != "failed"
        else {
            "network_status": "declined_by_network",
            "reason": "insufficient_funds",
            "type": "issuer_declined",
        },
        "paid": status == "succeeded",
        "payment_intent": intent_id,
        "payment_method": f"pm_{charge_id[3:]}",
        "payment_method_details": method,
        "receipt_email": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{charge_id}",
        "refunded": False,
        "status": status,
    }
    if version == "2022-08-01":
        obj["invoice"] = None
        obj["refunds"] = {
            "object": "list",
            "data": list(reversed(refunds or [])),  # newest first
            "has_more": False,
            "url": f"/v1/charges/{charge_id}/refunds",
        }
    return obj


def payment_intent(
    intent_id: str,
    amount: int,
    *,
    latest_charge: dict[str, Any] | str | None,
    customer: str | dict[str, Any] | None = None,
    receipt_email: str | None = None,
    metadata: dict[str, str] | None = None,
    version: Version = "current",
    invoice: str | None = None,
    status: str = "succeeded",
    currency: str = "eur",
    last_payment_error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount if status == "succeeded" else 0,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "capture_method": "automatic_async",
        "client_secret": f"{intent_id}_secret_Kx3",
        "confirmation_method": "automatic",
        "created": CREATED - 60,
        "currency": currency,
        "customer": customer,
        "description": None,
        "last_payment_error": last_payment_error,
        "latest_charge": latest_charge,
        "livemode": False,
        "metadata": metadata or {},
        "next_action": None,
        "payment_method": "pm_1QfZq2F7Jp0card",
        # With automatic payment methods: what the account offers, not what was used.
        "payment_method_types": ["card", "link", "sepa_debit", "bancontact"],
        "receipt_email": receipt_email,
        "setup_future_usage": None,
        "shipping": None,
        "status": status,
    }
    if version == "2022-08-01":
        embedded = latest_charge if isinstance(latest_charge, dict) else None
        del obj["latest_charge"]  # added in 2022-11-15, with the charges list removed
        obj["charges"] = {
            "object": "list",
            "data": [embedded] if embedded else [],
            "has_more": False,
            "url": f"/v1/charges?payment_intent={intent_id}",
        }
        obj["invoice"] = invoice
    return obj


def checkout_session(
    session_id: str,
    intent_id: str | None,
    amount: int,
    *,
    email: str,
    name: str,
    payment_status: str = "paid",
    mode: str = "payment",
    customer: str | None = None,
    locale: str | None = None,
    subscription: str | None = None,
    invoice: str | None = None,
) -> dict[str, Any]:
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "client_reference_id": None,
        "created": CREATED - 120,
        "currency": "eur",
        "customer": customer,
        "customer_creation": "if_required",
        "customer_details": {
            "address": {
                "city": "Nantes",
                "country": "FR",
                "line1": "3 quai de la Fosse",
                "line2": None,
                "postal_code": "44000",
                "state": None,
            },
            "email": email,
            "name": name,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
        "customer_email": None,
        "expires_at": CREATED + 86400,
        "invoice": invoice,
        "livemode": False,
        "locale": locale,
        "metadata": {},
        "mode": mode,
        "payment_intent": intent_id,
        "payment_link": None,
        "payment_method_types": ["card", "sepa_debit"],
        "payment_status": payment_status,
        "status": "complete",
        "subscription": subscription,
        "success_url": "https://shop.example.com/merci",
        "url": None,
    }


def invoice(
    invoice_id: str,
    number: str,
    amount_paid: int,
    *,
    customer: str,
    email: str,
    name: str,
    version: Version = "current",
    intent_id: str | None = None,
    charge_id: str | None = None,
    attempt_failed: bool = False,
) -> dict[str, Any]:
    """A paid invoice, or (``attempt_failed``) an open one whose automatic attempt to charge
    ``amount_paid`` failed, as ``invoice.payment_failed`` carries it."""
    due = amount_paid
    if attempt_failed:
        amount_paid = 0
    obj: dict[str, Any] = {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": due,
        "amount_paid": amount_paid,
        "amount_remaining": due - amount_paid,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": CREATED - 3600,
        "currency": "eur",
        "customer": customer,
        "customer_address": None,
        "customer_email": email,
        "customer_name": name,
        "customer_phone": None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_1Qf/test_{invoice_id[3:]}",
        "invoice_pdf": f"https://pay.stripe.com/invoice/acct_1Qf/test_{invoice_id[3:]}/pdf",
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": CREATED + 3 * 86400 if attempt_failed else None,
        "number": number,
        "status": "open" if attempt_failed else "paid",
        "status_transitions": {
            "paid_at": None if attempt_failed else CREATED,
            "finalized_at": CREATED - 3600,
        },
        "total": due,
    }
    if version == "2022-08-01":
        obj["payment_intent"] = intent_id
        obj["charge"] = charge_id
        obj["paid"] = not attempt_failed
        obj["subscription"] = "sub_1QfZq2F7Jp0subs"
    else:
        obj["parent"] = {
            "type": "subscription_details",
            "subscription_details": {"subscription": "sub_1QfZq2F7Jp0subs", "metadata": {}},
        }
    return obj


def invoice_payment(
    invoice_id: str, intent_id: str, amount: int, *, status: str = "paid"
) -> dict[str, Any]:
    """``status="open"``: the invoice's PaymentIntent still trying (``amount_paid`` is null
    until the payment is paid)."""
    paid = status == "paid"
    return {
        "id": f"inpay_{intent_id[3:]}",
        "object": "invoice_payment",
        "amount_paid": amount if paid else None,
        "amount_requested": amount,
        "created": CREATED,
        "currency": "eur",
        "invoice": invoice_id,
        "is_default": True,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": intent_id},
        "status": status,
        "status_transitions": {"canceled_at": None, "paid_at": CREATED if paid else None},
    }


def card_declined(charge_id: str, brand: str = "visa", last4: str = "0341") -> dict[str, Any]:
    """A PaymentIntent's ``last_payment_error`` after a declined card: the failed Charge's id
    and the PaymentMethod tried, embedded."""
    return {
        "charge": charge_id,
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": "Your card has insufficient funds.",
        "payment_method": {
            "id": f"pm_{charge_id[3:]}",
            "object": "payment_method",
            "billing_details": billing_details(None, None, city=None),
            "card": card_details(brand, last4)["card"],
            "created": CREATED - 60,
            "customer": None,
            "livemode": False,
            "type": "card",
        },
        "type": "card_error",
    }


def refund(
    refund_id: str,
    charge_id: str,
    intent_id: str | None,
    amount: int,
    *,
    status: str = "succeeded",
    created: int = CREATED + 3600,
) -> dict[str, Any]:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": f"txn_{refund_id[3:]}",
        "charge": charge_id,
        "created": created,
        "currency": "eur",
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": {},
        "payment_intent": intent_id,
        "reason": "requested_by_customer",
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }


def customer(customer_id: str, email: str, name: str, locale: str = "fr") -> dict[str, Any]:
    return {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": CREATED - 86400,
        "currency": "eur",
        "email": email,
        "invoice_prefix": "8F3A1C2B",
        "livemode": False,
        "metadata": {},
        "name": name,
        "phone": None,
        "preferred_locales": [locale],
        "tax_exempt": "none",
    }


def event(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str,
    created: int = CREATED,
    api_version: str = "2025-03-31.basil",
) -> dict[str, Any]:
    """An Event as a webhook endpoint receives it: ``data.object`` is the object as it was
    when the event happened, never expanded."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": {"object": copy.deepcopy(obj)},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


# ---------------------------------------------------------------------------- GoCardless


def gc_payment(
    payment_id: str,
    amount: int,
    *,
    mandate: str,
    metadata: dict[str, str] | None = None,
    subscription: str | None = None,
    status: str = "confirmed",
) -> dict[str, Any]:
    links: dict[str, str] = {"mandate": mandate, "creditor": "CR000012345678"}
    if subscription:
        links["subscription"] = subscription
    return {
        "id": payment_id,
        "created_at": "2026-06-01T09:00:00.000Z",
        "charge_date": "2026-06-05",
        "amount": amount,
        "description": "Abonnement mensuel",
        "currency": "EUR",
        "status": status,
        "amount_refunded": 0,
        "reference": "WINEBOX-001",
        "metadata": metadata or {},
        "fx": {"fx_currency": None, "fx_amount": None, "exchange_rate": None},
        "links": links,
        "retry_if_possible": True,
        "faster_ach": False,
    }


def gc_mandate(
    mandate_id: str, customer_id: str, reference: str = "QUITT-7DF9W4"
) -> dict[str, Any]:
    return {
        "id": mandate_id,
        "created_at": "2026-05-01T09:00:00.000Z",
        "reference": reference,
        "status": "active",
        "scheme": "sepa_core",
        "next_possible_charge_date": "2026-07-05",
        "payments_require_approval": False,
        "metadata": {},
        "links": {
            "customer_bank_account": "BA0000ABCDEF12",
            "creditor": "CR000012345678",
            "customer": customer_id,
        },
        "consent_parameters": None,
        "verified_at": None,
        "funds_settlement": "managed",
    }


def gc_customer(
    customer_id: str, email: str, given: str, family: str, language: str = "fr"
) -> dict[str, Any]:
    return {
        "id": customer_id,
        "created_at": "2026-05-01T08:59:00.000Z",
        "email": email,
        "given_name": given,
        "family_name": family,
        "company_name": None,
        "address_line1": "8 allée des Tilleuls",
        "address_line2": None,
        "address_line3": None,
        "city": "Bordeaux",
        "region": None,
        "postal_code": "33000",
        "country_code": "FR",
        "language": language,
        "swedish_identity_number": None,
        "danish_identity_number": None,
        "phone_number": None,
        "metadata": {},
    }


def gc_refund(refund_id: str, payment_id: str, mandate_id: str, amount: int) -> dict[str, Any]:
    return {
        "id": refund_id,
        "created_at": "2026-06-10T09:00:00.000Z",
        "amount": amount,
        "currency": "EUR",
        "reference": "REFUND-001",
        "metadata": {},
        "fx": {"fx_currency": None, "fx_amount": None, "exchange_rate": None},
        "links": {"payment": payment_id, "mandate": mandate_id},
        "status": "created",
    }
