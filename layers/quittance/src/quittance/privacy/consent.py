"""A customer's marketing consent changed by staff (``PUT /admin/customers/{id}/consents/
marketing``): recorded with when and by whom, on an existing profile only. An erased customer,
or one quittance never heard of, gets no profile for the sake of a consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from quittance.errors import NotFound
from quittance.privacy.keyring import Keyring

STAFF_SOURCE = "admin"


class ConsentBook(Protocol):
    def stored_profile(self, customer_id: str) -> dict[str, Any] | None: ...

    def record_marketing_consent(
        self,
        customer_id: str,
        granted: bool,
        at: datetime,
        source: str,
        *,
        only_if_newer: bool = False,
    ) -> bool: ...


@dataclass(frozen=True)
class ConsentChanged:
    customer_id: str
    granted: bool
    at: datetime

    @property
    def outcome(self) -> str:
        return "granted" if self.granted else "withdrawn"

    def as_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "marketing_consent": {
                "granted": self.granted,
                "at": self.at.astimezone(UTC).isoformat(),
                "source": STAFF_SOURCE,
            },
        }


def change_marketing_consent(
    customer_id: str, granted: bool, *, keyring: Keyring, profiles: ConsentBook, now: datetime
) -> ConsentChanged:
    """Record staff's change; NotFound when there is no profile to record it on (the
    profile table refuses too, should the customer be erased in between)."""
    unknown = NotFound(f"no profile for {customer_id}")
    if keyring.erased(customer_id) or profiles.stored_profile(customer_id) is None:
        raise unknown
    if not profiles.record_marketing_consent(customer_id, granted, now, STAFF_SOURCE):
        raise unknown
    return ConsentChanged(customer_id, granted, now)
