"""What messages and pages say about the seller: from the stage's profile when one is set,
else from the functions' SELLER_* settings (a stack deployed before profiles)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from quittance.seller.profile import RefundDelays, SellerProfile
from quittance.seller.published import PublishedProfile
from quittance.settings import SellerSettings


@dataclass(frozen=True)
class SellerIdentity:
    name: str
    """The name customers know (trade name, else legal name): sender display name, closing."""
    email: str
    phone: str
    address: str
    brand_colour: str
    legal: tuple[str, ...]
    """Identification mentions in French, as on the receipt (quittance.seller.profile)."""
    attach_pdf: bool = False
    """Seller's default for attaching the receipt PDF to the confirmation email."""
    sms_sender: str | None = None
    refund_delays: RefundDelays | None = None
    """Per payment method; None: quittance's defaults (card 5-10, SEPA 1-3 days)."""
    profile_version: int | None = None

    @classmethod
    def from_profile(cls, published: PublishedProfile) -> SellerIdentity:
        profile: SellerProfile = published.profile
        return cls(
            name=profile.display_name,
            email=profile.email,
            phone=profile.phone,
            address=", ".join(line.strip() for line in profile.address.splitlines()),
            brand_colour=profile.brand_colour,
            legal=profile.legal_mentions("fr"),
            attach_pdf=profile.attach_pdf,
            sms_sender=profile.sms_sender,
            refund_delays=profile.refund_delays,
            profile_version=published.version,
        )

    @classmethod
    def from_settings(cls, s: SellerSettings) -> SellerIdentity:
        legal = [f"SIREN {s.seller_siren}"]
        if s.seller_vat:
            legal.append(f"TVA {s.seller_vat}")
        return cls(
            name=s.seller_name,
            email=s.seller_email,
            phone=s.seller_phone,
            address=s.seller_address,
            brand_colour=s.brand_colour,
            legal=tuple(legal),
        )


class _Profiles(Protocol):
    def current(self) -> PublishedProfile | None: ...


class SellerIdentities:
    """The current identity, read through the profile store's cache on every call."""

    def __init__(self, settings: SellerSettings, profiles: _Profiles | None) -> None:
        self._settings = settings
        self._profiles = profiles

    def current(self) -> SellerIdentity:
        published = self._profiles.current() if self._profiles is not None else None
        if published is None:
            return SellerIdentity.from_settings(self._settings)
        return SellerIdentity.from_profile(published)
