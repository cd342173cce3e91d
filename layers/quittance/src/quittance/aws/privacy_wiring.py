"""The data-subject rights' adapters (customer keys, profiles, ledger, archive, kept
deliveries, exports, the audit trail), built from their settings for privacy_api's
composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.audit_table import AuditTrail
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.evidence_store import EvidenceStore
from quittance.aws.exports_bucket import ExportsBucket
from quittance.aws.ledger_table import LedgerTable
from quittance.clock import Clock
from quittance.privacy.rights import Audit, DataSubjectRights
from quittance.settings import PrivacyApiSettings


@dataclass(frozen=True)
class CallAudit:
    """The audit trail bound to one staff call, or nothing when the stack has no audit table
    configured."""

    trail: AuditTrail | None
    actor: str
    request_id: str

    def record(self, action: str, target: str, outcome: str, details: dict[str, Any]) -> None:
        if self.trail is not None:
            self.trail.record(self.actor, action, target, outcome, self.request_id, details)


@dataclass(frozen=True)
class PrivacyDeps:
    rights: DataSubjectRights
    trail: AuditTrail | None
    clock: Clock

    def audit(self, actor: str, request_id: str) -> Audit:
        return CallAudit(self.trail, actor, request_id)


def privacy(s: PrivacyApiSettings, clock: Clock) -> PrivacyDeps:
    dynamodb = make_client("dynamodb", s.aws_region)
    s3 = make_client("s3", s.aws_region)
    # Opens and destroys customer keys; never mints one (no KMS key id).
    keyring = CustomerKeyring(
        s.customers_table, dynamodb, make_client("kms", s.aws_region), None, clock=clock.now
    )
    archive = ArchiveBucket(s.archive_bucket, s3, s.archive_kms_key_id)
    return PrivacyDeps(
        rights=DataSubjectRights(
            keyring=keyring,
            profiles=CustomersTable(s.customers_table, dynamodb, keyring),
            ledger=LedgerTable(s.ledger_table, dynamodb),
            archive=archive,
            evidence=EvidenceStore(archive, s3, keyring),
            exports=ExportsBucket(s.exports_bucket, s3, s.archive_kms_key_id),
        ),
        trail=AuditTrail(s.audit_table, dynamodb, clock=clock.now) if s.audit_table else None,
        clock=clock,
    )
