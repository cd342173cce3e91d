"""Standard Webhooks (https://www.standardwebhooks.com, spec v1.0.0): any sender that signs
``"{webhook-id}.{webhook-timestamp}.{raw body}"`` with HMAC-SHA256 under a ``whsec_<base64>``
secret and sends ``webhook-signature: v1,<base64> [v1,<base64> …]``.

The body follows quittance's own documented schema (docs/providers/standard-webhooks.md), in
the spec's recommended ``{"type", "timestamp", "data"}`` shape. The canonical event id is the
``webhook-id`` header: the spec makes it unique per message and keeps it across retries.

Order of checks: the three headers must be present and well formed, then the signature is
checked, then the timestamp. The reference libraries check the timestamp before the
signature; we check the signature first (as for Stripe), so that an unauthenticated caller
only ever learns "not signed by a key we hold" and never anything about our clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

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
    UtcDateTime,
)
from quittance.models.money import Currency, Money
from quittance.providers.base import ParsedDelivery, WebhookRequest

TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format marker of secrets, not a secret
MAX_AMOUNT_MINOR = 10**15
"""Far above any real payment, far below DynamoDB's 38 significant digits."""

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_MAX_ID_LENGTH = 255
_DIGEST_SIZE = hashlib.sha256().digest_size

_TYPES: dict[str, EventType] = {
    "payment.succeeded": EventType.PAYMENT_SUCCEEDED,
    "payment.failed": EventType.PAYMENT_FAILED,
    "payment.refunded": EventType.REFUND_ISSUED,
    "dispute.opened": EventType.DISPUTE_OPENED,
    "dispute.closed": EventType.DISPUTE_CLOSED,
}
# The one detail object each type needs (and the only one it may carry).
_DETAIL: dict[EventType, str] = {
    EventType.PAYMENT_FAILED: "failure",
    EventType.REFUND_ISSUED: "refund",
    EventType.DISPUTE_OPENED: "dispute",
    EventType.DISPUTE_CLOSED: "dispute",
}


# ======================================================================= signature


def signing_key(secret: str) -> bytes | None:
    """The HMAC key of a ``whsec_<base64>`` secret (the prefix is optional and the padding
    may be left out, as the reference libraries allow); None when it is not usable: not
    standard base64, or empty (an empty key would let anyone sign)."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    encoded += "=" * (-len(encoded) % 4)
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        return None
    return key or None


def _mac(key: bytes, msg_id: bytes, timestamp: str, body: bytes) -> bytes:
    return hmac.new(key, msg_id + b"." + timestamp.encode() + b"." + body, hashlib.sha256).digest()


def sign(msg_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """One ``v1,<base64>`` entry of ``webhook-signature``, as a sender computes it; used by the
    demo and tests to sign real deliveries. Raises ValueError for an unusable secret."""
    key = signing_key(secret)
    if key is None:
        raise ValueError("the signing secret is not whsec_<non-empty standard base64>")
    digest = _mac(key, msg_id.encode(), str(timestamp), body)
    return "v1," + base64.b64encode(digest).decode()


def _signatures(header: str) -> list[bytes]:
    """The decoded ``v1`` signatures of a space-delimited header; other versions (``v1a``, an
    ed25519 signature) and entries that are not base64 of a SHA-256 digest are passed over."""
    found: list[bytes] = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            continue
        if len(raw) == _DIGEST_SIZE:
            found.append(raw)
    return found


class StandardWebhooksAdapter:
    name = "standard"

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        msg_id = request.headers.get("webhook-id") or ""
        stamp = request.headers.get("webhook-timestamp") or ""
        header = request.headers.get("webhook-signature") or ""
        missing = [
            name
            for name, value in (
                ("webhook-id", msg_id),
                ("webhook-timestamp", stamp),
                ("webhook-signature", header),
            )
            if not value
        ]
        if missing:
            raise SignatureMissing(f"missing header(s): {', '.join(missing)}")
        encoded_id = _message_id(msg_id)
        if not _TIMESTAMP.fullmatch(stamp):
            raise SignatureInvalid("webhook-timestamp must be an integer number of seconds")
        candidates = _signatures(header)
        if not candidates:
            raise SignatureInvalid("webhook-signature carries no v1,<base64 HMAC-SHA256> entry")
        keys = [key for key in map(signing_key, secrets) if key is not None]
        expected = [_mac(key, encoded_id, stamp, request.body) for key in keys]
        # Check every pair without stopping early, so timing says nothing about which matched.
        matched = False
        for candidate in candidates:
            for digest in expected:
                matched |= hmac.compare_digest(candidate, digest)
        if not matched:
            raise SignatureInvalid("no v1 signature matches an active signing secret")
        age = request.received_at.timestamp() - int(stamp)
        if age > TOLERANCE_SECONDS:
            raise TimestampOutOfTolerance(
                f"webhook-timestamp is too old: {int(age)} s ago; tolerance is "
                f"{TOLERANCE_SECONDS} s"
            )
        if age < -TOLERANCE_SECONDS:
            raise TimestampOutOfTolerance(
                f"webhook-timestamp is too far in the future: {int(-age)} s ahead; tolerance "
                f"is {TOLERANCE_SECONDS} s"
            )

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        msg_id = request.headers.get("webhook-id") or ""
        try:
            _message_id(msg_id)
        except (SignatureMissing, SignatureInvalid) as exc:
            raise PayloadInvalid(
                f"webhook-id: {exc.detail}", [{"loc": ["headers", "webhook-id"], "msg": exc.detail}]
            ) from None
        try:
            head = _Head.model_validate_json(request.body, strict=True)
        except ValidationError as exc:
            raise PayloadInvalid(
                "body is not a JSON object with a string 'type'", _errors(exc)
            ) from None
        kind = _TYPES.get(head.type)
        if kind is None:
            return ParsedDelivery(delivery_id=msg_id, ignored=(head.type,))
        try:
            envelope = _Envelope.model_validate_json(request.body, strict=True)
        except ValidationError as exc:
            raise PayloadInvalid(f"{head.type} does not follow the schema", _errors(exc)) from None
        problems = _consistency(kind, envelope.data)
        if problems:
            raise PayloadInvalid(f"{head.type} is inconsistent", problems)
        try:
            event = _event(msg_id, kind, envelope)
        except ValidationError as exc:  # the schema above should make this unreachable
            raise PayloadInvalid(
                f"{head.type} does not map to a payment event", _errors(exc)
            ) from None
        return ParsedDelivery(delivery_id=msg_id, events=(event,))


def _message_id(msg_id: str) -> bytes:
    """The ``webhook-id`` as signed. It becomes the event id and idempotency key, so it is
    bounded; it may not contain ``.``, which the spec asks of ids so that the signed string
    ``id.timestamp.body`` can be split only one way."""
    if not msg_id:
        raise SignatureMissing("missing header(s): webhook-id")
    if len(msg_id) > _MAX_ID_LENGTH or "." in msg_id:
        raise SignatureInvalid(f"webhook-id must be 1 to {_MAX_ID_LENGTH} characters without '.'")
    try:
        return msg_id.encode()
    except UnicodeEncodeError:
        raise SignatureInvalid("webhook-id is not valid text") from None


def _errors(exc: ValidationError) -> list[dict[str, object]]:
    return [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


# ======================================================================= incoming schema


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


def _iso_date(value: object) -> object:
    """``YYYY-MM-DD`` to a date; ``""`` to None. (A before-validator hands the inner schema a
    Python value, which strict mode would refuse as a string, so the parsing is done here.)"""
    if value == "":
        return None
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError("must be a date written YYYY-MM-DD")
        return date.fromisoformat(value)  # ValueError for 2026-02-30: a field error too
    return value


_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: object) -> object:
    """An RFC 3339 date-time with its offset (pydantic alone would also take a string of
    digits as Unix time, and strict mode refuses a string once a before-validator ran)."""
    if isinstance(value, str):
        if not _RFC3339.fullmatch(value):
            raise ValueError("must be an RFC 3339 date-time with Z or an offset")
        return datetime.fromisoformat(value.upper())
    return value


def _masked_iban(value: str) -> str:
    """A masked IBAN as a receipt may show it: country code and check digits, then mask
    characters (``*`` or ``•``, spaces allowed), then at most the last 4 characters. The
    shown tail is written without spaces (``FR76 **** … ***0 189`` → ``FR76 **** … ***0189``)
    so that it fits the canonical model. Messages never echo the value (personal data)."""
    value = value.strip(" ")
    last = max(value.rfind("*"), value.rfind("•"))
    if last < 0:
        if re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", value.replace(" ", "").upper()):
            raise ValueError("looks like a full IBAN; send it masked, e.g. FR76 **** … ***0 189")
        raise ValueError("must be a masked IBAN, e.g. FR76 **** **** **** **** ***0 189")
    head, tail = value[: last + 1], value[last + 1 :]
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[*• ]+", head):
        raise ValueError(
            "only the country code and check digits may come before the masked part, "
            "e.g. FR76 **** **** **** **** ***0 189"
        )
    shown = tail.replace(" ", "")
    if not re.fullmatch(r"[A-Z0-9]{0,4}", shown):
        raise ValueError("at most the last 4 characters of a masked IBAN may be shown")
    lead = tail[: len(tail) - len(tail.lstrip(" "))]
    return head + lead + shown


_Blank = BeforeValidator(_blank_is_none)
"""An empty string in an optional field means the same as null or absent."""

Text32 = Annotated[Annotated[str, Field(max_length=32)] | None, _Blank]
Text64 = Annotated[Annotated[str, Field(max_length=64)] | None, _Blank]
Text128 = Annotated[Annotated[str, Field(max_length=128)] | None, _Blank]
Text200 = Annotated[Annotated[str, Field(max_length=200)] | None, _Blank]
Text255 = Annotated[Annotated[str, Field(max_length=255)] | None, _Blank]
Text500 = Annotated[Annotated[str, Field(max_length=500)] | None, _Blank]
Id255 = Annotated[str, Field(min_length=1, max_length=255)]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT_MINOR)]
PositiveAmount = Annotated[int, Field(gt=0, le=MAX_AMOUNT_MINOR)]
Last4 = Annotated[Annotated[str, Field(pattern=r"^[0-9]{4}$")] | None, _Blank]
OptDate = Annotated[date | None, BeforeValidator(_iso_date)]
Timestamp = Annotated[UtcDateTime, BeforeValidator(_rfc3339)]
MaskedIban = Annotated[
    Annotated[str, Field(max_length=64), AfterValidator(_masked_iban)] | None, _Blank
]


class _In(BaseModel):
    """Incoming JSON, validated in pydantic's strict JSON mode: no number given as a string,
    no float for an integer, no boolean for a number, dates and times only as ISO 8601
    strings. Unknown properties are ignored, so a sender may add its own metadata."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class _Head(_In):
    type: Annotated[str, Field(min_length=1, max_length=255)]


class _MethodIn(_In):
    kind: MethodKind
    brand: Text64 = None
    last4: Last4 = None
    transaction_id: Text255 = None
    transfer_reference: Text255 = None
    iban_masked: MaskedIban = None
    mandate_reference: Text255 = None
    cheque_number: Text64 = None
    cashing_date: OptDate = None
    received_by: Text200 = None
    wallet_provider: Text64 = None
    value_date: OptDate = None


class _CustomerIn(_In):
    reference: Annotated[str, Field(min_length=1, max_length=128)]
    name: Text200 = None
    email: Annotated[Annotated[str, Field(max_length=254)] | None, _Blank] = None
    phone: Text32 = None
    locale: Annotated[Annotated[str, Field(max_length=16)] | None, _Blank] = None
    address: Text500 = None


class _FailureIn(_In):
    category: FailureCategory
    code: Text128 = None
    message: Text500 = None


class _RefundIn(_In):
    refund_id: Id255
    amount: PositiveAmount
    reason: Text200 = None


class _DisputeIn(_In):
    dispute_id: Id255
    amount: PositiveAmount
    reason: Text200 = None
    outcome: DisputeOutcome | None = None


class _DataIn(_In):
    payment_id: Id255
    invoice_number: Text64 = None
    amount: Amount
    currency: Currency
    method: _MethodIn
    customer: _CustomerIn | None = None
    failure: _FailureIn | None = None
    refund: _RefundIn | None = None
    dispute: _DisputeIn | None = None
    livemode: bool = True
    next_steps: Text500 = None


class _Envelope(_In):
    type: str
    timestamp: Timestamp
    data: _DataIn


def _consistency(kind: EventType, data: _DataIn) -> list[dict[str, object]]:
    """What the schema alone cannot say: which detail object each type needs, that a
    successful payment names its customer, and that no refund or dispute exceeds the payment."""
    problems: list[dict[str, object]] = []
    needed = _DETAIL.get(kind)
    for detail in ("failure", "refund", "dispute"):
        present = getattr(data, detail) is not None
        if detail == needed and not present:
            problems.append({"loc": ["data", detail], "msg": f"required for {_name(kind)}"})
        elif detail != needed and present:
            problems.append({"loc": ["data", detail], "msg": f"not allowed for {_name(kind)}"})
    if kind is EventType.PAYMENT_SUCCEEDED and data.customer is None:
        problems.append({"loc": ["data", "customer"], "msg": "required for payment.succeeded"})
    for detail, extra in (("refund", data.refund), ("dispute", data.dispute)):
        if extra is not None and extra.amount > data.amount:
            problems.append(
                {"loc": ["data", detail, "amount"], "msg": "exceeds the payment's amount"}
            )
    if data.dispute is not None:
        closed = kind is EventType.DISPUTE_CLOSED
        if closed and data.dispute.outcome is None:
            problems.append(
                {"loc": ["data", "dispute", "outcome"], "msg": "required for dispute.closed"}
            )
        elif not closed and data.dispute.outcome is not None:
            problems.append(
                {"loc": ["data", "dispute", "outcome"], "msg": "only allowed for dispute.closed"}
            )
    return problems


def _name(kind: EventType) -> str:
    """Our wire name of a canonical type (payment.refunded for refund.issued)."""
    return next(name for name, value in _TYPES.items() if value is kind)


# ======================================================================= mapping


def _method(method: _MethodIn) -> PaymentMethod:
    return PaymentMethod(
        kind=method.kind,
        transaction_id=method.transaction_id,
        card_brand=method.brand,
        card_last4=method.last4,
        transfer_reference=method.transfer_reference,
        iban_masked=method.iban_masked,
        value_date=method.value_date,
        mandate_reference=method.mandate_reference,
        cheque_number=method.cheque_number,
        cashing_date=method.cashing_date,
        received_by=method.received_by,
        wallet_provider=method.wallet_provider,
    )


def _customer(customer: _CustomerIn | None) -> CustomerDetails | None:
    if customer is None:
        return None
    return CustomerDetails(
        reference=customer.reference,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        locale=customer.locale,
        address=customer.address,
    )


def _event(msg_id: str, kind: EventType, envelope: _Envelope) -> PaymentEvent:
    data = envelope.data
    currency = data.currency
    return PaymentEvent(
        event_id=msg_id,
        provider=StandardWebhooksAdapter.name,
        type=kind,
        occurred_at=envelope.timestamp,
        payment_id=data.payment_id,
        invoice_number=data.invoice_number,
        amount=Money(amount_minor=data.amount, currency=currency),
        method=_method(data.method),
        customer=_customer(data.customer),
        next_steps=data.next_steps,
        failure=Failure(
            category=data.failure.category,
            provider_code=data.failure.code,
            message=data.failure.message,
        )
        if data.failure
        else None,
        refund=Refund(
            refund_id=data.refund.refund_id,
            amount=Money(amount_minor=data.refund.amount, currency=currency),
            reason=data.refund.reason,
        )
        if data.refund
        else None,
        dispute=Dispute(
            dispute_id=data.dispute.dispute_id,
            amount=Money(amount_minor=data.dispute.amount, currency=currency),
            reason=data.dispute.reason,
            outcome=data.dispute.outcome,
        )
        if data.dispute
        else None,
        livemode=data.livemode,
    )
