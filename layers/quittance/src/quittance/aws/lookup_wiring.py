"""The lookup stage's adapters, built from its settings. The gateways' API clients are not
built here: ``quittance.gateways.clients`` (stripe, gocardless-pro) ships in the lookup
function's own package only, so the handler builds them from :func:`gateway_api_keys`."""

from __future__ import annotations

from quittance.archive.retention import RetentionPolicy
from quittance.aws.alerts import OpsAlerts
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.evidence_store import EvidenceStore
from quittance.aws.queue import SqsQueue
from quittance.aws.secrets import JsonSecret
from quittance.clock import Clock
from quittance.gateways.stage import GatewayApis, KeptReads, LookupStage
from quittance.settings import LookupSettings


def gateway_api_keys(settings: LookupSettings) -> JsonSecret:
    """The ``GatewayApiKeys`` secret (``{"stripe": "rk_…", "gocardless": "…"}``), read
    through its cache so that a rotated key is used within its max age."""
    return JsonSecret(
        settings.gateway_api_keys_name,
        make_client("secretsmanager", settings.aws_region),
        max_age=settings.secrets_max_age_seconds,
    )


def lookup_stage(settings: LookupSettings, clock: Clock, apis: GatewayApis) -> LookupStage:
    s = settings
    dynamodb = make_client("dynamodb", s.aws_region)
    sqs = make_client("sqs", s.aws_region)
    s3 = make_client("s3", s.aws_region)
    # Seals what the gateway tells of a payer, minting the key of a payer met for the first time.
    keyring = CustomerKeyring(
        s.customers_table,
        dynamodb,
        make_client("kms", s.aws_region),
        s.customer_keys_kms_key_id,
        clock=clock.now,
    )
    return LookupStage(
        apis=apis,
        profiles=CustomersTable(s.customers_table, dynamodb, keyring),
        payment_events=SqsQueue(s.payment_events_queue_url, sqs),
        lookups=SqsQueue(s.gateway_lookups_queue_url, sqs),
        alerts=OpsAlerts(s.ops_alerts_topic_arn, make_client("sns", s.aws_region)),
        reads=KeptReads(
            evidence=EvidenceStore(
                ArchiveBucket(s.archive_bucket, s3, s.archive_kms_key_id), s3, keyring
            ),
            retention=RetentionPolicy(
                mode=s.retention_mode,
                minimum_days=s.retention_days,
                legal_years=s.legal_retention_years,
                fiscal_year_end_month=s.fiscal_year_end_month,
                fiscal_timezone=s.fiscal_timezone,
            ),
            clock=clock,
        ),
        retry_base_seconds=s.retry_base_seconds,
        retry_max_seconds=s.retry_max_seconds,
    )
