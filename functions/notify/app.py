"""notifications → notify: tell the customer once per (ledger change, channel)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.clients import make_client
from quittance.aws.consumer import SqsConsumer
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.mailer import SesMailer
from quittance.aws.secrets import JsonSecret
from quittance.aws.seller_parameter import SellerProfileParameter
from quittance.aws.sms import SnsSms
from quittance.clock import Clock, SystemClock
from quittance.errors import SentNotLogged
from quittance.links.tokens import LinkSigner
from quittance.models.messages import NotificationJob
from quittance.notifications.dispatch import (
    CustomerLinks,
    MessageOptions,
    NotifyPorts,
    notify_customer,
)
from quittance.notifications.email_kit import Letterhead, SellerContact, Sender
from quittance.observability import instruments
from quittance.seller.identity import SellerIdentities, SellerIdentity
from quittance.settings import NotifySettings, load

logger, metrics, tracer = instruments("notify")


class NotificationRecord(SqsRecordModel):
    body: Json[NotificationJob]


# One record per ledger change; each channel is sent once more finely through the message log
# (a redelivery after a partial send sends only the channel still missing).
# The channels are part of the key: an SMS fallback after a bounce is the same change again.
consumer = SqsConsumer(NotificationRecord, key_jmespath="[change_id, channels]")


@dataclass(frozen=True)
class Deps:
    settings: NotifySettings
    ledger: LedgerTable
    customers: CustomersTable
    mailer: SesMailer
    sms: SnsSms
    archive: ArchiveBucket | None
    link_keys: JsonSecret
    sellers: SellerIdentities
    dynamodb: Any
    clock: Clock


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    s = load(NotifySettings)
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
        mailer=SesMailer(make_client("sesv2", s.aws_region), s.ses_configuration_set, clock),
        sms=SnsSms(make_client("sns", s.aws_region), s.sms_sender_id),
        archive=ArchiveBucket(s.archive_bucket, make_client("s3", s.aws_region))
        if s.archive_bucket
        else None,
        link_keys=JsonSecret(s.link_keys_secret_name, make_client("secretsmanager", s.aws_region)),
        sellers=SellerIdentities(
            s,
            SellerProfileParameter(
                s.seller_profile_parameter,
                make_client("ssm", s.aws_region),
                max_age=s.seller_profile_max_age_seconds,
            )
            if s.seller_profile_parameter
            else None,
        ),
        dynamodb=dynamodb,
        clock=clock,
    )


@cache
def notify_once() -> Callable[..., dict[str, Any]]:
    d = deps()
    return consumer.once(
        _notify,
        data_keyword="job",
        table=d.settings.idempotency_table,
        client=d.dynamodb,
        operation="notify.job",
    )


def _notify(*, job: NotificationJob) -> dict[str, Any]:
    d = deps()
    s = d.settings
    seller = d.sellers.current()
    deliveries = notify_customer(
        job,
        NotifyPorts(
            profiles=d.customers,
            mailer=d.mailer,
            log=d.ledger,
            sms=d.sms,
            documents=d.ledger,
            archive=d.archive,
            invoices=d.ledger,
        ),
        letterhead=Letterhead.of(
            Sender(email=s.sender_email, name=seller.name),
            SellerContact(name=seller.name, email=seller.email, phone=seller.phone),
        ),
        links=CustomerLinks(
            LinkSigner.from_secret(d.link_keys.read()),
            str(s.public_base_url),
            timedelta(days=s.link_ttl_days),
        ),
        now=d.clock.now(),
        options=options(s, seller),
    )
    for delivery in deliveries:
        metrics.add_metric(name=f"messages_{delivery.status}", unit=MetricUnit.Count, value=1)
        logger.info(
            "customer notified",
            extra={
                "channel": delivery.channel,
                "status": delivery.status,
                "reason": delivery.reason,
                "kind": job.kind,
            },
        )
    return {"deliveries": [{"channel": x.channel, "status": x.status} for x in deliveries]}


def options(s: NotifySettings, seller: SellerIdentity | None = None) -> MessageOptions:
    return MessageOptions(
        payment_update_url_template=s.payment_update_url_template,
        balance_payment_url_template=s.balance_payment_url_template,
        refund_survey_url_template=s.refund_survey_url_template,
        loyalty_promo_code=s.loyalty_promo_code,
        loyalty_min_payments=s.loyalty_min_payments,
        offer_text={
            lang: text for lang, text in (("fr", s.offer_text_fr), ("en", s.offer_text_en)) if text
        },
        offer_url=s.offer_url,
        sms_brand=(seller.sms_sender if seller else None) or s.sms_sender_id,
        sms_sender_id=seller.sms_sender if seller else None,
        refund_delays=seller.refund_delays if seller else None,
        attach_pdf=seller.attach_pdf if seller else False,
        default_phone_region=s.default_phone_region,
    )


def record_handler(record: NotificationRecord) -> dict[str, Any]:
    job = record.body
    logger.set_correlation_id(job.correlation_id)
    try:
        return notify_once()(job=job)
    except SentNotLogged as unlogged:
        # The retry sends this message again: say so, so duplicates are never unexplained.
        metrics.add_metric(name="messages_sent_not_logged", unit=MetricUnit.Count, value=1)
        logger.warning(
            SentNotLogged.log_line, extra={"channel": unlogged.channel, "kind": job.kind}
        )
        raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consumer.process(event, context, record_handler)
