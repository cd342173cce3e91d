"""What intake hands to the lookup stage: which gateway object an event is about, ids only."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from quittance.models.events import UtcDateTime

LookupProvider = Literal["stripe", "gocardless"]


class GatewayLookup(BaseModel):
    """One verified gateway event whose payment event must be completed from the API.

    No contact data: the object ids and, for GoCardless, the merchant's three optional
    metadata overrides (an amount, an invoice number, a customer reference)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: LookupProvider
    event_id: str = Field(min_length=1, max_length=255)
    event_type: str = Field(min_length=1, max_length=128)
    """The gateway's own type: ``checkout.session.completed``, ``payments.confirmed``…"""
    object_id: str = Field(min_length=1, max_length=255)
    """The object the event is about (``cs_…``, ``pi_…``, ``ch_…``, ``in_…``, ``re_…``,
    GoCardless ``PM…`` / ``RF…``)."""
    occurred_at: UtcDateTime
    livemode: bool = True
    links: dict[str, str] = Field(default_factory=dict)
    """Other ids the event names (``payment_intent``, ``charge``, ``mandate``, ``payment``)."""
    details: dict[str, str] = Field(default_factory=dict)
    """What the event itself says happened (GoCardless ``details``: cause, reason code,
    scheme, description); never contact data."""
    overrides: dict[str, str] = Field(default_factory=dict)
    """GoCardless ``resource_metadata`` keys quittance reads (``amount``, ``invoice_number``,
    ``customer_reference``): the merchant's word wins over the API's."""


class GatewayLookupMessage(BaseModel):
    """intake → lookup, on the gateway-lookups queue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    correlation_id: str
    received_at: UtcDateTime
    event: GatewayLookup
    """Named ``event`` like PaymentEventMessage's, so that one dedupe key
    (``[event.provider, event.event_id]``) covers both queues."""
