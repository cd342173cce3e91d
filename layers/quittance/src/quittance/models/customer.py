"""A customer's profile as the domain reads it: contact details (opened by the adapter),
language and time zone, how and in which tone to write to them, consent and suppression.
Frozen, built at the adapter's edge (``aws.customers_table.CustomersTable.profile``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Channel = Literal["email", "sms"]
_CHANNELS: dict[str, tuple[Channel, ...]] = {
    "email": ("email",),
    "sms": ("sms",),
    "both": ("email", "sms"),
}


class MarketingConsent(BaseModel):
    """The customer's choice about marketing, with when and where it was given."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    granted: bool
    at: str | None = None
    source: str | None = None


class EmailSuppression(BaseModel):
    """Why the address is no longer emailed (a hard bounce, a complaint), and since when."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    reason: str | None = None
    at: str | None = None


class CustomerProfile(BaseModel):
    """What quittance holds about a customer, contact fields in clear. Bookkeeping
    attributes of the stored item (key, expiry, update times) are not part of it."""

    # The stored item also holds bookkeeping attributes (pk, expires_at, updated_at,
    # contact_as_of): ignored here, they are the adapter's.
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    locale: str | None = None
    """The customer's language tag (``fr``, ``en-GB``); None: French, the seller's."""
    timezone: str | None = None
    segment: Literal["b2b", "b2c"] | None = None
    """b2b is written to formally, b2c warmly."""
    channel: Literal["email", "sms", "both"] | None = None
    attach_pdf: bool | None = None
    """The customer's own choice about the receipt PDF in the email; None: the seller's."""
    payments_count: int | None = None
    marketing_consent: MarketingConsent | None = None
    email_suppressed: EmailSuppression | None = None

    @property
    def tone(self) -> Literal["formal", "warm"]:
        return "formal" if self.segment == "b2b" else "warm"

    @property
    def preferred_channels(self) -> tuple[Channel, ...]:
        return _CHANNELS[self.channel or "email"]

    @property
    def consents_to_marketing(self) -> bool:
        return self.marketing_consent is not None and self.marketing_consent.granted
