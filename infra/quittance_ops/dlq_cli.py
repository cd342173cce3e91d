"""``quittance dlq list | show | redrive``: the stack's dead-letter queues, seen and redriven
with the real SQS API, against the local stack (``out/local/stack.json``) or a deployed one
(``--aws-stack NAME``, with the caller's own AWS credentials).

Each DLQ is a queue of the stack whose logical id ends in ``DLQ``; its source is the queue
whose ``RedrivePolicy`` names it (SQS's own ``ListDeadLetterSourceQueues``). A DLQ that no
queue redrives into (``RemindersDLQ``: EventBridge Scheduler's and the reminders function's
failed deliveries) is listed and shown, never redriven: there is no queue to send it back to.

What a redrive guarantees, and how: :mod:`quittance_ops.dead_letters`."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from quittance_ops.dead_letters import (
    PEEK_HOLD_SECONDS,
    REDRIVE_HOLD_SECONDS,
    DeadLetterQueue,
    DeadLetters,
    RedriveReport,
    UnknownQueue,
    aws_error_code,
    describe_dead_letters,
)
from quittance_ops.options import AwsOpt, JsonOpt, StackOpt, YesOpt, emit
from quittance_ops.project import local_stack_json
from quittance_ops.target import local_target

dlq_app = typer.Typer(
    no_args_is_help=True,
    help="Dead-letter queues: what failed, and sending it back to its source queue.",
)


def _deployed_queues(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """Logical id → queue URL of every queue of a deployed stack (the PhysicalResourceId of
    an AWS::SQS::Queue is its URL)."""
    queues: dict[str, str] = {}
    paginator = cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            if (
                resource["ResourceType"] == "AWS::SQS::Queue"
                and resource.get("PhysicalResourceId")
                and resource.get("ResourceStatus") != "DELETE_COMPLETE"
            ):
                queues[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    return queues


def open_dead_letters(stack: Path | None, aws_stack: str | None) -> DeadLetters:
    import boto3

    if aws_stack:
        session = boto3.session.Session()
        try:
            queues = _deployed_queues(session.client("cloudformation"), aws_stack)
        except ClientError as exc:
            raise typer.BadParameter(f"stack {aws_stack}: {exc}") from exc
        sqs = session.client("sqs")
    else:
        target = local_target(local_stack_json(stack))
        sqs = target.client("sqs")
        # stack.json names every resource; a queue's value is its URL.
        queues = {k: v for k, v in target.resources.items() if "://" in str(v)}
    return DeadLetters(sqs, describe_dead_letters(sqs, queues))


@contextmanager
def _aws_errors() -> Iterator[None]:
    """An AWS refusal (a missing permission, a throttled call) as one line and exit 1."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        Console(stderr=True).print(f"[red]AWS refused[/]: {aws_error_code(exc)}: {exc}")
        raise typer.Exit(code=1) from exc


def _select(dead_letters: DeadLetters, queue: str | None) -> list[DeadLetterQueue]:
    try:
        return dead_letters.select(queue)
    except UnknownQueue as exc:
        raise typer.BadParameter(str(exc), param_hint="--queue") from exc


def _console() -> Console:
    # Piped to a file or a log there is no terminal width: keep each row on one line there.
    return Console(width=None if sys.stdout.isatty() else 200)


def _source_label(queue: DeadLetterQueue) -> str:
    if not queue.sources:
        return "none"
    return ", ".join(s.name for s in queue.sources)


# ------------------------------------------------------------------------- commands
QueueOpt = Annotated[
    str | None,
    typer.Option(
        "--queue",
        help="One DLQ: its logical id (PaymentEventsDLQ) or alias (payment-events); default all",
    ),
]


@dlq_app.command("list")
def list_queues(stack: StackOpt = None, aws_stack: AwsOpt = None, as_json: JsonOpt = False) -> None:
    """Every DLQ of the stack: messages waiting and in flight, and its source queue.

    The age of the oldest message is not shown: SQS gives it only as a CloudWatch metric
    (ApproximateAgeOfOldestMessage), not through the queue; `dlq show` prints sent times."""
    with _aws_errors():
        dead_letters = open_dead_letters(stack, aws_stack)
        rows = []
        for queue in dead_letters.queues:
            counts = dead_letters.counts(queue)
            rows.append(
                {
                    "queue": queue.name,
                    "alias": queue.alias,
                    "visible": counts.visible,
                    "in_flight": counts.in_flight,
                    "source": queue.source.name if queue.source else None,
                    "sources": [s.name for s in queue.sources],
                    "redrive": queue.why_not_redrivable() is None,
                    "url": queue.url,
                }
            )
    if emit(as_json, rows):
        return
    table = Table(title="dead-letter queues")
    for column in ("DLQ", "alias", "visible", "in flight", "source", "redrive"):
        table.add_column(column)
    for queue, row in zip(dead_letters.queues, rows, strict=True):
        table.add_row(
            queue.name,
            queue.alias,
            str(row["visible"]),
            str(row["in_flight"]),
            _source_label(queue),
            "yes" if row["redrive"] else "[yellow]no[/]",
        )
    _console().print(table)


@dlq_app.command("show")
def show(
    *,
    queue: QueueOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="At most N messages per DLQ")] = 10,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Peek at DLQ messages without consuming them.

    Prints each message's id, receive count (each peek adds one), dates and the non-personal
    fields of its body (ids and numbers; never a name, email, phone or address)."""
    with _aws_errors():
        dead_letters = open_dead_letters(stack, aws_stack)
        selected = _select(dead_letters, queue)
        results = [(q, dead_letters.peek(q, limit)) for q in selected]
    as_rows = [
        {
            "queue": q.name,
            "messages": [vars(m) for m in result.messages],
            "still_hidden": result.still_hidden,
        }
        for q, result in results
    ]
    if emit(as_json, as_rows):
        return
    console = _console()
    for q, result in results:
        if not result.messages:
            console.print(f"{q.name}: empty")
            continue
        table = Table(title=f"{q.name} ({len(result.messages)} shown)")
        for column in ("message id", "receives", "sent (UTC)", "first received", "summary"):
            table.add_column(column)
        for m in result.messages:
            table.add_row(
                m.message_id,
                str(m.receive_count),
                (m.sent_at or "")[:19].replace("T", " "),
                (m.first_received_at or "")[:19].replace("T", " "),
                " ".join(f"{k}={v}" for k, v in m.summary.items()) or "(no field shown)",
            )
        console.print(table)
        if result.still_hidden:
            console.print(
                f"[yellow]{result.still_hidden} message(s) stay hidden for up to "
                f"{PEEK_HOLD_SECONDS} s[/] (SQS refused to make them visible again at once)"
            )


@dlq_app.command("redrive")
def redrive(
    *,
    queue: QueueOpt = None,
    max_messages: Annotated[
        int | None, typer.Option("--max", min=1, help="At most N messages per DLQ")
    ] = None,
    yes: YesOpt = False,
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send DLQ messages back to their source queue; exit 1 if any could not be moved.

    Same body and message attributes; each is deleted from the DLQ only once SQS accepted
    its copy (at-least-once: an interrupted run can deliver a message twice, never lose
    one). A message that fails again returns to the DLQ by the source's redrive policy."""
    if as_json and not yes:
        # A script asking for JSON gets no prompt: it must say --yes, not redrive by default.
        raise typer.BadParameter("--json redrives without asking: add --yes to confirm")
    with _aws_errors():
        dead_letters = open_dead_letters(stack, aws_stack)
        selected = _select(dead_letters, queue)
        err = Console(stderr=True)
        if queue is not None and (why := selected[0].why_not_redrivable()):
            err.print(f"[red]not redriven[/]: {why}")
            raise typer.Exit(code=2)
        movable = [q for q in selected if q.why_not_redrivable() is None]
        skipped = [q for q in selected if q.why_not_redrivable() is not None]
        if movable and not yes:
            plan = ", ".join(
                f"{q.name} → {_source_label(q)} (about {dead_letters.counts(q).visible} message(s))"
                for q in movable
            )
            if not typer.confirm(f"Redrive {plan}?"):
                err.print("nothing moved")
                raise typer.Exit(code=1)
        reports = [dead_letters.redrive(q, max_messages) for q in movable]
    result = {
        "redriven": [r.as_json() for r in reports],
        "skipped": {q.name: q.why_not_redrivable() for q in skipped},
    }
    if not emit(as_json, result):
        _print_reports(reports, skipped)
    if not all(r.ok for r in reports):
        raise typer.Exit(code=1)


def _print_reports(reports: Sequence[RedriveReport], skipped: Sequence[DeadLetterQueue]) -> None:
    console = _console()
    table = Table(title="redrive")
    for column in ("DLQ", "to", "moved", "failed to send", "sent, not deleted", "left"):
        table.add_column(column)
    for r in reports:
        table.add_row(
            r.queue,
            r.source,
            str(r.moved),
            f"[red]{len(r.failed_to_send)}[/]" if r.failed_to_send else "0",
            f"[red]{len(r.sent_not_deleted)}[/]" if r.sent_not_deleted else "0",
            "?" if r.left is None else str(r.left),
        )
    console.print(table)
    for r in reports:
        if r.error:
            console.print(f"[red]{r.queue}[/]: stopped early, SQS refused a receive ({r.error})")
        for message_id, code in r.failed_to_send.items():
            console.print(f"[red]{r.queue}[/]: {message_id} not sent ({code}), still in the DLQ")
        for message_id, code in r.sent_not_deleted.items():
            console.print(
                f"[yellow]{r.queue}[/]: {message_id} sent but not deleted ({code}): it will be "
                "delivered twice (the consumers are idempotent)"
            )
        if r.still_hidden:
            console.print(
                f"[yellow]{r.queue}[/]: {r.still_hidden} unsent message(s) stay hidden for up "
                f"to {REDRIVE_HOLD_SECONDS} s before they show in the DLQ again"
            )
    for q in skipped:
        console.print(f"[yellow]skipped[/] {q.why_not_redrivable()}")
