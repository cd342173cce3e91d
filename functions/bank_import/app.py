"""bank statements bucket (inbox/) → S3 event → queue → bank_import: the statement a bank
sync dropped, or staff uploaded through the staff API's presigned POST, is imported as
`quittance bank import` does (quittance.bank.uploads), its outcome kept in the file's status
record. Importing is idempotent per bank entry: a redelivered or re-dropped file changes
nothing (quittance.aws.bank_drop reads the S3 notifications)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance.aws.bank_drop import DropRecord, import_record
from quittance.aws.bank_imports import ImportStatusTable
from quittance.aws.bank_wiring import bank_desk, payment_events
from quittance.aws.clients import make_client
from quittance.aws.consumer import SqsConsumer
from quittance.aws.publisher import DedupedPublisher
from quittance.aws.statement_drop import StatementDrop
from quittance.bank.review import BankDesk
from quittance.clock import Clock, SystemClock
from quittance.observability import instruments
from quittance.settings import BankDropSettings, load

logger, metrics, tracer = instruments("bank_import")
# The consumer skeleton asks for a key; records are not wrapped in Powertools idempotency
# here because the import itself is idempotent per bank entry (quittance.bank.review).
consumer = SqsConsumer(DropRecord, key_jmespath="message_id")


@dataclass(frozen=True)
class Deps:
    desk: BankDesk
    events: DedupedPublisher
    files: StatementDrop
    statuses: ImportStatusTable
    clock: Clock


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    s = load(BankDropSettings)
    events = payment_events(s)
    return Deps(
        desk=bank_desk(s, clock, events),
        events=events,
        files=StatementDrop(s.bank_statements_bucket, make_client("s3", s.aws_region)),
        statuses=ImportStatusTable(s.ledger_table, make_client("dynamodb", s.aws_region)),
        clock=clock,
    )


def record_handler(record: DropRecord) -> dict[str, Any]:
    d = deps()
    imported = import_record(
        record,
        desk=d.desk,
        files=d.files,
        statuses=d.statuses,
        now=d.clock.now(),
        logger=logger,
        metrics=metrics,
    )
    return {"imported": imported}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    deps().events.config.register_lambda_context(context)
    return consumer.process(event, context, record_handler)
