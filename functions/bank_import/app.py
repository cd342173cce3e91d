"""bank statements bucket (inbox/) → S3 event → queue → bank_import: the statement a bank
sync dropped is read and imported like `quittance bank import` does (matched credits onto
the payment-events queue, the rest on the review list). Importing is idempotent per bank
entry, so a redelivered or re-dropped file changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import S3RecordModel, SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Json

from quittance.aws.bank_wiring import bank_desk, payment_events
from quittance.aws.clients import make_client
from quittance.aws.consumer import SqsConsumer
from quittance.aws.publisher import DedupedPublisher
from quittance.aws.statement_drop import StatementDrop
from quittance.bank.review import BankDesk
from quittance.bank.statement import StatementRefused, parse_statement
from quittance.clock import Clock, SystemClock
from quittance.observability import instruments
from quittance.settings import BankDropSettings, load

logger, metrics, tracer = instruments("bank_import")


class S3Notification(BaseModel):
    """What S3 sends the queue: object records, or once ``{"Event": "s3:TestEvent"}``."""

    model_config = ConfigDict(extra="ignore")

    Records: list[S3RecordModel] = []
    Event: str | None = None


class DropRecord(SqsRecordModel):
    body: Json[S3Notification]


# The consumer skeleton asks for a key; records are not wrapped in Powertools idempotency
# here because the import itself is idempotent per bank entry (quittance.bank.review).
consumer = SqsConsumer(DropRecord, key_jmespath="message_id")


@dataclass(frozen=True)
class Deps:
    desk: BankDesk
    events: DedupedPublisher
    drop: StatementDrop
    clock: Clock


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    settings = load(BankDropSettings)
    events = payment_events(settings)
    return Deps(
        desk=bank_desk(settings, clock, events),
        events=events,
        drop=StatementDrop(settings.bank_statements_bucket, make_client("s3", settings.aws_region)),
        clock=clock,
    )


def record_handler(record: DropRecord) -> dict[str, Any]:
    if record.body.Event == "s3:TestEvent":
        logger.info("s3 test event: the drop prefix is wired")
        return {"imported": 0}
    imported = 0
    for s3 in record.body.Records:
        if s3.s3.object is None:
            logger.warning("s3 record without an object", extra={"event": s3.eventName})
            continue
        key = unquote_plus(s3.s3.object.key)
        try:
            statement = parse_statement(deps().drop.read(key))
        except StatementRefused as exc:
            # Nothing was imported; retrying cannot help. Staff see it in the log and metric.
            logger.error("statement refused", extra={"key": key, "reason": str(exc)})
            metrics.add_metric(name="bank_statements_refused", unit=MetricUnit.Count, value=1)
            continue
        report = deps().desk.import_statement(
            statement, now=deps().clock.now(), correlation_id=f"s3:{key}"
        )
        imported += 1
        metrics.add_metric(name="bank_entries_matched", unit=MetricUnit.Count, value=report.matched)
        metrics.add_metric(
            name="bank_entries_to_review", unit=MetricUnit.Count, value=report.to_review
        )
        logger.info(
            "statement imported",
            extra={
                "key": key,
                "statement": report.statement,
                "entries": report.entries,
                "matched": report.matched,
                "to_review": report.to_review,
                "already_known": report.already_known,
            },
        )
    return {"imported": imported}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    deps().events.config.register_lambda_context(context)
    return consumer.process(event, context, record_handler)
