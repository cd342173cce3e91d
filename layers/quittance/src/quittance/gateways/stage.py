"""The lookup stage's one function: complete a queued lookup and hand its payment events on.

The payer's details are sealed into their profile here (the event queued for the ledger
carries their reference and locale only, as intake's do), and what the gateway's API
answered is kept sealed as the event's evidence (:mod:`quittance.gateways.reads`), as intake
keeps a delivery that needed no lookup. A gateway that is unavailable, a
key that is missing or refused, an object the gateway does not know: each raises, the lookup
stays on its queue and is tried again later, and reaches the dead-letter queue (and its
alarm) when it keeps failing. Nothing is acknowledged that was not handed on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from quittance.archive.retention import RetentionPolicy, lock_for
from quittance.clock import Clock
from quittance.errors import AlreadyExists, CustomerErased
from quittance.gateways.gocardless_lookup import complete_gocardless
from quittance.gateways.ports import GoCardlessApi, StripeApi
from quittance.gateways.reads import ReadLog
from quittance.gateways.stripe_lookup import Completion, complete_stripe
from quittance.intake import ContactProfiles, Evidence, minimised
from quittance.ledger.service import pseudonymous_customer_id
from quittance.models.events import PaymentEvent
from quittance.models.lookups import GatewayLookup, GatewayLookupMessage
from quittance.models.messages import PaymentEventMessage


class GatewayApis(Protocol):
    """Each gateway's API client, built with the key in force; GatewayKeyRejected when no
    key is configured."""

    def stripe(self) -> StripeApi: ...

    def gocardless(self) -> GoCardlessApi: ...


class PaymentEventQueue(Protocol):
    def send(self, body: str, *, correlation_id: str) -> str: ...


@dataclass(frozen=True)
class KeptReads:
    """Where the API's answers are kept as evidence, and for how long (intake's policy)."""

    evidence: Evidence
    retention: RetentionPolicy
    clock: Clock


@dataclass(frozen=True)
class LookupOutcome:
    queued: tuple[str, ...]
    """Event ids handed to the ledger."""
    skipped: str | None
    """Why the lookup brought no payment event (an unpaid Checkout, a zero invoice…)."""
    erased: int = 0
    """Payers erased on request: their payment still counts, nothing personal is kept."""
    evidence_kept: int = 0
    """Events whose API reads were sealed now (0 on a retry that found them kept)."""


def complete_lookup(
    message: GatewayLookupMessage,
    *,
    apis: GatewayApis,
    profiles: ContactProfiles,
    payment_events: PaymentEventQueue,
    reads: KeptReads | None = None,
) -> LookupOutcome:
    """``reads`` absent: the API's answers are not kept (unit tests of the mapping only)."""
    lookup = message.event
    log = ReadLog(reads.clock.now if reads else lambda: message.received_at)
    completion: Completion = (
        complete_stripe(lookup, log.recording(apis.stripe()))
        if lookup.provider == "stripe"
        else complete_gocardless(lookup, log.recording(apis.gocardless()))
    )
    queued: list[str] = []
    erased = kept = 0
    for event in completion.events:
        if event.customer is not None:
            customer_id = pseudonymous_customer_id(event.provider, event.customer.reference)
            try:
                profiles.remember(
                    customer_id, event.customer, message.received_at, as_of=event.occurred_at
                )
                if reads is not None:
                    kept += _keep_reads(log, lookup, event, customer_id, reads)
            except CustomerErased:
                erased += 1
        payment_events.send(
            PaymentEventMessage(
                correlation_id=message.correlation_id,
                received_at=message.received_at,
                event=minimised(event),
            ).model_dump_json(),
            correlation_id=message.correlation_id,
        )
        queued.append(event.event_id)
    return LookupOutcome(
        queued=tuple(queued), skipped=completion.skipped, erased=erased, evidence_kept=kept
    )


def _keep_reads(
    log: ReadLog,
    lookup: GatewayLookup,
    event: PaymentEvent,
    customer_id: str,
    reads: KeptReads,
) -> int:
    """1 when sealed now, 0 when a first try of this lookup kept them already (that copy,
    read earlier, is the evidence); CustomerErased propagates (nothing is written)."""
    now = reads.clock.now()
    try:
        reads.evidence.keep(
            log.evidence(lookup, event.event_id),
            customer_id,
            lock_for(event.occurred_at, reads.retention, now),
        )
    except AlreadyExists:
        return 0
    return 1


def retry_delay(attempt: int, base_seconds: int, max_seconds: int) -> int:
    """Exponential back-off by delivery attempt: base, 2×base, 4×base… up to the maximum."""
    return int(min(max_seconds, base_seconds * 2 ** max(0, min(attempt - 1, 20))))
