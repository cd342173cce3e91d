"""EventBridge Scheduler (daily) → reminders: queue today's invoice reminders, each once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from quittance.aws.clients import make_client
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.queue import SqsQueue
from quittance.clock import Clock, SystemClock
from quittance.observability import instruments
from quittance.reminders import Cadence, run_reminders, summary
from quittance.settings import ReminderSettings, load

logger, metrics, tracer = instruments("reminders")


class ReminderRun(BaseModel):
    """The schedule's input. ``today`` is only given to replay a day (local runs, tests);
    the daily schedule sends ``{}`` and the day is taken in the business's time zone."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    today: date | None = None


@dataclass(frozen=True)
class Deps:
    settings: ReminderSettings
    ledger: LedgerTable
    notifications: SqsQueue
    cadence: Cadence
    clock: Clock


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    s = load(ReminderSettings)
    return Deps(
        settings=s,
        ledger=LedgerTable(s.ledger_table, make_client("dynamodb", s.aws_region)),
        notifications=SqsQueue(s.notifications_queue_url, make_client("sqs", s.aws_region)),
        cadence=Cadence(s.reminder_offsets_days, s.reminder_catch_up_days),
        clock=clock,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = ReminderRun.model_validate(event or {})
    d = deps()
    now = d.clock.now()
    today = run.today or now.astimezone(ZoneInfo(d.settings.reminder_timezone)).date()
    logger.set_correlation_id(f"reminders-{today.isoformat()}-{context.aws_request_id}")
    results = run_reminders(
        today,
        book=d.ledger,
        queue=d.notifications,
        cadence=d.cadence,
        now=now,
        correlation_id=f"reminders-{today.isoformat()}",
    )
    counts = summary(results)
    for outcome, count in counts.items():
        metrics.add_metric(name=f"reminders_{outcome}", unit=MetricUnit.Count, value=count)
    logger.info("reminders run", extra={"today": today.isoformat(), "outcomes": counts})
    return {
        "today": today.isoformat(),
        "outcomes": counts,
        "queued": [f"{r.invoice_number}#{r.step}" for r in results if r.outcome == "queued"],
    }
