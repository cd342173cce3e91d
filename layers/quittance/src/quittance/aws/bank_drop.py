"""What S3 tells the bank statements queue, and one queue record imported: each file it
names goes through :func:`quittance.bank.uploads.import_dropped`; a refused file is logged
with its key and reason and counted (``bank_statements_refused``), not retried (nothing was
imported, and retrying cannot help)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ConfigDict, Json

from quittance.bank.review import BankDesk
from quittance.bank.statement import StatementRefused
from quittance.bank.uploads import DroppedFiles, ImportStatuses, import_dropped


class _Object(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: str


class _Entity(BaseModel):
    model_config = ConfigDict(extra="ignore")

    object: _Object | None = None


class _Identity(BaseModel):
    model_config = ConfigDict(extra="ignore")

    principalId: str


class S3Record(BaseModel):
    """Only what the import reads of an S3 event record (Powertools' ``S3RecordModel`` also
    requires fields it never uses, e.g. ``requestParameters``; moto's events, hence the
    local stack's, leave them out)."""

    model_config = ConfigDict(extra="ignore")

    eventName: str
    s3: _Entity
    userIdentity: _Identity | None = None


class S3Notification(BaseModel):
    """What S3 sends the queue: object records, or once ``{"Event": "s3:TestEvent"}``."""

    model_config = ConfigDict(extra="ignore")

    Records: list[S3Record] = []
    Event: str | None = None


class DropRecord(SqsRecordModel):
    body: Json[S3Notification]


def import_record(
    record: DropRecord,
    *,
    desk: BankDesk,
    files: DroppedFiles,
    statuses: ImportStatuses,
    now: datetime,
    logger: Logger,
    metrics: Metrics,
) -> int:
    """Import every file the record names; how many were imported."""
    if record.body.Event == "s3:TestEvent":
        logger.info("s3 test event: the drop prefix is wired")
        return 0
    imported = 0
    for s3 in record.body.Records:
        if s3.s3.object is None:
            logger.warning("s3 record without an object", extra={"event": s3.eventName})
            continue
        key = unquote_plus(s3.s3.object.key)
        writer = f"s3:{s3.userIdentity.principalId}" if s3.userIdentity else None
        try:
            report = import_dropped(
                key, writer=writer, files=files, desk=desk, statuses=statuses, now=now
            )
        except StatementRefused as exc:
            logger.error("statement refused", extra={"key": key, "reason": str(exc)})
            metrics.add_metric(name="bank_statements_refused", unit=MetricUnit.Count, value=1)
            continue
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
    return imported
