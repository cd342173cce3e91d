"""How long the records behind personal data are kept: the periods the adapters write as
TTLs and the retention table (:mod:`quittance.privacy.retention`) states. Plain values, so
that both sides read them from the domain."""

from __future__ import annotations

from datetime import timedelta

# A profile with no payment event for three years is forgotten (its TTL moves on each event).
INACTIVE_PROFILE_RETENTION = timedelta(days=3 * 365)
# SQS keeps a message 14 days; a redelivery inside that window finds its idempotency record.
REDELIVERY_WINDOW = 14 * 24 * 3600
