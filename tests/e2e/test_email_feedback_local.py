"""On the local stack, an SES bounce of a confirmation the stack really sent travels SNS, the
email events queue and the feedback function (moto publishes no SES events: the demo scene
quittance_ops.email_events.report_bounce plays SES and publishes the record to the topic)."""

from __future__ import annotations

from typing import Any

import pytest

from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.ledger.model import ReceiptRecord
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.email_events import report_bounce

from .conftest import RunningStack, wait_for
from .test_webhook_to_receipt import emails_for, ledger, post

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-email_feedback_local")]

ADDRESS = "bounce.me@example.com"


class _Handle:
    """The running stack as quittance_ops.email_events reads a LocalStack."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack

    def client(self, service: str) -> Any:
        return self.stack.client(service)

    def resource(self, logical_id: str, attribute: str = "Ref") -> Any:
        assert attribute == "Ref"
        return self.stack.resources[logical_id]

    def wait_until_drained(self, timeout: float = 60.0, interval: float = 0.05) -> bool:
        self.stack.wait_drained(timeout)
        return True


def receipts_of(stack: RunningStack, invoice_number: str) -> list[ReceiptRecord]:
    record = ledger(stack).load(invoice_number)
    return list(record.documents) if record else []


def test_a_bounce_of_a_sent_confirmation_suppresses_the_address(stack: RunningStack) -> None:
    status, _ = post(
        stack,
        stripe_payment_intent_succeeded(
            secret=stack.info["webhook_secrets"]["stripe"],
            invoice_number="F-BOUNCE-1",
            amount_minor=4200,
            customer="cus_bounce",
            email=ADDRESS,
        ),
    )
    assert status == 202
    receipt = wait_for(lambda: receipts_of(stack, "F-BOUNCE-1"))[0]
    wait_for(lambda: emails_for(stack, receipt.receipt_number))
    stack.wait_drained()
    change = f"{receipt.receipt_number}:payment_confirmed"
    sent: dict[str, Any] | None = ledger(stack).message("F-BOUNCE-1", change, "email")
    assert sent is not None and sent["status"] == "sent"

    # The demo scene: SES reports that this confirmation hard-bounced.
    after = report_bounce(_Handle(stack), "F-BOUNCE-1", change)

    assert after["delivery_status"] == "bounced"
    assert after["email_suppressed"]["reason"] == "hard_bounce"
    table, dynamodb = stack.resources["CustomersTable"], stack.client("dynamodb")
    keyring = CustomerKeyring(table, dynamodb, stack.client("kms"), None)
    customers = CustomersTable(table, dynamodb, keyring)
    profile = customers.held(receipt.customer_id)
    assert profile is not None and profile["email"] == ADDRESS  # suppressed, not erased
    assert not any(v for k, v in stack.queue_depths().items() if k.endswith("DLQ"))
