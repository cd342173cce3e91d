"""receipt-jobs → receipts: render the PDF/A receipt once, lock it in the archive, hand on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from quittance.archive.retention import RetentionPolicy
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.clients import make_client
from quittance.aws.consumer import SqsConsumer
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.queue import SqsQueue
from quittance.aws.secrets import JsonSecret
from quittance.aws.seller_logos import SellerLogos
from quittance.aws.seller_parameter import SellerProfileParameter
from quittance.clock import Clock, SystemClock
from quittance.links.tokens import LinkSigner
from quittance.links.urls import receipt_link
from quittance.models.messages import ReceiptJob
from quittance.observability import instruments
from quittance.receipts.document import Seller
from quittance.receipts.issuance import IssuancePorts, Sellers, issue_receipt, notification_for
from quittance.receipts.render import ReceiptRenderer
from quittance.receipts.sellers import FixedSeller, ProfileSellers
from quittance.seller import SellerProfileRefused
from quittance.settings import ReceiptsSettings, load

logger, metrics, tracer = instruments("receipts")


class ReceiptJobRecord(SqsRecordModel):
    body: Json[ReceiptJob]


consumer = SqsConsumer(ReceiptJobRecord, key_jmespath="receipt_number")


@dataclass(frozen=True)
class Deps:
    settings: ReceiptsSettings
    ledger: LedgerTable
    customers: CustomersTable
    archive: ArchiveBucket
    notifications: SqsQueue
    renderer: ReceiptRenderer
    policy: RetentionPolicy
    sellers: Sellers
    dynamodb: Any
    link_keys: JsonSecret
    clock: Clock


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    s = load(ReceiptsSettings)
    dynamodb = make_client("dynamodb", s.aws_region)
    return Deps(
        settings=s,
        ledger=LedgerTable(s.ledger_table, dynamodb),
        customers=CustomersTable(
            s.customers_table,
            dynamodb,
            # Opens sealed contact fields; never mints a key (no KMS key id given).
            CustomerKeyring(
                s.customers_table, dynamodb, make_client("kms", s.aws_region), None, clock=clock.now
            ),
        ),
        archive=ArchiveBucket(
            s.archive_bucket, make_client("s3", s.aws_region), s.archive_kms_key_id
        ),
        notifications=SqsQueue(s.notifications_queue_url, make_client("sqs", s.aws_region)),
        renderer=ReceiptRenderer(),
        policy=RetentionPolicy(
            mode=s.retention_mode,
            minimum_days=s.retention_days,
            legal_years=s.legal_retention_years,
            fiscal_year_end_month=s.fiscal_year_end_month,
            fiscal_timezone=s.fiscal_timezone,
        ),
        sellers=sellers(s),
        dynamodb=dynamodb,
        link_keys=JsonSecret(s.link_keys_secret_name, make_client("secretsmanager", s.aws_region)),
        clock=clock,
    )


def sellers(s: ReceiptsSettings) -> Sellers:
    if s.seller_profile_parameter:
        return ProfileSellers(
            s.stage,
            SellerProfileParameter(
                s.seller_profile_parameter,
                make_client("ssm", s.aws_region),
                max_age=s.seller_profile_max_age_seconds,
            ),
            SellerLogos(s.archive_bucket, make_client("s3", s.aws_region)),
            allow_demo=s.seller_demo_allowed,
        )
    legacy = Seller(
        name=s.seller_name,
        address=s.seller_address,
        siren=s.seller_siren,
        vat_number=s.seller_vat,
        email=s.seller_email,
        phone=s.seller_phone,
        brand_colour=s.brand_colour,
    )
    return FixedSeller(s.stage, legacy, allow_demo=s.seller_demo_allowed)


def link_signer() -> LinkSigner:
    return LinkSigner.from_secret(deps().link_keys.read())


@cache
def issue_once() -> Callable[..., dict[str, Any]]:
    """One archived receipt per receipt number, whatever the redeliveries."""
    d = deps()
    return consumer.once(
        _issue,
        data_keyword="job",
        table=d.settings.idempotency_table,
        client=d.dynamodb,
        operation="receipts.job",
    )


def _issue(*, job: ReceiptJob) -> dict[str, Any]:
    d = deps()
    try:
        return _issue_as_seller(job, d)
    except SellerProfileRefused as refused:
        # The job fails: SQS retries it, then keeps it in the DLQ until redriven once a
        # profile is set. The alarm SellerProfileRefusedAlarm watches this metric.
        logger.error(
            "no document issued: seller profile refused",
            extra={"receipt_number": job.receipt_number, "reason": refused.reason},
        )
        metrics.add_metric(name="seller_profile_refused", unit=MetricUnit.Count, value=1)
        raise


def _issue_as_seller(job: ReceiptJob, d: Deps) -> dict[str, Any]:
    issued = issue_receipt(
        job,
        IssuancePorts(ledger=d.ledger, profiles=d.customers, sellers=d.sellers, archive=d.archive),
        renderer=d.renderer,
        policy=d.policy,
        link_for=lambda number, expires: receipt_link(
            str(d.settings.public_base_url), link_signer(), number, expires
        ),
        now=d.clock.now(),
    )
    d.notifications.send(notification_for(job).model_dump_json(), correlation_id=job.correlation_id)
    if issued.rendered_now:
        metrics.add_metric(name="receipts_archived", unit=MetricUnit.Count, value=1)
    logger.info(
        "receipt archived",
        extra={"receipt_number": job.receipt_number, "rendered_now": issued.rendered_now},
    )
    return {
        "receipt_number": job.receipt_number,
        "archive": issued.archive,
        "translation": issued.translation,
    }


def record_handler(record: ReceiptJobRecord) -> dict[str, Any]:
    job = record.body
    logger.set_correlation_id(job.correlation_id)
    return issue_once()(job=job)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consumer.process(event, context, record_handler)
