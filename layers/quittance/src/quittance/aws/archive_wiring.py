"""The staff API's adapters, built from their settings, for archive_api's composition root
(which caches it per execution environment): the ledger, the audit trail and the exports
bucket at once; the compliance desk, the keyring, the profiles and the resend on first use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

from quittance.archive.desk import Desk
from quittance.archive.requests import ResendRequest
from quittance.archive.retention import RetentionPolicy
from quittance.audit.trail import AuditLog
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.audit_table import AuditTrail
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.evidence_store import EvidenceStore
from quittance.aws.exports_bucket import ExportsBucket
from quittance.aws.idempotency import once_per_key
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.mailer import SesMailer
from quittance.aws.receipt_search import ReceiptIndex
from quittance.aws.staff_archive import StaffArchive
from quittance.clock import Clock
from quittance.settings import (
    ArchiveApiSettings,
    ComplianceSettings,
    InvoiceContactSettings,
    load,
)


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


def resend_idempotency() -> IdempotencyConfig:
    """Created at import by archive_api, which registers each Lambda context on it: a staff
    member's retry of the same resend within a week gets the first answer."""
    return IdempotencyConfig(
        event_key_jmespath="[number, request.request_id]",
        payload_validation_jmespath="request.email",
        expires_after_seconds=7 * 24 * 3600,
    )


@dataclass(frozen=True)
class StaffApiDeps:
    """The one composition root; what only some routes need is built on first use."""

    ledger: LedgerTable
    trail: AuditTrail
    exports: ExportsBucket
    clock: Clock
    resend_config: IdempotencyConfig
    """archive_api's own (it registers each Lambda context on it)."""

    def now(self) -> datetime:
        return self.clock.now()

    @cached_property
    def evidence_url_seconds(self) -> int:
        return int(load(ComplianceSettings).evidence_url_seconds)

    @cached_property
    def desk(self) -> Desk:
        return compliance_desk(
            load(ComplianceSettings),
            ledger=self.ledger,
            trail=self.trail,
            keyring=self.keyring,
            clock=self.clock,
        )

    @cached_property
    def keyring(self) -> CustomerKeyring:
        return customer_keyring(load(InvoiceContactSettings), self.clock)

    @cached_property
    def profiles(self) -> CustomersTable:
        """Profiles, contact fields sealed with the customer's own key (the keyring above)."""
        s = load(InvoiceContactSettings)
        return CustomersTable(
            s.customers_table, make_client("dynamodb", s.aws_region), self.keyring
        )

    @cached_property
    def resend_once(self) -> Callable[..., dict[str, Any]]:
        """The resend, once per (receipt, request id): a repeat returns the first answer."""
        s = load(ComplianceSettings)
        mailer = SesMailer(make_client("sesv2", s.aws_region), s.ses_configuration_set, self.clock)

        def send(payload: dict[str, Any]) -> dict[str, Any]:
            request = ResendRequest.model_validate(payload["request"])
            return self.desk.resend(
                payload["number"],
                request,
                profiles=self.profiles,
                mailer=mailer,
                sender=s.sender_email,
            )

        return once_per_key(
            send,
            data_keyword="payload",
            config=self.resend_config,
            table=s.idempotency_table,
            client=make_client("dynamodb", s.aws_region),
            operation="archive.resend",
        )


def staff_api(clock: Clock, resend_config: IdempotencyConfig) -> StaffApiDeps:
    s = load(ArchiveApiSettings)
    dynamodb = make_client("dynamodb", s.aws_region)
    return StaffApiDeps(
        ledger=LedgerTable(s.ledger_table, dynamodb),
        trail=AuditTrail(load(ComplianceSettings).audit_table, dynamodb, clock=clock.now),
        exports=ExportsBucket(
            s.exports_bucket, make_client("s3", s.aws_region), s.archive_kms_key_id
        ),
        clock=clock,
        resend_config=resend_config,
    )
