"""notifications → notify: tell the customer once per (ledger change, channel)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from quittance.aws.clients import make_client
from quittance.aws.customers_table import CustomersTable
from quittance.aws.idempotency import consumer_config, once_per_key
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.mailer import SesMailer
from quittance.aws.secrets import JsonSecret
from quittance.links.tokens import LinkSigner
from quittance.models.messages import NotificationJob
from quittance.notifications.confirmation import Sender
from quittance.notifications.dispatch import SellerContact, notify_customer
from quittance.observability import instruments
from quittance.privacy.keyring import CustomerKeyring
from quittance.settings import NotifySettings, load

logger, metrics, tracer = instruments("notify")


class NotificationRecord(SqsRecordModel):
    body: Json[NotificationJob]


processor = BatchProcessor(event_type=EventType.SQS, model=NotificationRecord)
# The email channel is the only one so far; the key names it so SMS gets its own record.
idempotency = consumer_config("[change_id, 'email']")


@dataclass(frozen=True)
class Deps:
    settings: NotifySettings
    ledger: LedgerTable
    customers: CustomersTable
    mailer: SesMailer
    link_keys: JsonSecret
    dynamodb: Any


@cache
def deps() -> Deps:
    s = load(NotifySettings)
    dynamodb = make_client("dynamodb", s.aws_region)
    return Deps(
        settings=s,
        ledger=LedgerTable(s.ledger_table, dynamodb),
        customers=CustomersTable(
            s.customers_table,
            dynamodb,
            # Opens sealed contact fields; never mints a key (no KMS key id given).
            CustomerKeyring(s.customers_table, dynamodb, make_client("kms", s.aws_region), None),
        ),
        mailer=SesMailer(make_client("sesv2", s.aws_region), s.ses_configuration_set),
        link_keys=JsonSecret(s.link_keys_secret_name, make_client("secretsmanager", s.aws_region)),
        dynamodb=dynamodb,
    )


@cache
def notify_once() -> Callable[..., dict[str, Any]]:
    d = deps()
    return once_per_key(
        _notify,
        data_keyword="job",
        config=idempotency,
        table=d.settings.idempotency_table,
        client=d.dynamodb,
    )


def _notify(*, job: NotificationJob) -> dict[str, Any]:
    d = deps()
    s = d.settings
    delivery = notify_customer(
        job,
        profiles=d.customers,
        mailer=d.mailer,
        log=d.ledger,
        signer=LinkSigner.from_secret(d.link_keys.read()),
        sender=Sender(email=s.sender_email, name=s.seller_name),
        seller=SellerContact(name=s.seller_name, email=s.seller_email, phone=s.seller_phone),
        public_base_url=str(s.public_base_url),
        link_ttl=timedelta(days=s.link_ttl_days),
        now=datetime.now(UTC),
    )
    metrics.add_metric(name=f"messages_{delivery.status}", unit=MetricUnit.Count, value=1)
    logger.info(
        "customer notified",
        extra={"channel": delivery.channel, "status": delivery.status, "kind": job.kind},
    )
    return {"channel": delivery.channel, "status": delivery.status}


def record_handler(record: NotificationRecord) -> dict[str, Any]:
    job = record.body
    logger.set_correlation_id(job.correlation_id)
    return notify_once()(job=job)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
