"""notifications → notify: tell the customer once per (ledger change, channel)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from quittance.aws.clients import make_client
from quittance.aws.consumer import SqsConsumer
from quittance.aws.notify_wiring import NotifyDeps, notify_deps
from quittance.clock import Clock, SystemClock
from quittance.errors import SentNotLogged
from quittance.links.tokens import LinkSigner
from quittance.models.messages import NotificationJob
from quittance.notifications.dispatch import (
    CustomerLinks,
    message_options,
    notify_customer,
    seller_letterhead,
)
from quittance.observability import instruments
from quittance.settings import NotifySettings, load

logger, metrics, tracer = instruments("notify")


class NotificationRecord(SqsRecordModel):
    body: Json[NotificationJob]


# One record per ledger change; each channel is sent once more finely through the message log
# (a redelivery after a partial send sends only the channel still missing).
# The channels are part of the key: an SMS fallback after a bounce is the same change again.
consumer = SqsConsumer(NotificationRecord, key_jmespath="[change_id, channels]")


@cache
def deps() -> NotifyDeps:
    return wire(SystemClock())


def wire(clock: Clock) -> NotifyDeps:
    # make_client by this module's name: a test may watch the clients notify makes.
    return notify_deps(load(NotifySettings), clock, make_client)


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
    d, s = deps(), deps().settings
    seller = d.sellers.current()
    deliveries = notify_customer(
        job,
        d.ports,
        letterhead=seller_letterhead(s.sender_email, seller),
        links=CustomerLinks(
            LinkSigner.from_secret(d.link_keys.read()),
            str(s.public_base_url),
            timedelta(days=s.link_ttl_days),
        ),
        now=d.clock.now(),
        options=message_options(s, seller),
    )
    for x in deliveries:
        metrics.add_metric(name=f"messages_{x.status}", unit=MetricUnit.Count, value=1)
        logger.info(
            "customer notified",
            extra={"channel": x.channel, "status": x.status, "reason": x.reason, "kind": job.kind},
        )
    return {"deliveries": [{"channel": x.channel, "status": x.status} for x in deliveries]}


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
