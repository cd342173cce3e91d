"""Intake: verify a gateway delivery, map it to canonical events, queue each one once.

Privacy by design starts here: for each event with a customer reference, the contact details
the gateway sent are sealed into the customer's profile and the raw delivery is kept sealed as
evidence, both with the customer's own key; what goes on the queue carries the customer's
reference and locale only (later stages read contact data from the profile, if at all).

:func:`receive_webhook` is the webhook endpoint's contract with the gateways: what it checks
before verifying, in which order, and the HTTP status each refusal gets (a gateway retries a
5xx and a 409, and gives up on the other 4xx)."""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from quittance import errors
from quittance.archive.retention import Lock, RetentionPolicy, lock_for
from quittance.errors import AlreadyExists, CustomerErased, QueueUnavailable
from quittance.ledger.customer_ids import pseudonymous_customer_id
from quittance.models.events import CustomerDetails, PaymentEvent
from quittance.models.lookups import GatewayLookupMessage
from quittance.models.messages import PaymentEventMessage
from quittance.privacy.evidence import RawDelivery, signature_headers
from quittance.providers import adapter_for, provider_names
from quittance.providers.base import WebhookRequest


class SigningSecrets(Protocol):
    def for_provider(self, provider: str) -> Sequence[str]: ...


class EventPublisher(Protocol):
    def publish_once(self, message: PaymentEventMessage) -> bool:
        """Queue the message unless its event was queued before; True when queued now."""


class LookupPublisher(Protocol):
    def publish_once(self, message: GatewayLookupMessage) -> bool:
        """Queue the lookup unless its event was queued before; True when queued now."""


class ContactProfiles(Protocol):
    def remember(
        self,
        customer_id: str,
        details: CustomerDetails,
        now: datetime,
        *,
        as_of: datetime | None = None,
    ) -> str:
        """Seal and store the contact fields unless newer ones are stored ("stored" or
        "older_than_stored"); CustomerErased for an erased customer."""


class Evidence(Protocol):
    def keep(self, delivery: RawDelivery, customer_id: str, lock: Lock) -> dict[str, Any]:
        """Seal and archive once; AlreadyExists on a redelivery, CustomerErased if erased."""


@dataclass(frozen=True)
class CustomerRecords:
    """Where intake puts what it must keep about the payer (absent: nothing is kept)."""

    profiles: ContactProfiles
    evidence: Evidence
    retention: RetentionPolicy


RecordsOutcome = Literal[
    "kept", "contact_older_than_stored", "evidence_already_kept", "customer_erased"
]
"""What intake did with an event's customer records. Only "kept" wrote both; the others say
why something was not written, so that nothing is left out without a trace."""


@dataclass(frozen=True)
class IntakeResult:
    provider: str
    delivery_id: str
    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]
    ignored: tuple[str, ...]
    records: tuple[RecordsOutcome, ...] = ()
    """One per event that carried customer details, in the delivery's order."""


@dataclass(frozen=True)
class PostedWebhook:
    """A POST to /webhooks/{provider} as API Gateway hands it over."""

    provider: str
    headers: Mapping[str, str]
    """Names in lower case."""
    body: str | None
    base64_encoded: bool
    correlation_id: str
    received_at: datetime


STATUS: dict[type[errors.QuittanceError], int] = {
    errors.UnknownProvider: 404,
    errors.SignatureMissing: 401,
    errors.SignatureInvalid: 401,
    errors.TimestampOutOfTolerance: 401,
    errors.PayloadInvalid: 422,
    errors.BodyTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.DeliveryInProgress: 409,
    errors.QueueUnavailable: 503,
}
"""A refusal's HTTP status; any other QuittanceError is a 400."""


def receive_webhook(
    posted: PostedWebhook,
    *,
    max_body_bytes: int,
    secrets: SigningSecrets,
    publisher: EventPublisher,
    records: CustomerRecords | None = None,
    lookups: LookupPublisher | None = None,
) -> IntakeResult:
    """Check the request in the gateways' order (the address, then what was sent), then
    :func:`accept_delivery`. Raises the typed errors of :mod:`quittance.errors`."""
    if posted.provider not in provider_names():
        # The address is wrong whatever was sent to it: say so before judging the body.
        raise errors.UnknownProvider(f"no gateway named {posted.provider!r}")
    media_type = posted.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise errors.UnsupportedMediaType(f"expected application/json, got {media_type or 'none'}")
    body = _raw_body(posted.body, posted.base64_encoded)
    if len(body) > max_body_bytes:
        raise errors.BodyTooLarge(f"body exceeds {max_body_bytes} bytes")
    return accept_delivery(
        posted.provider,
        WebhookRequest(headers=posted.headers, body=body, received_at=posted.received_at),
        secrets=secrets,
        publisher=publisher,
        correlation_id=posted.correlation_id,
        records=records,
        lookups=lookups,
    )


def _raw_body(body: str | None, base64_encoded: bool) -> bytes:
    """The delivery byte for byte, as the gateway signed it."""
    if body is None:
        return b""
    if base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            raise errors.PayloadInvalid("body is not valid base64") from None
    return body.encode()


def answer(result: IntakeResult) -> tuple[int, dict[str, Any]]:
    """202 when something was queued now, 200 when everything had been (or was ignored)."""
    return 202 if result.accepted else 200, {
        "delivery_id": result.delivery_id,
        "accepted": list(result.accepted),
        "duplicates": list(result.duplicates),
        "ignored": list(result.ignored),
    }


def refusal(exc: errors.QuittanceError) -> tuple[int, dict[str, Any]]:
    """The status and the reason, with the fields at fault for an unusable payload."""
    body: dict[str, Any] = {"error": exc.code, "detail": exc.detail}
    if isinstance(exc, errors.PayloadInvalid) and exc.errors:
        body["fields"] = exc.errors
    return STATUS.get(type(exc), 400), body


def outcome_counts(result: IntakeResult) -> dict[str, int]:
    """Metric name → count: events accepted or duplicate, and what became of the payer's
    details (counts only, never the details)."""
    events = {"accepted": result.accepted, "duplicate": result.duplicates}
    counts = {f"events_{k}": len(ids) for k, ids in events.items() if ids}
    counts.update({f"customer_records_{k}": n for k, n in Counter(result.records).items()})
    if result.ignored:
        counts["events_ignored"] = 1
    return counts


def accept_delivery(
    provider: str,
    request: WebhookRequest,
    *,
    secrets: SigningSecrets,
    publisher: EventPublisher,
    correlation_id: str,
    records: CustomerRecords | None = None,
    lookups: LookupPublisher | None = None,
) -> IntakeResult:
    """Raises the typed errors of :mod:`quittance.errors`; queues nothing unless verified.

    Events the payload cannot complete go to ``lookups`` (the lookup stage reads the rest
    from the gateway's API, and keeps the payer's details then); without a lookup queue they
    are refused with QueueUnavailable, so that the gateway sends them again."""
    adapter = adapter_for(provider)
    adapter.verify(request, secrets.for_provider(provider))
    parsed = adapter.parse(request)
    if parsed.lookups and lookups is None:
        raise QueueUnavailable(f"no lookup queue for {provider} events that need the API")
    accepted: list[str] = []
    duplicates: list[str] = []
    kept: list[RecordsOutcome] = []
    for parsed_event in parsed.events:
        event = parsed_event
        if records is not None and parsed_event.customer is not None:
            kept.append(_keep_customer_records(provider, request, parsed_event, records))
            event = minimised(parsed_event)
        message = PaymentEventMessage(
            correlation_id=correlation_id, received_at=request.received_at, event=event
        )
        (accepted if publisher.publish_once(message) else duplicates).append(event.event_id)
    for lookup in parsed.lookups:
        assert lookups is not None  # checked before anything was queued
        queued = lookups.publish_once(
            GatewayLookupMessage(
                correlation_id=correlation_id, received_at=request.received_at, event=lookup
            )
        )
        (accepted if queued else duplicates).append(lookup.event_id)
    return IntakeResult(
        provider=provider,
        delivery_id=parsed.delivery_id,
        accepted=tuple(accepted),
        duplicates=tuple(duplicates),
        ignored=parsed.ignored,
        records=tuple(kept),
    )


def minimised(event: PaymentEvent) -> PaymentEvent:
    """The event as queued: the customer's reference, locale and checkout consent; no
    contact data."""
    if event.customer is None:
        return event
    kept = CustomerDetails(
        reference=event.customer.reference,
        locale=event.customer.locale,
        marketing_consent=event.customer.marketing_consent,  # a choice, not contact data
    )
    return event.model_copy(update={"customer": kept})


def _keep_customer_records(
    provider: str, request: WebhookRequest, event: PaymentEvent, records: CustomerRecords
) -> RecordsOutcome:
    """Any other failure (throttling, a timeout, KMS) propagates: the delivery gets a 5xx and
    the gateway sends it again, rather than the payment going on without its contact."""
    assert event.customer is not None
    customer_id = pseudonymous_customer_id(event.provider, event.customer.reference)
    try:
        remembered = records.profiles.remember(
            customer_id, event.customer, request.received_at, as_of=event.occurred_at
        )
        records.evidence.keep(
            RawDelivery(
                provider=provider,
                event_id=event.event_id,
                received_at=request.received_at,
                headers=signature_headers(request.headers),
                body=request.body,
                verification=f"{provider} signature verified by quittance intake",
            ),
            customer_id,
            lock_for(event.occurred_at, records.retention, request.received_at),
        )
    except AlreadyExists:
        return "evidence_already_kept"  # a redelivery: the first copy received is the evidence
    except CustomerErased:
        # Erased on request: nothing personal is kept again; the payment still counts.
        return "customer_erased"
    return "kept" if remembered == "stored" else "contact_older_than_stored"
