"""In-memory gateway APIs implementing :mod:`quittance.gateways.ports` as the real adapters
do: a PaymentIntent comes back with ``latest_charge`` and ``customer`` expanded, an unknown id
is GatewayObjectMissing, refunds are listed newest first, and the link from a PaymentIntent
to its invoice goes through Invoice Payments (current API versions) or the intent's own
``invoice`` field (older ones)."""

from __future__ import annotations

import copy
from typing import Any

from quittance.errors import GatewayObjectMissing

JsonObject = dict[str, Any]


class FakeStripeApi:
    def __init__(self) -> None:
        self.objects: dict[str, JsonObject] = {}
        self.invoice_payments: list[JsonObject] = []
        self.calls: list[str] = []

    def add(self, *objects: JsonObject) -> FakeStripeApi:
        for obj in objects:
            self.objects[obj["id"]] = copy.deepcopy(obj)
        return self

    def _get(self, object_id: str, kind: str) -> JsonObject:
        self.calls.append(f"{kind}:{object_id}")
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise GatewayObjectMissing(f"No such {kind}: '{object_id}'")
        return copy.deepcopy(obj)

    def payment_intent(self, intent_id: str) -> JsonObject:
        intent = self._get(intent_id, "payment_intent")
        latest = intent.get("latest_charge")
        if isinstance(latest, str):
            intent["latest_charge"] = copy.deepcopy(self.objects[latest])
        customer = intent.get("customer")
        if isinstance(customer, str):
            intent["customer"] = copy.deepcopy(self.objects[customer])
        return intent

    def charge(self, charge_id: str) -> JsonObject:
        return self._get(charge_id, "charge")

    def checkout_session(self, session_id: str) -> JsonObject:
        return self._get(session_id, "checkout.session")

    def checkout_session_for(self, intent_id: str) -> JsonObject | None:
        self.calls.append(f"sessions?payment_intent={intent_id}")
        return next(
            (
                copy.deepcopy(o)
                for o in self.objects.values()
                if o["object"] == "checkout.session" and o.get("payment_intent") == intent_id
            ),
            None,
        )

    def invoice(self, invoice_id: str) -> JsonObject:
        return self._get(invoice_id, "invoice")

    def invoice_for(self, intent_id: str) -> JsonObject | None:
        self.calls.append(f"invoice_payments?payment_intent={intent_id}")
        for payment in self.invoice_payments:
            if payment["payment"].get("payment_intent") == intent_id:
                return copy.deepcopy(self.objects[payment["invoice"]])
        return None

    def intent_of_invoice(self, invoice_id: str, status: str = "paid") -> str | None:
        self.calls.append(f"invoice_payments?invoice={invoice_id}")
        for payment in self.invoice_payments:
            if payment["invoice"] == invoice_id and payment["status"] == status:
                intent = payment["payment"].get("payment_intent")
                return str(intent) if intent else None
        return None

    def refund(self, refund_id: str) -> JsonObject:
        return self._get(refund_id, "refund")

    def refunds_of(self, charge_id: str) -> list[JsonObject]:
        self.calls.append(f"refunds?charge={charge_id}")
        refunds = [
            copy.deepcopy(o)
            for o in self.objects.values()
            if o["object"] == "refund" and o["charge"] == charge_id
        ]
        return sorted(refunds, key=lambda r: (r["created"], r["id"]), reverse=True)


class FakeGoCardlessApi:
    def __init__(self) -> None:
        self.objects: dict[str, JsonObject] = {}
        self.calls: list[str] = []

    def add(self, *objects: JsonObject) -> FakeGoCardlessApi:
        for obj in objects:
            self.objects[obj["id"]] = copy.deepcopy(obj)
        return self

    def _get(self, object_id: str) -> JsonObject:
        self.calls.append(object_id)
        obj = self.objects.get(object_id)
        if obj is None:
            raise GatewayObjectMissing(f"resource {object_id} not found")
        return copy.deepcopy(obj)

    payment = mandate = customer = refund = _get
