"""The compliance desk's adapters, built from their settings, for archive_api's composition
root (which decides what is built when, and caches it per execution environment)."""

from __future__ import annotations

from quittance.archive.desk import Desk
from quittance.archive.retention import RetentionPolicy
from quittance.audit.trail import AuditLog
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.evidence_store import EvidenceStore
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.receipt_search import ReceiptIndex
from quittance.aws.staff_archive import StaffArchive
from quittance.clock import Clock
from quittance.settings import ComplianceSettings, InvoiceContactSettings


def compliance_desk(
    settings: ComplianceSettings,
    *,
    ledger: LedgerTable,
    trail: AuditLog,
    keyring: CustomerKeyring,
    clock: Clock,
) -> Desk:
    region = settings.aws_region
    s3 = make_client("s3", region)
    return Desk(
        ledger=ledger,
        index=ReceiptIndex(settings.ledger_table, make_client("dynamodb", region)),
        archive=StaffArchive(settings.archive_bucket, s3, settings.archive_kms_key_id),
        trail=trail,
        policy=RetentionPolicy(
            settings.retention_mode,
            settings.retention_days,
            settings.legal_retention_years,
            settings.fiscal_year_end_month,
            settings.fiscal_timezone,
        ),
        deliveries=EvidenceStore(
            ArchiveBucket(settings.archive_bucket, s3, settings.archive_kms_key_id), s3, keyring
        ),
        clock=clock.now,
    )


def customer_keyring(settings: InvoiceContactSettings, clock: Clock) -> CustomerKeyring:
    """Customers' data keys: opened for the raw deliveries and the address on file, minted
    for a customer staff register with an invoice before any gateway did. The keyring checks
    the key item on every use, so a bundle made just after an erasure already says
    "erased"."""
    region = settings.aws_region
    return CustomerKeyring(
        settings.customers_table,
        make_client("dynamodb", region),
        make_client("kms", region),
        settings.customer_keys_kms_key_id,
        clock=clock.now,
    )
