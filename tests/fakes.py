"""In-memory fakes of the domain's ports, faithful to the semantics of the real adapters.

- :class:`FakeSecrets` — ``quittance.intake.SigningSecrets``
- :class:`RecordingPublisher` — ``quittance.intake.EventPublisher`` (at most once per
  ``(provider, event_id)``, like ``quittance.aws.publisher.DedupedPublisher``)
- :class:`NoProfiles` — ``quittance.ledger.service.CustomerProfiles`` for tests of the
  ledger where contact data is not under test: remembers nothing, records no consent
- :class:`RememberingProfiles` — ``quittance.ledger.service.CustomerProfiles`` (and the
  lookup stage's): keeps what it is told; an erased customer's store refuses, as
  ``quittance.aws.customers_table.CustomersTable`` does
- :class:`FixedProfile` — the ``profile(customer_id)`` ports (``receipts.issuance.Profiles``,
  ``notifications.dispatch.Profiles``, ``privacy.export.Profiles``): every customer has the
  one profile given
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from quittance.bank.review import EntryRecord
from quittance.errors import CustomerErased
from quittance.models.customer import CustomerProfile
from quittance.models.events import CustomerDetails
from quittance.models.messages import PaymentEventMessage


class FakeSecrets:
    """Active signing secrets per provider; remembers which providers were asked for."""

    def __init__(self, secrets: Mapping[str, Sequence[str]]) -> None:
        self._secrets = {name: tuple(values) for name, values in secrets.items()}
        self.asked: list[str] = []

    def for_provider(self, provider: str) -> Sequence[str]:
        self.asked.append(provider)
        return self._secrets.get(provider, ())


class RecordingPublisher:
    """Queues a message once per ``(provider, event_id)``; a repeat answers False."""

    def __init__(self) -> None:
        self.published: list[PaymentEventMessage] = []
        self.keys: set[tuple[str, str]] = set()
        self.calls = 0

    def publish_once(self, message: PaymentEventMessage) -> bool:
        self.calls += 1
        key = (message.event.provider, message.event.event_id)
        if key in self.keys:
            return False
        self.keys.add(key)
        self.published.append(message)
        return True


class NoProfiles:
    """Contact data is not under test: nothing is remembered, no consent is recorded."""

    def remember(
        self,
        customer_id: str,
        details: CustomerDetails,
        now: datetime,
        *,
        as_of: datetime | None = None,
    ) -> None:
        return None

    def record_marketing_consent(
        self, customer_id: str, granted: bool, at: datetime, source: str, *, only_if_newer: bool
    ) -> bool:
        return False


class RememberingProfiles:
    """Keeps each customer's details as told; with ``erased``, refuses as for an erased
    customer (the real table raises CustomerErased: the key that would seal them is gone)."""

    def __init__(self, erased: bool = False) -> None:
        self.kept: dict[str, CustomerDetails] = {}
        self.erased = erased

    def remember(
        self,
        customer_id: str,
        details: CustomerDetails,
        now: datetime,
        *,
        as_of: datetime | None = None,
    ) -> str:
        if self.erased:
            raise CustomerErased(customer_id)
        self.kept[customer_id] = details
        return "stored"


class FixedProfile:
    """Every customer has the one profile given (None: no profile on file)."""

    def __init__(self, profile: dict[str, Any] | None) -> None:
        self._profile = profile

    def profile(self, customer_id: str) -> CustomerProfile | None:
        return None if self._profile is None else CustomerProfile.model_validate(self._profile)


class MemoryBankEntries:
    """Same contract as quittance.aws.bank_entries.BankEntries, in memory: an entry is
    recorded once per bank reference, and only an entry waiting for review is resolved."""

    def __init__(self) -> None:
        self.records: dict[str, EntryRecord] = {}

    def record(self, record: EntryRecord) -> EntryRecord | None:
        known = self.records.get(record.entry.reference)
        if known is None:
            self.records[record.entry.reference] = record
        return known

    def get(self, reference: str) -> EntryRecord | None:
        return self.records.get(reference)

    def resolve(self, record: EntryRecord) -> bool:
        known = self.records.get(record.entry.reference)
        if known is None or known.state != "review":
            return False
        self.records[record.entry.reference] = record
        return True

    def waiting(self) -> list[EntryRecord]:
        return [r for r in self.records.values() if r.state == "review"]
