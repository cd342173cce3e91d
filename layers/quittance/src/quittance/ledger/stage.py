"""The ledger stage: record one payment event, then hand on what follows from it (receipt
jobs, ops alerts, the notices no receipt carries; see :mod:`quittance.ledger.follow_ups`).

What follows is sent after every successful apply, a redelivery included: if an earlier
attempt committed and then failed to send, this is the send that was missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from quittance.ledger.follow_ups import FollowUps, follow_ups
from quittance.ledger.service import CustomerProfiles, LedgerOutcome, LedgerStore, apply_event
from quittance.models.messages import PaymentEventMessage


class MessageQueue(Protocol):
    def send(self, body: str, *, correlation_id: str) -> str: ...


class OpsAlerts(Protocol):
    def publish(self, subject: str, details: dict[str, Any], *, dedupe_key: str) -> str: ...


@dataclass(frozen=True)
class Recorded:
    outcome: LedgerOutcome
    handed_on: FollowUps

    def as_result(self) -> dict[str, Any]:
        """What the ledger stage remembers of an event (its idempotent result)."""
        return {
            "invoice_number": self.outcome.invoice_number,
            "status": self.outcome.status.value,
            "documents": [doc.receipt_number for doc in self.outcome.documents],
        }


@dataclass(frozen=True)
class LedgerStage:
    store: LedgerStore
    profiles: CustomerProfiles
    receipt_jobs: MessageQueue
    notifications: MessageQueue
    alerts: OpsAlerts
    calendar: str
    """The business's time zone: the year whose receipt series numbers a document."""

    def record(self, message: PaymentEventMessage, now: datetime) -> Recorded:
        outcome = apply_event(
            message.event,
            store=self.store,
            profiles=self.profiles,
            now=now,
            calendar=self.calendar,
        )
        then = follow_ups(message, outcome)
        for job in then.receipt_jobs:
            self.receipt_jobs.send(job.model_dump_json(), correlation_id=message.correlation_id)
        for alert in then.alerts:
            self.alerts.publish(alert.subject, alert.details, dedupe_key=alert.dedupe_key)
        for notice in then.notifications:
            self.notifications.send(notice.model_dump_json(), correlation_id=message.correlation_id)
        return Recorded(outcome, then)
