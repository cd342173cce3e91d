"""GoCardless: ``Webhook-Signature: <hex>``, HMAC-SHA256 of the raw body with the endpoint secret.

https://developer.gocardless.com/api-reference/#appendix-webhooks — a delivery is a batch of up
to 250 events of any resource type. The scheme carries no timestamp, so there is no tolerance
window: a replayed delivery is stopped downstream by dedupe on each event id (``EV…``).

GoCardless events never carry amounts nor the payer (its own clients fetch the payment from the
API). Intake must answer fast and never calls GoCardless, so every event quittance acts on goes
to the lookup stage, which reads payment → mandate → customer
(:mod:`quittance.gateways.gocardless_lookup`): the payer's email, name and language come from
there for every payment, so that every payer gets their message. The merchant's three optional
``metadata`` keys, which GoCardless copies into every event as ``resource_metadata``, override
what the API says; what they state is checked here, so a malformed one is reported at once.
See docs/providers/gocardless.md.

One event that cannot be mapped never refuses the batch: it is reported in ``ignored`` as
``"<resource_type>.<action>:<reason>"`` while the others are accepted. Only an unusable envelope
(not JSON, no ``events`` list, an event that is not an object or has no id, resource type or
action) is PayloadInvalid."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from babel.numbers import list_currencies
from pydantic import ValidationError

from quittance.errors import PayloadInvalid, SignatureInvalid, SignatureMissing
from quittance.models.events import (
    DisputeOutcome,
    EventType,
    FailureCategory,
    MethodKind,
    PaymentEvent,
)
from quittance.models.lookups import GatewayLookup
from quittance.models.money import Money
from quittance.providers.base import ParsedDelivery, WebhookRequest

SIGNATURE_HEADER = "webhook-signature"
SANDBOX_ORIGIN = "https://api-sandbox.gocardless.com"

# The metadata keys quittance reads (GoCardless allows three keys per resource, values ≤ 500).
INVOICE_KEY = "invoice_number"
CUSTOMER_KEY = "customer_reference"
AMOUNT_KEY = "amount"

_KNOWN = frozenset(list_currencies())

# Each GoCardless event we act on. Everything else is acknowledged and listed in ``ignored``:
# payments.paid_out is GoCardless paying the merchant (days after the customer paid, and not
# the customer's act), refunds.paid / refund_settled are later stages of a refund already
# credited at ``created``, chargeback_settled / late_failure_settled are payout accounting.
_HANDLED: dict[tuple[str, str], EventType] = {
    ("payments", "confirmed"): EventType.PAYMENT_SUCCEEDED,
    ("payments", "failed"): EventType.PAYMENT_FAILED,
    ("payments", "charged_back"): EventType.DISPUTE_OPENED,
    ("payments", "chargeback_cancelled"): EventType.DISPUTE_CLOSED,
    ("refunds", "created"): EventType.REFUND_ISSUED,
}

# details.cause of payments.failed, as GoCardless normalises every scheme's reason codes
# (SEPA: AM04 → insufficient_funds, AC04/MD07 → bank_account_closed, MD01 → mandate_cancelled,
# AC01 → invalid_bank_details, AG01 → direct_debit_not_enabled, MS02/MS03/SL01 →
# refer_to_payer). refer_to_payer is "almost always" a lack of funds but also covers a payer
# who refused the debit, so a customer is told "declined", not "insufficient funds".
_FAILURES = {
    "insufficient_funds": FailureCategory.INSUFFICIENT_FUNDS,
    "daily_payment_limit_reached": FailureCategory.INSUFFICIENT_FUNDS,
    "refer_to_payer": FailureCategory.DECLINED,
    "bank_account_closed": FailureCategory.DECLINED,
    "bank_account_transferred": FailureCategory.DECLINED,
    "invalid_bank_details": FailureCategory.DECLINED,
    "direct_debit_not_enabled": FailureCategory.DECLINED,
    "account_blocked_for_any_financial_transaction": FailureCategory.DECLINED,
    "mandate_cancelled": FailureCategory.DECLINED,
    "mandate_expired": FailureCategory.DECLINED,
    "mandate_suspended_by_payer": FailureCategory.DECLINED,
    "authorisation_disputed": FailureCategory.DECLINED,
    "payment_stopped": FailureCategory.DECLINED,
    "bank_declined_payment": FailureCategory.DECLINED,
    "insufficient_payment_permissions": FailureCategory.DECLINED,
    "payment_violated_mandate_parameters": FailureCategory.DECLINED,
    "return_on_odfi_request": FailureCategory.DECLINED,
    "other": FailureCategory.TECHNICAL,
    "test_failure": FailureCategory.TECHNICAL,
}

_SEPA_DEBIT_SCHEMES = frozenset(["sepa_core"])
_SEPA_TRANSFER_SCHEMES = frozenset(["sepa_credit_transfer", "sepa_instant_credit_transfer"])

# "1234.56 EUR": major units with exactly the currency's decimals, a space, the ISO code.
_AMOUNT = re.compile(
    r"(?P<units>\d{1,15})(?:\.(?P<decimals>\d{1,4}))? +(?P<currency>[A-Za-z]{3})", re.ASCII
)
_LABEL = re.compile(r"[^a-z0-9_]", re.ASCII)


def sign(body: bytes, secret: str) -> str:
    """The ``Webhook-Signature`` GoCardless would send; used by the demo and tests."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def metadata_amount(amount_minor: int, currency: str) -> str:
    """The ``amount`` metadata value quittance reads: ``metadata_amount(123456, "EUR")`` is
    ``"1234.56 EUR"``. Give GoCardless the same amount in minor units (``amount: 123456``)."""
    money = Money(amount_minor=amount_minor, currency=currency)
    return f"{money.decimal:.{_exponent(money.currency)}f} {money.currency}"


def _exponent(currency: str) -> int:
    """Decimals of the currency's minor unit, counted as Money counts them, so the metadata
    format always agrees with the amounts quittance stores and prints."""
    exponent = Money(amount_minor=1, currency=currency).decimal.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 0


class _Unmapped(Exception):
    """One event of a batch that cannot become a canonical event; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GoCardlessAdapter:
    name = "gocardless"

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        header = (request.headers.get(SIGNATURE_HEADER) or "").strip()
        if not header:
            raise SignatureMissing("Webhook-Signature header is missing")
        # Lower-case hex only, as GoCardless sends it and its own clients compare it.
        candidate = header.encode("utf-8", "surrogatepass")
        # Check every secret without stopping early, so timing says nothing about which matched.
        matched = False
        for secret in secrets:
            matched |= hmac.compare_digest(candidate, sign(request.body, secret).encode())
        if not matched:
            raise SignatureInvalid("Webhook-Signature matches no active signing secret")

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        payload = _load(request.body)
        raw_events = payload.get("events")
        if not isinstance(raw_events, list):
            raise PayloadInvalid(
                "GoCardless delivery needs an 'events' list",
                [{"loc": ["events"], "msg": "must be a list of event objects"}],
            )
        problems = _envelope_errors(raw_events)
        if problems:
            raise PayloadInvalid(
                f"{len(problems)} problem(s) in the events' identity", problems[:20]
            )
        # Origin is not signed: it only sets the informational livemode flag.
        livemode = (request.headers.get("origin") or "").strip().rstrip("/") != SANDBOX_ORIGIN
        lookups: list[GatewayLookup] = []
        ignored: list[str] = []
        for raw in raw_events:
            label = f"{_label(raw['resource_type'])}.{_label(raw['action'])}"
            kind = _HANDLED.get((raw["resource_type"], raw["action"]))
            if kind is None:
                ignored.append(label)
                continue
            try:
                _event(raw, kind, livemode)  # what the event states, checked, not kept
            except _Unmapped as exc:
                if exc.reason not in _LOOKED_UP:
                    ignored.append(f"{label}:{exc.reason}")
                    continue
            except ValidationError as exc:
                ignored.append(f"{label}:{_invalid(exc)}")
                continue
            lookup = _lookup(raw, label, livemode)
            if lookup is None:
                ignored.append(f"{label}:invalid_lookup")
            else:
                lookups.append(lookup)
        return ParsedDelivery(
            delivery_id=_delivery_id(payload, raw_events, request.body),
            ignored=tuple(ignored),
            lookups=tuple(lookups),
        )


# What the API knows when the metadata does not say it (subscriptions, instalments, dashboard
# payments carry none): not a reason to leave an event, the lookup stage reads it.
_LOOKED_UP = frozenset(["missing_amount", "missing_customer"])


def _lookup(raw: dict[str, Any], label: str, livemode: bool) -> GatewayLookup | None:
    links = {k: v for k, v in _obj(raw.get("links")).items() if isinstance(v, str) and v}
    object_id = links.get("refund" if raw["resource_type"] == "refunds" else "payment")
    if object_id is None:
        return None
    details = {
        k: v[:500]
        for k, v in _obj(raw.get("details")).items()
        if k in ("cause", "reason_code", "scheme", "description") and isinstance(v, str)
    }
    metadata = _obj(raw.get("resource_metadata"))
    overrides = {
        k: v
        for k in (AMOUNT_KEY, INVOICE_KEY, CUSTOMER_KEY)
        if isinstance(v := metadata.get(k), str) and v.strip()
    }
    try:
        return GatewayLookup(
            provider="gocardless",
            event_id=raw["id"],
            event_type=label,
            object_id=object_id,
            occurred_at=_created_at(raw.get("created_at")),
            livemode=livemode,
            links=links,
            details=details,
            overrides=overrides,
        )
    except (_Unmapped, ValidationError):
        return None


def _load(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    # ValueError covers JSONDecodeError and integers beyond Python's digit limit.
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PayloadInvalid(f"body is not JSON: {type(exc).__name__}") from None
    if not isinstance(payload, dict):
        raise PayloadInvalid("body must be a JSON object")
    return payload


def _envelope_errors(raw_events: list[Any]) -> list[dict[str, object]]:
    """An event without an id, resource type or action has no identity to dedupe or report."""
    errors: list[dict[str, object]] = []
    for index, raw in enumerate(raw_events):
        if not isinstance(raw, dict):
            errors.append({"loc": ["events", index], "msg": "must be a JSON object"})
            continue
        for field in ("id", "resource_type", "action"):
            if _text(raw.get(field)) is None:
                errors.append({"loc": ["events", index, field], "msg": "must be a string"})
    return errors


def _delivery_id(payload: dict[str, Any], raw_events: list[Any], body: bytes) -> str:
    meta = payload.get("meta")
    webhook_id = _text(meta.get("webhook_id")) if isinstance(meta, dict) else None
    if webhook_id:
        return webhook_id[:255]
    if raw_events:
        return str(raw_events[0]["id"])[:255]
    return f"sha256:{hashlib.sha256(body).hexdigest()[:32]}"


def _label(value: str) -> str:
    """A resource type or action fit for a log line and a response body."""
    return _LABEL.sub("_", value.lower())[:64]


def _invalid(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    loc = errors[0]["loc"] if errors else ()
    return f"invalid_{_label(str(loc[0]))}" if loc else "invalid_event"


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _obj(value: Any) -> dict[str, Any]:
    """A JSON object, or an empty one for anything else: a missing link or metadata key then
    reports the event as unmappable rather than refusing the whole batch."""
    return value if isinstance(value, dict) else {}


def _amount(value: Any) -> Money:
    if value is None:
        raise _Unmapped("missing_amount")
    match = _AMOUNT.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _Unmapped("invalid_amount")
    code = match["currency"].upper()
    if code not in _KNOWN:
        raise _Unmapped("invalid_amount")
    decimals = match["decimals"] or ""
    # Exactly the currency's decimals: "123456 EUR" (minor units by mistake) is refused
    # rather than read as a hundred times the amount.
    if len(decimals) != _exponent(code):
        raise _Unmapped("invalid_amount")
    try:
        return Money(amount_minor=int(match["units"] + decimals), currency=code)
    except ValidationError:
        raise _Unmapped("invalid_amount") from None


def _created_at(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _Unmapped("invalid_created_at")
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise _Unmapped("invalid_created_at")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _Unmapped("invalid_created_at") from None


def _method_kind(scheme: str | None, currency: str) -> MethodKind:
    if scheme in _SEPA_DEBIT_SCHEMES:
        return MethodKind.SEPA_DEBIT
    if scheme in _SEPA_TRANSFER_SCHEMES:
        return MethodKind.SEPA_TRANSFER
    if scheme:
        return MethodKind.OTHER
    # Only failures name the scheme; a euro payment through GoCardless is a SEPA Core debit.
    return MethodKind.SEPA_DEBIT if currency == "EUR" else MethodKind.OTHER


def event_details(
    kind: EventType,
    details: dict[str, Any],
    amount: Money,
    payment_id: str,
    refund_id: str | None,
) -> dict[str, Any]:
    """The failure, refund or dispute an event of this kind carries."""
    cause = _text(details.get("cause"))
    reason_code = _text(details.get("reason_code"))
    if kind is EventType.PAYMENT_FAILED:
        code = f"{cause}:{reason_code}" if cause and reason_code else cause
        description = _text(details.get("description"))
        return {
            "failure": {
                "category": _FAILURES.get(cause or "", FailureCategory.DECLINED),
                "provider_code": code[:128] if code else None,
                "message": description[:500] if description else None,
            }
        }
    if kind is EventType.REFUND_ISSUED:
        # The refund's own amount: the payment's is not the refund's.
        return {"refund": {"refund_id": refund_id, "amount": amount}}
    if kind in (EventType.DISPUTE_OPENED, EventType.DISPUTE_CLOSED):
        # A direct-debit chargeback is always of the whole payment, and a payment has at
        # most one open at a time: the payment id ties the opening to its closing. GoCardless
        # does not contest chargebacks; one is closed only when the payer's bank cancels it,
        # which leaves the money with the merchant.
        closed = kind is EventType.DISPUTE_CLOSED
        return {
            "dispute": {
                "dispute_id": payment_id,
                "amount": amount,
                "reason": cause[:200] if cause and not closed else None,
                "outcome": DisputeOutcome.WON if closed else None,
            }
        }
    return {}


def _event(raw: dict[str, Any], kind: EventType, livemode: bool) -> PaymentEvent:
    links = _obj(raw.get("links"))
    details = _obj(raw.get("details"))
    metadata = _obj(raw.get("resource_metadata"))
    payment_id = _text(links.get("payment"))
    if payment_id is None:
        raise _Unmapped("missing_payment")
    refund_id = _text(links.get("refund"))
    if kind is EventType.REFUND_ISSUED and refund_id is None:
        raise _Unmapped("missing_refund")
    amount = _amount(metadata.get(AMOUNT_KEY))
    occurred_at = _created_at(raw.get("created_at"))
    mandate = _text(links.get("mandate"))
    customer_ref = _text(metadata.get(CUSTOMER_KEY)) or mandate
    if kind is EventType.PAYMENT_SUCCEEDED and customer_ref is None:
        raise _Unmapped("missing_customer")
    event: dict[str, Any] = {
        "event_id": raw["id"],
        "provider": "gocardless",
        "type": kind,
        "occurred_at": occurred_at,
        "payment_id": payment_id,
        "invoice_number": _text(metadata.get(INVOICE_KEY)),
        "amount": amount,
        "method": {
            "kind": _method_kind(_text(details.get("scheme")), amount.currency),
            "transaction_id": payment_id,
            "mandate_reference": mandate,
        },
        "customer": {"reference": customer_ref} if customer_ref else None,
        "livemode": livemode,
    }
    event.update(event_details(kind, details, amount, payment_id, refund_id))
    return PaymentEvent.model_validate(event)
