"""What the lookup stage needs from each gateway's API. Objects are the gateways' documented
JSON objects as plain dicts (Stripe's and GoCardless's own clients return them so).

Every method raises GatewayUnavailable (retry later), GatewayKeyRejected (the key is missing,
revoked or lacks a permission) or GatewayObjectMissing (404)."""

from __future__ import annotations

from typing import Any, Protocol

JsonObject = dict[str, Any]


class StripeApi(Protocol):
    def payment_intent(self, intent_id: str) -> JsonObject:
        """The PaymentIntent with ``latest_charge`` and ``customer`` expanded."""

    def charge(self, charge_id: str) -> JsonObject: ...

    def checkout_session_for(self, intent_id: str) -> JsonObject | None:
        """The Checkout Session that created this PaymentIntent, if one did."""

    def checkout_session(self, session_id: str) -> JsonObject: ...

    def invoice(self, invoice_id: str) -> JsonObject: ...

    def invoice_for(self, intent_id: str) -> JsonObject | None:
        """The Billing invoice this PaymentIntent paid (through Invoice Payments on API
        versions from 2025-03-31, where the PaymentIntent no longer names its invoice)."""

    def intent_of_invoice(self, invoice_id: str, status: str = "paid") -> str | None:
        """The PaymentIntent that paid the invoice (``status="open"``: the one still trying
        to), through its Invoice Payments."""

    def refund(self, refund_id: str) -> JsonObject: ...

    def refunds_of(self, charge_id: str) -> list[JsonObject]:
        """Every refund of the charge, newest first."""


class GoCardlessApi(Protocol):
    def payment(self, payment_id: str) -> JsonObject: ...

    def mandate(self, mandate_id: str) -> JsonObject: ...

    def customer(self, customer_id: str) -> JsonObject: ...

    def refund(self, refund_id: str) -> JsonObject: ...
