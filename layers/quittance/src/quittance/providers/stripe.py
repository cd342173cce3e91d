"""Stripe: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]``, HMAC-SHA256 over ``"{t}.{body}"``.

https://docs.stripe.com/webhooks#verify-manually — several v1 entries appear while a secret
is being rolled; any one matching any of our active secrets is enough."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from babel.numbers import get_currency_precision, list_currencies
from pydantic import ValidationError

from quittance.errors import (
    PayloadInvalid,
    SignatureInvalid,
    SignatureMissing,
    TimestampOutOfTolerance,
)
from quittance.models.events import (
    CustomerDetails,
    Dispute,
    DisputeOutcome,
    EventType,
    Failure,
    FailureCategory,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
    Refund,
)
from quittance.models.lookups import GatewayLookup
from quittance.models.money import Money
from quittance.providers.base import ParsedDelivery, WebhookRequest

TOLERANCE_SECONDS = 300

_KNOWN = frozenset(list_currencies())

_HANDLED = {
    "payment_intent.succeeded": EventType.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": EventType.PAYMENT_FAILED,
    "charge.refunded": EventType.REFUND_ISSUED,
    "refund.created": EventType.REFUND_ISSUED,
    "refund.updated": EventType.REFUND_ISSUED,
    "charge.refund.updated": EventType.REFUND_ISSUED,
    "charge.dispute.created": EventType.DISPUTE_OPENED,
    "charge.dispute.closed": EventType.DISPUTE_CLOSED,
}

# Events about a payment whose payload never holds all a receipt needs (the Checkout Session
# has the payer but not the card; the Charge has the card but not the Checkout's invoice
# number; the Invoice has its number but its payment only as an id): the lookup stage reads
# the PaymentIntent behind each, so that whichever of them arrive, and in any order, they all
# become the same payment (one receipt, under the same invoice, to the same payer).
LOOKUP_EVENTS = frozenset(
    [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "charge.succeeded",
        "invoice.paid",
        # A Billing attempt failed: the invoice names the page where the payer pays again
        # (hosted_invoice_url); why it failed is on the PaymentIntent.
        "invoice.payment_failed",
    ]
)

# https://docs.stripe.com/declines/codes: the decline code when there is one, else the error code.
_FAILURES = {
    "insufficient_funds": FailureCategory.INSUFFICIENT_FUNDS,
    "card_velocity_exceeded": FailureCategory.INSUFFICIENT_FUNDS,
    "withdrawal_count_limit_exceeded": FailureCategory.INSUFFICIENT_FUNDS,
    "expired_card": FailureCategory.EXPIRED_CARD,
    "fraudulent": FailureCategory.SUSPECTED_FRAUD,
    "stolen_card": FailureCategory.SUSPECTED_FRAUD,
    "lost_card": FailureCategory.SUSPECTED_FRAUD,
    "pickup_card": FailureCategory.SUSPECTED_FRAUD,
    "merchant_blacklist": FailureCategory.SUSPECTED_FRAUD,
    "security_violation": FailureCategory.SUSPECTED_FRAUD,
    "authentication_required": FailureCategory.AUTHENTICATION_REQUIRED,
    "payment_intent_authentication_failure": FailureCategory.AUTHENTICATION_REQUIRED,
    "processing_error": FailureCategory.TECHNICAL,
    "issuer_not_available": FailureCategory.TECHNICAL,
    "try_again_later": FailureCategory.TECHNICAL,
    "reenter_transaction": FailureCategory.TECHNICAL,
}


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The header Stripe would send; used by the demo and tests to sign real deliveries."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class StripeAdapter:
    name = "stripe"

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        header = request.headers.get("stripe-signature")
        if not header:
            raise SignatureMissing("Stripe-Signature header is missing")
        timestamp: int | None = None
        candidates: list[str] = []
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t" and value.isascii() and value.isdigit():
                timestamp = int(value)
            elif key == "v1" and value:
                candidates.append(value)
        if timestamp is None or not candidates:
            raise SignatureInvalid("Stripe-Signature needs t= and at least one v1=")
        signed = f"{timestamp}.".encode() + request.body
        expected = [
            hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets
        ]
        # Check every pair without stopping early, so timing says nothing about which matched.
        matched = False
        for candidate in candidates:
            for digest in expected:
                matched |= hmac.compare_digest(candidate.encode(), digest.encode())
        if not matched:
            raise SignatureInvalid("no v1 signature matches an active signing secret")
        age = request.received_at.timestamp() - timestamp
        if abs(age) > TOLERANCE_SECONDS:
            raise TimestampOutOfTolerance(
                f"signature timestamp is {int(age)} s from now; tolerance is {TOLERANCE_SECONDS} s"
            )

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        try:
            payload = json.loads(request.body)
        except (ValueError, RecursionError) as exc:  # bad UTF-8, bad JSON, 4,300+ digit ints
            raise PayloadInvalid(f"body is not JSON: {type(exc).__name__}") from None
        if not isinstance(payload, dict):
            raise PayloadInvalid("body must be a JSON object")
        event_id, event_type = payload.get("id"), payload.get("type")
        if not isinstance(event_id, str) or not isinstance(event_type, str):
            required: list[dict[str, object]] = [
                {"loc": ["id"], "msg": "required"},
                {"loc": ["type"], "msg": "required"},
            ]
            raise PayloadInvalid("Stripe event needs string 'id' and 'type'", required)
        kind = _HANDLED.get(event_type)
        if kind is None and event_type not in LOOKUP_EVENTS:
            return ParsedDelivery(delivery_id=event_id, ignored=(event_type,))
        obj = _obj(_obj(payload.get("data"), "data").get("object"), "data.object")
        if not obj:
            raise PayloadInvalid("data.object is missing", [{"loc": ["data", "object"]}])
        try:
            return _route(event_id, event_type, kind, payload, obj)
        except ValidationError as exc:
            errors: list[dict[str, object]] = [
                {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
                for err in exc.errors(include_url=False, include_input=False)
            ]
            raise PayloadInvalid(f"{event_type} does not map to a payment event", errors) from None
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise PayloadInvalid(f"{event_type} is malformed: {exc}") from None


def _route(
    event_id: str,
    event_type: str,
    kind: EventType | None,
    payload: dict[str, Any],
    obj: dict[str, Any],
) -> ParsedDelivery:
    """Map what the payload holds; hand the rest to the lookup stage; say why anything else
    is left (``"<type>:<reason>"``)."""
    if kind is None or _needs_lookup(event_type, obj):
        skipped = _not_a_payment(event_type, obj)
        if skipped:
            return ParsedDelivery(delivery_id=event_id, ignored=(f"{event_type}:{skipped}",))
        return ParsedDelivery(
            delivery_id=event_id, lookups=(_lookup(event_id, event_type, payload, obj),)
        )
    if kind is EventType.REFUND_ISSUED:
        refunds = _refund_events(event_id, event_type, payload, obj)
        if not refunds:
            return ParsedDelivery(delivery_id=event_id, ignored=(f"{event_type}:not_succeeded",))
        return ParsedDelivery(delivery_id=event_id, events=refunds)
    mapper = _payment_intent_event if kind in _INTENT_KINDS else _dispute_event
    return ParsedDelivery(delivery_id=event_id, events=(mapper(event_id, kind, payload, obj),))


_INTENT_KINDS = frozenset([EventType.PAYMENT_SUCCEEDED, EventType.PAYMENT_FAILED])


def _needs_lookup(event_type: str, obj: dict[str, Any]) -> bool:
    if event_type in LOOKUP_EVENTS:
        return True
    if event_type == "payment_intent.succeeded":
        # Self-sufficient only with its charge embedded (older API versions, or an expanded
        # latest_charge), no Billing invoice to name it, and a payer to write to.
        charge = _latest_charge(obj)
        billing = _obj(charge.get("billing_details"), "billing_details")
        payer = _str(obj.get("customer")) or _str(obj.get("receipt_email"))
        return not charge or bool(obj.get("invoice")) or not (payer or _str(billing.get("email")))
    if event_type == "payment_intent.payment_failed":
        # An invoice's attempt is filed under the invoice, with its hosted page for paying
        # again: the intent names it before 2025-03-31; on later versions it names none, so
        # one the merchant did not number (Billing's never are) is looked up too.
        metadata = _obj(obj.get("metadata"), "metadata")
        unnumbered = "invoice" not in obj and not _str(metadata.get("invoice_number"))
        return bool(obj.get("invoice")) or unnumbered
    if event_type == "charge.refunded":
        # Current API versions send no refund list and a cumulative amount_refunded: only the
        # API says which refunds there are and what each was.
        refunds = _obj(obj.get("refunds"), "refunds").get("data")
        return not (isinstance(refunds, list) and refunds)
    return False


def _not_a_payment(event_type: str, obj: dict[str, Any]) -> str | None:
    """Why an event routed to the lookup stage brings no payment, known from its payload."""
    if event_type.startswith("checkout.session."):
        if obj.get("mode") != "payment":
            return "not_payment_mode"  # subscriptions are receipted from invoice.paid
        if obj.get("payment_status") != "paid":
            return "not_paid_yet"  # delayed methods: async_payment_succeeded follows
    if event_type == "invoice.paid" and obj.get("amount_paid") == 0:
        return "nothing_paid"  # a free trial or a fully credited invoice: no money moved
    return None


def _lookup(
    event_id: str, event_type: str, payload: dict[str, Any], obj: dict[str, Any]
) -> GatewayLookup:
    # What the payload states is checked now, so that a payload that cannot be a payment is
    # refused here (422, with its fields) rather than queued: the API is read for what is
    # missing, not to repair what is wrong.
    amount_field = {
        "checkout.session": "amount_total",
        "invoice": "amount_due" if event_type == "invoice.payment_failed" else "amount_paid",
    }.get(_str(obj.get("object")) or "", "amount")
    _money(obj.get("amount_received") or obj.get(amount_field), obj.get("currency"))
    links = {
        name: value
        for name in ("payment_intent", "charge", "invoice")
        if (value := _str(obj.get(name))) is not None
    }
    return GatewayLookup(
        provider="stripe",
        event_id=event_id,
        event_type=event_type,
        object_id=obj["id"],
        occurred_at=_timestamp(payload.get("created")),
        livemode=payload.get("livemode") is True,
        links=links,
    )


def _obj(value: Any, field: str = "object") -> dict[str, Any]:
    """A JSON object, an empty one when the field is absent; any other JSON type is refused."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _refuse(field, "must be a JSON object")
    return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# Stripe's own minor-unit exponents (https://docs.stripe.com/currencies#zero-decimal): they
# differ from ISO 4217 for a few currencies (ISK is stated with two decimals, for example).
_STRIPE_ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
_STRIPE_THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


def _consent(value: Any) -> bool | None:
    # Stripe metadata values are strings; anything but an explicit answer means "not asked".
    if not isinstance(value, str):
        return None
    return {"true": True, "false": False}.get(value.strip().lower())


def _refuse(field: str, message: str) -> PayloadInvalid:
    return PayloadInvalid(f"payment_intent.{field}: {message}", [{"loc": [field], "msg": message}])


def _money(amount: Any, currency: Any) -> Money:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise _refuse("amount", "must be an integer number of minor units")
    if not isinstance(currency, str):
        raise _refuse("currency", "must be an ISO 4217 code")
    code = currency.upper()
    stripe_exponent = (
        0 if code in _STRIPE_ZERO_DECIMAL else 3 if code in _STRIPE_THREE_DECIMAL else 2
    )
    ours = get_currency_precision(code) if code in _KNOWN else stripe_exponent
    shift = ours - stripe_exponent
    if shift < 0:
        whole, remainder = divmod(amount, 10**-shift)
        if remainder:
            raise _refuse("amount", f"{amount} is not a whole amount of {code}")
        amount = whole
    else:
        amount *= 10**shift
    return Money(amount_minor=amount, currency=code)


_METHOD_KINDS = {
    "card": MethodKind.CARD,
    "card_present": MethodKind.CARD,
    "interac_present": MethodKind.CARD,
    "sepa_debit": MethodKind.SEPA_DEBIT,
    "customer_balance": MethodKind.SEPA_TRANSFER,
    "sepa_credit_transfer": MethodKind.SEPA_TRANSFER,
}


def method_of(intent: dict[str, Any], charge: dict[str, Any]) -> PaymentMethod:
    """How the payer paid, from the Charge's ``payment_method_details`` only: the intent's
    ``payment_method_types`` lists what was offered (with automatic payment methods, every
    method the account has), not what was used."""
    details = _obj(charge.get("payment_method_details"), "payment_method_details")
    method_type = _str(details.get("type"))
    kind = _METHOD_KINDS.get(method_type or "", MethodKind.OTHER)
    card = _obj(details.get("card"), "payment_method_details.card")
    wallet = _obj(card.get("wallet"), "payment_method_details.card.wallet")
    if kind is MethodKind.CARD and _str(wallet.get("type")):
        kind = MethodKind.WALLET
    sepa = _obj(details.get("sepa_debit"), "payment_method_details.sepa_debit")
    return PaymentMethod(
        kind=kind,
        transaction_id=_str(charge.get("id")) or _str(intent.get("latest_charge")) or intent["id"],
        card_brand=_str(card.get("brand")),
        card_last4=_str(card.get("last4")),
        wallet_provider=_str(wallet.get("type")),
        mandate_reference=_str(sepa.get("mandate")),
        transfer_reference=_transfer_reference(intent),
    )


def _transfer_reference(intent: dict[str, Any]) -> str | None:
    """The reference a bank-transfer payer quoted (``customer_balance``)."""
    action = _obj(intent.get("next_action"), "next_action")
    instructions = _obj(
        action.get("display_bank_transfer_instructions"), "display_bank_transfer_instructions"
    )
    return _str(instructions.get("reference"))


def payer_reference(
    customer_id: str | None, merchant_reference: str | None, email: str | None, intent_id: str
) -> str:
    """Who paid, as the ledger keys them: the Stripe Customer, else the merchant's own
    reference, else the email (a guest: Checkout, Payment Links, the Payment Element without a
    Customer), else the PaymentIntent. The email is hashed so that no queue or ledger record
    carries it; the same guest paying twice is one customer."""
    if customer_id:
        return customer_id
    if merchant_reference:
        return merchant_reference
    if email:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return f"guest:{digest}"
    return intent_id


def _postal_address(value: Any) -> str | None:
    """Stripe's ``billing_details.address`` as lines: street, then postcode and city, then
    country; None when the payer gave none."""
    if not isinstance(value, dict):
        return None
    parts = {k: _str(value.get(k)) for k in ("line1", "line2", "postal_code", "city", "country")}
    town = " ".join(p for p in (parts["postal_code"], parts["city"]) if p)
    lines = [p for p in (parts["line1"], parts["line2"], town, parts["country"]) if p]
    return "\n".join(lines)[:500] or None


def _latest_charge(intent: dict[str, Any]) -> dict[str, Any]:
    latest = intent.get("latest_charge")
    if isinstance(latest, dict):
        return latest
    charges = _obj(intent.get("charges"), "charges").get("data")
    if isinstance(charges, list) and charges:
        return _obj(charges[0], "charges.data[0]")
    return {}


def _timestamp(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**34:
        raise ValueError("created must be a Unix timestamp in seconds")
    return datetime.fromtimestamp(value, UTC)


def _payment_intent_event(
    event_id: str, kind: EventType, payload: dict[str, Any], intent: dict[str, Any]
) -> PaymentEvent:
    metadata = _obj(intent.get("metadata"), "metadata")
    charge = _latest_charge(intent)
    billing = _obj(charge.get("billing_details"), "billing_details")
    amount = intent.get("amount_received") or intent.get("amount")
    failure = None
    if kind is EventType.PAYMENT_FAILED:
        failure = failure_of(intent, charge)
        charge = charge or failed_attempt_charge(intent)
        amount = intent.get("amount")
        if not billing:
            billing = failed_attempt_billing(intent)
    email = _str(intent.get("receipt_email")) or _str(billing.get("email"))
    customer_ref = payer_reference(
        _str(intent.get("customer")), _str(metadata.get("customer_reference")), email, intent["id"]
    )
    return PaymentEvent.model_validate(
        {
            "event_id": event_id,
            "provider": "stripe",
            "type": kind,
            "occurred_at": _timestamp(payload.get("created")),
            "payment_id": intent["id"],
            "invoice_number": _str(metadata.get("invoice_number")),
            "amount": _money(amount, intent.get("currency")),
            "method": method_of(intent, charge),
            "customer": CustomerDetails(
                reference=customer_ref,
                name=_str(billing.get("name")) or _str(metadata.get("customer_name")),
                email=email,
                phone=_str(billing.get("phone")),
                locale=_str(metadata.get("locale")),
                address=_postal_address(billing.get("address")),
                marketing_consent=_consent(metadata.get("marketing_consent")),
            ),
            "failure": failure,
            "livemode": payload.get("livemode") is True,
            "next_steps": _str(metadata.get("next_steps")),
        }
    )


def failure_of(
    intent: dict[str, Any], charge: dict[str, Any], *, update_url: str | None = None
) -> Failure:
    """Why the intent's last attempt failed (the decline code when there is one, else the
    error code), which attempt it was (its Charge) and where the payer can pay again."""
    error = _obj(intent.get("last_payment_error"), "last_payment_error")
    code = _str(error.get("decline_code")) or _str(error.get("code"))
    return Failure(
        category=_FAILURES.get(code or "", FailureCategory.DECLINED),
        provider_code=code,
        message=_str(error.get("message")),
        attempt_id=_str(error.get("charge")) or _str(charge.get("id")),
        payment_update_url=update_url,
    )


def failed_attempt_charge(intent: dict[str, Any]) -> dict[str, Any]:
    """The failed attempt as a Charge-like object when no Charge is at hand: its payment
    method is the only place its card details appear."""
    error = _obj(intent.get("last_payment_error"), "last_payment_error")
    method = _obj(error.get("payment_method"), "last_payment_error.payment_method")
    return {
        "id": _str(error.get("charge")),
        "payment_method_details": {
            "type": method.get("type"),
            "card": _obj(method.get("card"), "last_payment_error.payment_method.card"),
        },
    }


def failed_attempt_billing(intent: dict[str, Any]) -> dict[str, Any]:
    error = _obj(intent.get("last_payment_error"), "last_payment_error")
    method = _obj(error.get("payment_method"), "last_payment_error.payment_method")
    return _obj(method.get("billing_details"), "billing_details")


def _refund_events(
    event_id: str, event_type: str, payload: dict[str, Any], obj: dict[str, Any]
) -> tuple[PaymentEvent, ...]:
    """One refund event per succeeded refund, each at its own amount and keyed by its refund
    id, so that the ledger credits each once whichever events bring it, in any order.

    ``charge.refunded`` on older API versions lists the charge's refunds (its
    ``amount_refunded`` is cumulative and never used); ``refund.created`` / ``refund.updated``
    (and ``charge.refund.updated``) carry the Refund itself. A refund not yet succeeded
    (pending SEPA refunds) waits for its ``refund.updated``."""
    if event_type == "charge.refunded":
        listed = _obj(obj.get("refunds"), "refunds").get("data")
        refunds = [_obj(r, "refunds.data[]") for r in listed] if isinstance(listed, list) else []
        return tuple(
            refund_event(f"{event_id}#{r['id']}", payload, r, obj)
            for r in refunds
            if r.get("status", "succeeded") == "succeeded"
        )
    if obj.get("status") != "succeeded":
        return ()
    return (refund_event(event_id, payload, obj, {}),)


def refund_event(
    event_id: str, payload: dict[str, Any], refund: dict[str, Any], charge: dict[str, Any]
) -> PaymentEvent:
    """A succeeded Refund as a canonical event; ``charge`` when known (else the refund's
    own amount stands for the payment's)."""
    metadata = {
        **_obj(charge.get("metadata"), "metadata"),
        **_obj(refund.get("metadata"), "metadata"),
    }
    amount = _money(refund.get("amount"), refund.get("currency") or charge.get("currency"))
    charge_id = _str(refund.get("charge")) or _str(charge.get("id"))
    payment_id = (
        _str(refund.get("payment_intent")) or _str(charge.get("payment_intent")) or charge_id
    )
    if payment_id is None:
        raise _refuse("refund.charge", "a refund must name its charge or payment intent")
    customer_ref = _str(charge.get("customer")) or _str(metadata.get("customer_reference"))
    return PaymentEvent.model_validate(
        {
            "event_id": event_id,
            "provider": "stripe",
            "type": EventType.REFUND_ISSUED,
            "occurred_at": _timestamp(payload.get("created")),
            "payment_id": payment_id,
            "invoice_number": _str(metadata.get("invoice_number")),
            "amount": _money(charge.get("amount"), charge.get("currency")) if charge else amount,
            "method": method_of({"id": charge_id or payment_id}, charge),
            "customer": CustomerDetails(reference=customer_ref) if customer_ref else None,
            "refund": Refund(
                refund_id=refund["id"], amount=amount, reason=_str(refund.get("reason"))
            ),
            "livemode": payload.get("livemode") is True,
        }
    )


def _dispute_event(
    event_id: str, kind: EventType, payload: dict[str, Any], dispute: dict[str, Any]
) -> PaymentEvent:
    status = _str(dispute.get("status"))
    outcome = None
    if kind is EventType.DISPUTE_CLOSED:
        # An inquiry closed without a chargeback ("warning_closed") leaves the money with us.
        outcome = {"won": DisputeOutcome.WON, "warning_closed": DisputeOutcome.WON}.get(
            status or "", DisputeOutcome.LOST
        )
    metadata = _obj(dispute.get("metadata"), "metadata")
    amount = _money(dispute.get("amount"), dispute.get("currency"))
    charge_id = _str(dispute.get("charge")) or dispute["id"]
    return PaymentEvent.model_validate(
        {
            "event_id": event_id,
            "provider": "stripe",
            "type": kind,
            "occurred_at": _timestamp(payload.get("created")),
            "payment_id": _str(dispute.get("payment_intent")) or charge_id,
            "invoice_number": _str(metadata.get("invoice_number")),
            "amount": amount,
            "method": PaymentMethod(kind=MethodKind.CARD, transaction_id=charge_id),
            "dispute": Dispute(
                dispute_id=dispute["id"],
                amount=amount,
                reason=_str(dispute.get("reason")),
                outcome=outcome,
            ),
            "livemode": payload.get("livemode") is True,
        }
    )
