"""The lookup stage: complete a queued lookup and hand its payment events on
(:func:`complete_lookup`), and what happens when the gateway fails (:class:`LookupStage`).

The payer's details are sealed into their profile here (the event queued for the ledger
carries their reference and locale only, as intake's do), and what the gateway's API
answered is kept sealed as the event's evidence (:mod:`quittance.gateways.reads`), as intake
keeps a delivery that needed no lookup. A gateway that is unavailable, a
key that is missing or refused, an object the gateway does not know: each raises, the lookup
stays on its queue and is tried again later, and reaches the dead-letter queue (and its
alarm) when it keeps failing. Nothing is acknowledged that was not handed on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from quittance.archive.retention import RetentionPolicy, lock_for
from quittance.clock import Clock
from quittance.errors import (
    AlreadyExists,
    CustomerErased,
    GatewayKeyRejected,
    GatewayObjectMissing,
    GatewayUnavailable,
)
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


class LookupQueue(Protocol):
    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Make the message visible again in ``seconds`` (its back-off)."""


class Alerts(Protocol):
    def publish(self, subject: str, details: dict[str, Any], *, dedupe_key: str) -> str: ...


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

    def counts(self) -> dict[str, int]:
        """What the handler counts as metrics: a lookup that brought no payment event (an
        unpaid session, a zero invoice, an invoice paid out of band) is counted, never
        silent."""
        counts = {"lookups_completed": 1, "events_queued": len(self.queued)}
        if self.skipped:
            counts["lookups_without_payment"] = 1
        return {name: value for name, value in counts.items() if value}

    def log_fields(self, lookup: GatewayLookup) -> dict[str, Any]:
        return {
            "provider": lookup.provider,
            "event_type": lookup.event_type,
            "event_id": lookup.event_id,
            "queued": list(self.queued),
            "skipped": self.skipped,
            "customers_erased": self.erased,
            "evidence_kept": self.evidence_kept,
        }


class LookupRetried(Exception):
    """The gateway failed this lookup: it is back on its queue for ``delay`` seconds (and in
    its dead-letter queue, alarmed, once it has failed too often)."""

    def __init__(
        self,
        cause: GatewayUnavailable | GatewayKeyRejected | GatewayObjectMissing,
        lookup: GatewayLookup,
        *,
        attempt: int,
        delay: int,
    ) -> None:
        super().__init__(cause.detail)
        self.reason = cause.code
        self.log_fields = {
            "provider": lookup.provider,
            "event_id": lookup.event_id,
            "reason": cause.code,
            "detail": cause.detail,
            "attempt": attempt,
            "retry_in_seconds": delay,
        }


@dataclass(frozen=True)
class LookupStage:
    """Everything one lookup needs, wired once per function (``quittance.aws.lookup_wiring``)."""

    apis: GatewayApis
    profiles: ContactProfiles
    payment_events: PaymentEventQueue
    lookups: LookupQueue
    alerts: Alerts
    reads: KeptReads
    retry_base_seconds: int
    retry_max_seconds: int

    def run(
        self, message: GatewayLookupMessage, *, attempt: int, receipt_handle: str
    ) -> LookupOutcome:
        """Complete the lookup; when the gateway fails, put it back on its queue with its
        back-off (telling the ops topic at once when the key is missing or refused: nothing
        will work until someone fixes it) and raise LookupRetried."""
        try:
            return complete_lookup(
                message,
                apis=self.apis,
                profiles=self.profiles,
                payment_events=self.payment_events,
                reads=self.reads,
            )
        except (GatewayUnavailable, GatewayKeyRejected, GatewayObjectMissing) as exc:
            lookup = message.event
            delay = retry_delay(attempt, self.retry_base_seconds, self.retry_max_seconds)
            if isinstance(exc, GatewayKeyRejected):
                self.alerts.publish(
                    f"quittance: the {lookup.provider} API key is missing or refused",
                    {
                        "anomaly": "gateway_key_rejected",
                        "provider": lookup.provider,
                        "detail": exc.detail,
                    },
                    dedupe_key=f"gateway_key_rejected#{lookup.provider}#{lookup.event_id}",
                )
            self.lookups.retry_later(receipt_handle, delay)
            raise LookupRetried(exc, lookup, attempt=attempt, delay=delay) from exc


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
