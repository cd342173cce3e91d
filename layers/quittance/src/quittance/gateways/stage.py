"""The lookup stage's one function: complete a queued lookup and hand its payment events on.

The payer's details are sealed into their profile here (the event queued for the ledger
carries their reference and locale only, as intake's do). A gateway that is unavailable, a
key that is missing or refused, an object the gateway does not know: each raises, the lookup
stays on its queue and is tried again later, and reaches the dead-letter queue (and its
alarm) when it keeps failing. Nothing is acknowledged that was not handed on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from quittance.errors import CustomerErased
from quittance.gateways.gocardless_lookup import complete_gocardless
from quittance.gateways.ports import GoCardlessApi, StripeApi
from quittance.gateways.stripe_lookup import Completion, complete_stripe
from quittance.intake import ContactProfiles, minimised
from quittance.ledger.service import pseudonymous_customer_id
from quittance.models.lookups import GatewayLookupMessage
from quittance.models.messages import PaymentEventMessage


class GatewayApis(Protocol):
    """Each gateway's API client, built with the key in force; GatewayKeyRejected when no
    key is configured."""

    def stripe(self) -> StripeApi: ...

    def gocardless(self) -> GoCardlessApi: ...


class PaymentEventQueue(Protocol):
    def send(self, body: str, *, correlation_id: str) -> str: ...


@dataclass(frozen=True)
class LookupOutcome:
    queued: tuple[str, ...]
    """Event ids handed to the ledger."""
    skipped: str | None
    """Why the lookup brought no payment event (an unpaid Checkout, a zero invoice…)."""
    erased: int = 0
    """Payers erased on request: their payment still counts, nothing personal is kept."""


def complete_lookup(
    message: GatewayLookupMessage,
    *,
    apis: GatewayApis,
    profiles: ContactProfiles,
    payment_events: PaymentEventQueue,
) -> LookupOutcome:
    lookup = message.event
    completion: Completion = (
        complete_stripe(lookup, apis.stripe())
        if lookup.provider == "stripe"
        else complete_gocardless(lookup, apis.gocardless())
    )
    queued: list[str] = []
    erased = 0
    for event in completion.events:
        if event.customer is not None:
            customer_id = pseudonymous_customer_id(event.provider, event.customer.reference)
            try:
                profiles.remember(
                    customer_id, event.customer, message.received_at, as_of=event.occurred_at
                )
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
    return LookupOutcome(queued=tuple(queued), skipped=completion.skipped, erased=erased)


def retry_delay(attempt: int, base_seconds: int, max_seconds: int) -> int:
    """Exponential back-off by delivery attempt: base, 2×base, 4×base… up to the maximum."""
    return int(min(max_seconds, base_seconds * 2 ** max(0, min(attempt - 1, 20))))
