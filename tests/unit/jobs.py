"""Notification jobs for tests: one call for any kind, its moment under the kind's own name
(test helper)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quittance.models.messages import NotificationJob, parse_notification_job

TIME_FIELD = {
    "refund_issued": "refunded_at",
    "payment_failed": "failed_at",
    "invoice_reminder": "queued_at",
}
"""The name of each kind's moment (``paid_at`` for the others)."""


def notification_job(at: datetime, **fields: Any) -> NotificationJob:
    """A version 2 job of ``fields["kind"]`` at ``at``; a field given as None is left out, so
    that a test's shared base can name fields only some kinds have (``receipt_number``)."""
    given = {name: value for name, value in fields.items() if value is not None}
    return parse_notification_job({TIME_FIELD.get(given["kind"], "paid_at"): at, **given})
