"""Which seller a document is issued in the name of: the stage's seller profile (its
current version for a new receipt, the recorded one for a later copy), and never, in
production, none or the demo company's."""

from __future__ import annotations

from typing import Protocol

from quittance.receipts.document import Seller
from quittance.seller.profile import DEMO_SIRENS
from quittance.seller.published import (
    PRODUCTION_STAGE,
    PublishedProfile,
    SellerProfileRefused,
    SellerProfiles,
    issuable,
)


class Logos(Protocol):
    def read(self, sha256: str, media_type: str) -> bytes: ...


class ProfileSellers:
    """The seller from the stage's profile store (quittance.aws.seller_parameter)."""

    def __init__(
        self, stage: str, profiles: SellerProfiles, logos: Logos, *, allow_demo: bool = False
    ) -> None:
        self._stage = stage
        self._profiles = profiles
        self._logos = logos
        # Only the local stack, which runs the prod template on the demo company, says so.
        self._guarded_stage = "" if allow_demo else stage

    def current(self) -> Seller:
        published = self._profiles.current()
        if published is None:
            raise SellerProfileRefused(
                self._stage, "no seller profile is set (quittance seller set FILE.yaml)"
            )
        return self._seller(issuable(self._guarded_stage, published))

    def at_version(self, version: int) -> Seller:
        # The original was issued under it: its copy is, whatever changed since.
        return self._seller(self._profiles.at_version(version))

    def _seller(self, published: PublishedProfile) -> Seller:
        logo = published.profile.logo
        data = self._logos.read(logo.sha256, logo.media_type) if logo else None
        return Seller.from_profile(published, data)


class FixedSeller:
    """The seller given by environment variables, for a function deployed without a profile
    parameter (before issue 17); production refuses the demo company's SIREN here too."""

    def __init__(self, stage: str, seller: Seller, *, allow_demo: bool = False) -> None:
        self._stage = stage
        self._seller = seller
        self._allow_demo = allow_demo

    def current(self) -> Seller:
        if (
            self._stage == PRODUCTION_STAGE
            and self._seller.siren in DEMO_SIRENS
            and not self._allow_demo
        ):
            raise SellerProfileRefused(
                self._stage,
                f"receipts would be issued in the demo company's name (SIREN"
                f" {self._seller.siren}); set your seller profile (quittance seller set)",
            )
        return self._seller

    def at_version(self, version: int) -> Seller:
        return self.current()
