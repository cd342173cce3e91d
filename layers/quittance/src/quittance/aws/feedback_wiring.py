"""The email feedback stage's adapters (SES events → the message log, the profile, the SMS
fallback), built from their settings for the feedback handler's composition root."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.message_log import MessageLog
from quittance.aws.queue import SqsQueue
from quittance.aws.sms_fallback import SmsFallbackQueue
from quittance.clock import Clock
from quittance.settings import FeedbackSettings


@dataclass(frozen=True)
class FeedbackDeps:
    ledger: MessageLog
    customers: CustomersTable
    fallback: SmsFallbackQueue
    clock: Clock


def feedback(s: FeedbackSettings, clock: Clock, fallback: IdempotencyConfig) -> FeedbackDeps:
    """``fallback``: the consumer's own idempotency config, so an SMS is queued once per
    (invoice, change) whatever the redeliveries of the event that asked for it."""
    dynamodb = make_client("dynamodb", s.aws_region)
    return FeedbackDeps(
        ledger=MessageLog(s.ledger_table, dynamodb),
        customers=CustomersTable(
            s.customers_table,
            dynamodb,
            # Opens the address on file to compare it with the bounce; never mints a key.
            CustomerKeyring(
                s.customers_table, dynamodb, make_client("kms", s.aws_region), None, clock=clock.now
            ),
        ),
        fallback=SmsFallbackQueue(
            SqsQueue(s.notifications_queue_url, make_client("sqs", s.aws_region)),
            config=fallback,
            table=s.idempotency_table,
            client=dynamodb,
        ),
        clock=clock,
    )
