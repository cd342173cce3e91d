"""Typed settings, one frozen model per function, read once at cold start from the environment
that template.yaml gives each function (the local stack gives the same)."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import TypeVar

from pydantic import Field, HttpUrl
from pydantic_settings import BaseSettings, SettingsConfigDict

# Empty (not configured) or an absolute http(s) URL without spaces or controls.
_OPTIONAL_URL = r"^(https?://[^\s\x00-\x1f\x7f]+)?$"
_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"


class RetentionMode(StrEnum):
    COMPLIANCE = "COMPLIANCE"
    GOVERNANCE = "GOVERNANCE"


class _Base(BaseSettings):
    # defer_build: a function builds the validator of the one or two models it loads, at the
    # first load(), not the twenty of this module at import (a third of intake's import).
    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=False, defer_build=True
    )

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
    gateway_lookups_queue_url: str | None = Field(default=None, alias="GATEWAY_LOOKUPS_QUEUE_URL")
    """Where events the payload cannot complete wait for the lookup stage (quittance.gateways)."""


class LedgerSettings(_Base):
    ledger_table: str = Field(alias="LEDGER_TABLE")
    customers_table: str = Field(alias="CUSTOMERS_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    receipt_jobs_queue_url: str = Field(alias="RECEIPT_JOBS_QUEUE_URL")
    notifications_queue_url: str = Field(alias="NOTIFICATIONS_QUEUE_URL")
    ops_alerts_topic_arn: str = Field(alias="OPS_ALERTS_TOPIC_ARN")
    fiscal_timezone: str = Field(default="Europe/Paris", alias="FISCAL_TIMEZONE")
    """Whose calendar says which year's series a receipt is numbered in."""


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
    # The fields above are the fallback of a function deployed without the parameter below.
    seller_profile_parameter: str | None = Field(default=None, alias="SELLER_PROFILE_PARAMETER")
    """SSM parameter holding the stage's seller profile (quittance.seller), e.g.
    ``/quittance/prod/seller-profile``; template.yaml names it for every function."""
    seller_profile_max_age_seconds: int = Field(
        default=300, alias="SELLER_PROFILE_MAX_AGE_SECONDS", ge=0, le=3600
    )
    """How long a warm function keeps the profile before reading it again."""
    seller_demo_allowed: bool = Field(default=False, alias="SELLER_DEMO_ALLOWED")
    """Set by the local stack only (it runs the prod template on the demo company); never in
    template.yaml, so a deployed prod stage refuses the demo profile."""


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
    archive_bucket: str | None = Field(default=None, alias="ARCHIVE_BUCKET")
    sms_sender_id: str = Field(
        default="Quittance", alias="SMS_SENDER_ID", pattern=r"^[A-Za-z][A-Za-z0-9]{0,10}$"
    )
    default_phone_region: str = Field(
        default="FR", alias="DEFAULT_PHONE_REGION", pattern=r"^[A-Z]{2}$"
    )
    # Checked here so that a misconfiguration stops the function at cold start rather than
    # failing every message it would have carried.
    payment_update_url_template: str | None = Field(
        default=None, alias="PAYMENT_UPDATE_URL_TEMPLATE", pattern=_OPTIONAL_URL
    )
    """e.g. ``https://pay.example/update?invoice={invoice_number}``."""
    balance_payment_url_template: str | None = Field(
        default=None, alias="BALANCE_PAYMENT_URL_TEMPLATE", pattern=_OPTIONAL_URL
    )
    refund_survey_url_template: str | None = Field(
        default=None, alias="REFUND_SURVEY_URL", pattern=_OPTIONAL_URL
    )
    loyalty_promo_code: str | None = Field(
        default=None, alias="LOYALTY_PROMO_CODE", pattern=r"^[A-Za-z0-9_-]{0,32}$"
    )
    loyalty_min_payments: int = Field(default=5, alias="LOYALTY_MIN_PAYMENTS", ge=1)
    offer_text_fr: str | None = Field(default=None, alias="OFFER_TEXT_FR", pattern=_ONE_LINE)
    offer_text_en: str | None = Field(default=None, alias="OFFER_TEXT_EN", pattern=_ONE_LINE)
    offer_url: str | None = Field(default=None, alias="OFFER_URL", pattern=_OPTIONAL_URL)


class FeedbackSettings(_Base):
    ledger_table: str = Field(alias="LEDGER_TABLE")
    customers_table: str = Field(alias="CUSTOMERS_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    notifications_queue_url: str = Field(alias="NOTIFICATIONS_QUEUE_URL")


class LinksSettings(SellerSettings):
    ledger_table: str = Field(alias="LEDGER_TABLE")
    archive_bucket: str = Field(alias="ARCHIVE_BUCKET")
    link_keys_secret_name: str = Field(alias="LINK_KEYS_SECRET_NAME")
    presigned_url_seconds: int = Field(default=300, alias="PRESIGNED_URL_SECONDS", le=3600)
    customers_table: str | None = Field(default=None, alias="CUSTOMERS_TABLE")
    """For the one-click unsubscribe (/u/{token}), which records consent withdrawal."""


class ReminderSettings(_Base):
    ledger_table: str = Field(alias="LEDGER_TABLE")
    notifications_queue_url: str = Field(alias="NOTIFICATIONS_QUEUE_URL")
    reminder_offsets_days: tuple[int, ...] = Field(
        default=(-3, 1, 7, 15), alias="REMINDER_OFFSETS_DAYS", min_length=1, max_length=12
    )
    """Days from the due date on which an open invoice is reminded (JSON list in the
    environment, e.g. ``[-3, 1, 7, 15]``: 3 days before, then 1, 7 and 15 days after)."""
    reminder_catch_up_days: int = Field(default=7, alias="REMINDER_CATCH_UP_DAYS", ge=1, le=60)
    """How long the last step may still be sent after its day, should runs be missed."""
    reminder_timezone: str = Field(default="Europe/Paris", alias="REMINDER_TIMEZONE")
    """Whose calendar says what "today" is for the daily run."""


class CustomerKeysSettings(_Base):
    """Per-customer keys (quittance.aws.customer_keys): readers need only the table; a function
    that seals new customers' data also names the KMS key that generates their data keys."""

    customers_table: str = Field(alias="CUSTOMERS_TABLE")
    customer_keys_kms_key_id: str | None = Field(default=None, alias="CUSTOMER_KEYS_KMS_KEY_ID")


class BankSettings(CustomerKeysSettings):
    """Bank statements in (quittance.bank): entries and review list in the ledger table,
    matched credits onto the payment-events queue, once per event like intake's."""

    ledger_table: str = Field(alias="LEDGER_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    payment_events_queue_url: str = Field(alias="PAYMENT_EVENTS_QUEUE_URL")
    audit_table: str | None = Field(default=None, alias="AUDIT_TABLE")
    """The staff API's routes are audited; the drop-folder import is not a staff call."""
    dedupe_days: int = Field(default=7, alias="WEBHOOK_DEDUPE_DAYS", ge=7)
    fiscal_timezone: str = Field(default="Europe/Paris", alias="FISCAL_TIMEZONE")
    """Whose calendar turns a value date into the moment the money arrived."""


class BankDropSettings(BankSettings):
    bank_statements_bucket: str = Field(alias="BANK_STATEMENTS_BUCKET")
    """Where a bank sync drops statements, under ``inbox/``."""


class BankApiSettings(BankDropSettings):
    """The staff API's bank routes: audited, and signing uploads into the drop prefix."""

    audit_table: str = Field(alias="AUDIT_TABLE")
    bank_statements_kms_key_id: str = Field(alias="BANK_STATEMENTS_KMS_KEY_ID")
    """The bucket's SSE-KMS key, which a presigned upload must name (its policy says so)."""


class IntakeRecordsSettings(ArchivePolicy, CustomerKeysSettings):
    """What intake keeps about the payer: sealed profile and raw delivery as evidence."""


class LookupSettings(ArchivePolicy, CustomerKeysSettings):
    """The lookup stage: gateway API keys in, payment events out; the payer's sealed profile
    and the API's answers as evidence (intake's archive policy)."""

    gateway_api_keys_name: str = Field(alias="GATEWAY_API_KEYS_NAME")
    gateway_lookups_queue_url: str = Field(alias="GATEWAY_LOOKUPS_QUEUE_URL")
    payment_events_queue_url: str = Field(alias="PAYMENT_EVENTS_QUEUE_URL")
    ops_alerts_topic_arn: str = Field(alias="OPS_ALERTS_TOPIC_ARN")
    secrets_max_age_seconds: int = Field(default=300, alias="SECRETS_MAX_AGE_SECONDS")
    gateway_timeout_seconds: float = Field(default=10.0, alias="GATEWAY_TIMEOUT_SECONDS", gt=0)
    stripe_api_base: str | None = Field(default=None, alias="STRIPE_API_BASE")
    """Only to point at a local Stripe API (tests, the local stack); Stripe's own otherwise."""
    gocardless_environment: str = Field(default="live", alias="GOCARDLESS_ENVIRONMENT")
    gocardless_api_base: str | None = Field(default=None, alias="GOCARDLESS_API_BASE")
    retry_base_seconds: int = Field(default=20, alias="LOOKUP_RETRY_BASE_SECONDS", ge=0)
    retry_max_seconds: int = Field(default=900, alias="LOOKUP_RETRY_MAX_SECONDS", ge=0, le=43200)


class PrivacyApiSettings(ArchivePolicy, CustomerKeysSettings):
    ledger_table: str = Field(alias="LEDGER_TABLE")
    audit_table: str | None = Field(default=None, alias="AUDIT_TABLE")
    exports_bucket: str = Field(alias="EXPORTS_BUCKET")
    """Where customers' export zips wait (1 day) for their presigned download."""


class ArchiveApiSettings(_Base):
    ledger_table: str = Field(alias="LEDGER_TABLE")
    exports_bucket: str = Field(alias="EXPORTS_BUCKET")
    """Where the accounting export's CSV waits (1 day) for its presigned download."""
    archive_kms_key_id: str = Field(alias="ARCHIVE_KMS_KEY_ID")


class InvoiceContactSettings(CustomerKeysSettings):
    """Where the staff API seals the contact details registered with an invoice."""


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
