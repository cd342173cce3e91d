"""Typed settings, one frozen model per function, read once at cold start from the environment
that template.yaml gives each function (the local stack gives the same)."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import TypeVar

from pydantic import Field, HttpUrl
from pydantic_settings import BaseSettings, SettingsConfigDict


class RetentionMode(StrEnum):
    COMPLIANCE = "COMPLIANCE"
    GOVERNANCE = "GOVERNANCE"


class _Base(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    stage: str = Field(default="dev", alias="STAGE")
    aws_region: str = Field(default="eu-west-3", alias="AWS_REGION")


class IntakeSettings(_Base):
    webhook_secrets_name: str = Field(alias="WEBHOOK_SECRETS_NAME")
    payment_events_queue_url: str = Field(alias="PAYMENT_EVENTS_QUEUE_URL")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    # A full GoCardless batch (250 events with metadata) can pass 256 KiB.
    max_body_bytes: int = Field(default=1024 * 1024, alias="WEBHOOK_MAX_BODY_BYTES")
    dedupe_days: int = Field(default=7, alias="WEBHOOK_DEDUPE_DAYS", ge=7)
    secrets_max_age_seconds: int = Field(default=300, alias="SECRETS_MAX_AGE_SECONDS")


class LedgerSettings(_Base):
    ledger_table: str = Field(alias="LEDGER_TABLE")
    customers_table: str = Field(alias="CUSTOMERS_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    receipt_jobs_queue_url: str = Field(alias="RECEIPT_JOBS_QUEUE_URL")
    notifications_queue_url: str = Field(alias="NOTIFICATIONS_QUEUE_URL")
    ops_alerts_topic_arn: str = Field(alias="OPS_ALERTS_TOPIC_ARN")


class ArchivePolicy(_Base):
    archive_bucket: str = Field(alias="ARCHIVE_BUCKET")
    archive_kms_key_id: str = Field(alias="ARCHIVE_KMS_KEY_ID")
    retention_mode: RetentionMode = Field(alias="ARCHIVE_RETENTION_MODE")
    retention_days: int = Field(alias="ARCHIVE_RETENTION_DAYS", ge=1)
    legal_retention_years: int = Field(default=10, alias="ARCHIVE_LEGAL_RETENTION_YEARS", ge=0)
    fiscal_year_end_month: int = Field(default=12, alias="FISCAL_YEAR_END_MONTH", ge=1, le=12)
    fiscal_timezone: str = Field(default="Europe/Paris", alias="FISCAL_TIMEZONE")


class SellerSettings(_Base):
    seller_name: str = Field(default="Atelier Quittance SAS", alias="SELLER_NAME")
    seller_address: str = Field(
        default="12 rue des Archives, 75004 Paris, France", alias="SELLER_ADDRESS"
    )
    seller_siren: str = Field(default="732829320", alias="SELLER_SIREN")
    seller_vat: str = Field(default="FR44732829320", alias="SELLER_VAT")
    seller_email: str = Field(default="contact@example.com", alias="SELLER_EMAIL")
    seller_phone: str = Field(default="+33 1 23 45 67 89", alias="SELLER_PHONE")
    brand_colour: str = Field(default="#1f4e79", alias="BRAND_COLOUR", pattern=r"^#[0-9a-fA-F]{6}$")


class ReceiptsSettings(ArchivePolicy, SellerSettings):
    ledger_table: str = Field(alias="LEDGER_TABLE")
    customers_table: str = Field(alias="CUSTOMERS_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    notifications_queue_url: str = Field(alias="NOTIFICATIONS_QUEUE_URL")
    public_base_url: HttpUrl = Field(alias="PUBLIC_BASE_URL")
    link_keys_secret_name: str = Field(alias="LINK_KEYS_SECRET_NAME")


class NotifySettings(SellerSettings):
    ledger_table: str = Field(alias="LEDGER_TABLE")
    customers_table: str = Field(alias="CUSTOMERS_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    sender_email: str = Field(alias="SENDER_EMAIL")
    ses_configuration_set: str = Field(alias="SES_CONFIGURATION_SET")
    public_base_url: HttpUrl = Field(alias="PUBLIC_BASE_URL")
    link_keys_secret_name: str = Field(alias="LINK_KEYS_SECRET_NAME")
    link_ttl_days: int = Field(default=396, alias="LINK_TTL_DAYS", ge=1)


class LinksSettings(SellerSettings):
    ledger_table: str = Field(alias="LEDGER_TABLE")
    archive_bucket: str = Field(alias="ARCHIVE_BUCKET")
    link_keys_secret_name: str = Field(alias="LINK_KEYS_SECRET_NAME")
    presigned_url_seconds: int = Field(default=300, alias="PRESIGNED_URL_SECONDS", le=3600)


class CustomerKeysSettings(_Base):
    """Per-customer keys (quittance.privacy.keyring): readers need only the table; a function
    that seals new customers' data also names the KMS key that generates their data keys."""

    customers_table: str = Field(alias="CUSTOMERS_TABLE")
    customer_keys_kms_key_id: str | None = Field(default=None, alias="CUSTOMER_KEYS_KMS_KEY_ID")


class IntakeRecordsSettings(ArchivePolicy, CustomerKeysSettings):
    """What intake keeps about the payer: sealed profile and raw delivery as evidence."""


class PrivacyApiSettings(ArchivePolicy, CustomerKeysSettings):
    ledger_table: str = Field(alias="LEDGER_TABLE")
    audit_table: str | None = Field(default=None, alias="AUDIT_TABLE")


class ArchiveApiSettings(_Base):
    ledger_table: str = Field(alias="LEDGER_TABLE")


class ComplianceSettings(ArchivePolicy):
    """The staff API's compliance routes (/admin/receipts*, /admin/audit*)."""

    ledger_table: str = Field(alias="LEDGER_TABLE")
    audit_table: str = Field(alias="AUDIT_TABLE")
    customers_table: str = Field(alias="CUSTOMERS_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    sender_email: str = Field(alias="SENDER_EMAIL")
    ses_configuration_set: str = Field(alias="SES_CONFIGURATION_SET")
    evidence_url_seconds: int = Field(default=300, alias="EVIDENCE_URL_SECONDS", ge=1, le=3600)


S = TypeVar("S", bound=_Base)


@cache
def load(model: type[S]) -> S:
    """Read and validate a settings model once per process."""
    return model()
