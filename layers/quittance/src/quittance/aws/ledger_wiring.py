"""The ledger stage's adapters (the ledger table, the profiles, the receipt-jobs and
notifications queues, the ops alerts topic), built from their settings for the ledger
handler's composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from quittance.aws.alerts import OpsAlerts
from quittance.aws.clients import make_client
from quittance.aws.customers_table import CustomersTable
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.queue import SqsQueue
from quittance.clock import Clock
from quittance.ledger.stage import LedgerStage
from quittance.settings import LedgerSettings

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient


@dataclass(frozen=True)
class LedgerDeps:
    settings: LedgerSettings
    stage: LedgerStage
    receipt_jobs: SqsQueue
    """The stage's own receipt-jobs queue (tests make it unreachable for a while)."""
    dynamodb: DynamoDBClient
    """The stage's DynamoDB client, for the idempotency of each event (and the bench)."""
    clock: Clock


def ledger(s: LedgerSettings, clock: Clock) -> LedgerDeps:
    dynamodb = make_client("dynamodb", s.aws_region)
    sqs = make_client("sqs", s.aws_region)
    receipt_jobs = SqsQueue(s.receipt_jobs_queue_url, sqs)
    return LedgerDeps(
        settings=s,
        stage=LedgerStage(
            store=LedgerTable(s.ledger_table, dynamodb),
            profiles=CustomersTable(s.customers_table, dynamodb),
            receipt_jobs=receipt_jobs,
            notifications=SqsQueue(s.notifications_queue_url, sqs),
            alerts=OpsAlerts(s.ops_alerts_topic_arn, make_client("sns", s.aws_region)),
            calendar=s.fiscal_timezone,
        ),
        receipt_jobs=receipt_jobs,
        dynamodb=dynamodb,
        clock=clock,
    )
