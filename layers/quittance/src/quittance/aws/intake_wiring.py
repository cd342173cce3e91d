"""Intake's adapters, built from its settings: the signing secrets, the two queues behind one
dedupe record per event, and where the payer's sealed profile and evidence go."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance.archive.retention import RetentionPolicy
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.evidence_store import EvidenceStore
from quittance.aws.idempotency import persistence_layer
from quittance.aws.publisher import DedupedPublisher
from quittance.aws.queue import SqsQueue
from quittance.aws.secrets import JsonSecret
from quittance.aws.webhook_secrets import WebhookSecrets
from quittance.clock import Clock
from quittance.intake import CustomerRecords
from quittance.settings import IntakeRecordsSettings, IntakeSettings, load


@dataclass(frozen=True)
class IntakeDeps:
    settings: IntakeSettings
    secrets: WebhookSecrets
    publisher: DedupedPublisher
    lookups: DedupedPublisher | None
    records: CustomerRecords
    clock: Clock

    def register_lambda_context(self, context: LambdaContext) -> None:
        """So that an event whose publication the timeout cut short is not taken, on its
        redelivery, for one still in progress."""
        self.publisher.config.register_lambda_context(context)
        if self.lookups is not None:
            self.lookups.config.register_lambda_context(context)


def wire(clock: Clock) -> IntakeDeps:
    settings = load(IntakeSettings)
    region = settings.aws_region
    kept = load(IntakeRecordsSettings)
    dynamodb = make_client("dynamodb", region)
    sqs = make_client("sqs", region)
    # One dedupe record per (provider, event id) for both queues: an event goes to one.
    dedupe = persistence_layer(settings.idempotency_table, dynamodb)
    window = settings.dedupe_days * 86400
    s3 = make_client("s3", region)
    keyring = CustomerKeyring(
        kept.customers_table,
        dynamodb,
        make_client("kms", region),
        kept.customer_keys_kms_key_id,
        clock=clock.now,
    )
    return IntakeDeps(
        settings=settings,
        secrets=WebhookSecrets(
            JsonSecret(
                settings.webhook_secrets_name,
                make_client("secretsmanager", region),
                max_age=settings.secrets_max_age_seconds,
            )
        ),
        publisher=DedupedPublisher(
            SqsQueue(settings.payment_events_queue_url, sqs), dedupe, window_seconds=window
        ),
        lookups=DedupedPublisher(
            SqsQueue(settings.gateway_lookups_queue_url, sqs), dedupe, window_seconds=window
        )
        if settings.gateway_lookups_queue_url
        else None,
        records=CustomerRecords(
            profiles=CustomersTable(kept.customers_table, dynamodb, keyring),
            evidence=EvidenceStore(
                ArchiveBucket(kept.archive_bucket, s3, kept.archive_kms_key_id), s3, keyring
            ),
            retention=RetentionPolicy(
                mode=kept.retention_mode,
                minimum_days=kept.retention_days,
                legal_years=kept.legal_retention_years,
                fiscal_year_end_month=kept.fiscal_year_end_month,
                fiscal_timezone=kept.fiscal_timezone,
            ),
        ),
        clock=clock,
    )
