"""Registered invoices over the IAM-authorised staff API, and every ledger anomaly from the
gateway's webhook to the ops alert and the customer's notice, on the local stack."""

from __future__ import annotations

import email
import email.policy
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from quittance.aws.ledger_table import LedgerTable
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.localstack import sigv4
from quittance_ops.outbox import sent_emails

from .conftest import RunningStack
from .test_webhook_to_receipt import post

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-invoices_and_anomalies")]


def put_invoice(
    stack: RunningStack, number: str, body: dict[str, Any], secret: str | None = "testing"
) -> tuple[int, dict[str, Any]]:
    url = f"{stack.api_url}/admin/invoices/{number}"
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Host": url.split("/")[2]}
    if secret is not None:
        headers = sigv4.sign("PUT", url, data, headers, key="testing", secret=secret,
                             region=stack.info["region"])  # fmt: skip
    request = urllib.request.Request(url, data=data, headers=headers, method="PUT")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def registration(*lines: tuple[int, str], cancelled: bool = False) -> dict[str, Any]:
    return {
        "customer_reference": "CLI-9",
        "currency": "EUR",
        "lines": [
            {
                "description": f"Line {i}",
                "quantity": "1",
                "unit_price_minor": price,
                "vat_rate": rate,
            }
            for i, (price, rate) in enumerate(lines)
        ],
        "issue_date": "2026-11-01",
        "due_date": "2026-12-01",
        "nature": "services",
        "cancelled": cancelled,
    }


@pytest.fixture(scope="module")
def alerts(stack: RunningStack) -> Iterator[list[dict[str, Any]]]:
    """The ops topic, read by an SQS queue subscribed to it, as an on-call tool would."""
    sqs, sns = stack.client("sqs"), stack.client("sns")
    url = sqs.create_queue(QueueName="test-ops-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=stack.resources["OpsAlertsTopic"], Protocol="sqs", Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )  # fmt: skip
    received: list[dict[str, Any]] = []

    def drain() -> None:
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for message in batch:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    received.append({"drain": drain})  # type: ignore[dict-item]
    yield received


def alerts_for(alerts: list[dict[str, Any]], invoice: str) -> list[str]:
    alerts[0]["drain"]()  # type: ignore[operator]
    return [a["anomaly"] for a in alerts[1:] if a.get("invoice_number") == invoice]


def sent(stack: RunningStack, invoice: str) -> list[tuple[str, str | None, str]]:
    """(kind, document, plain text) of every message sent about the invoice."""
    table = LedgerTable(stack.resources["LedgerTable"], stack.client("dynamodb"))
    raws = {e.message_id: e.raw for e in sent_emails(stack.endpoint)}
    out = []
    for entry in table.messages(invoice):
        if entry.get("status") != "sent":
            continue
        parsed = email.message_from_bytes(
            raws[entry["provider_message_id"]], policy=email.policy.default
        )
        text = " ".join(parsed.get_body(("plain",)).get_content().split())
        out.append((entry["kind"], entry.get("receipt_number"), text.replace("\u202f", " ")))
    return out


def pay(stack: RunningStack, invoice: str, cents: int, currency: str = "eur") -> None:
    delivery = stripe_payment_intent_succeeded(
        secret=stack.info["webhook_secrets"]["stripe"],
        invoice_number=invoice,
        amount_minor=cents,
        currency=currency,
        email="anomaly.customer@example.com",
    )
    assert post(stack, delivery)[0] == 202
    time.sleep(1.2)
    stack.wait_drained()


def test_unsigned_and_badly_signed_admin_calls_get_403_and_change_nothing(
    stack: RunningStack,
) -> None:
    for secret in (None, "not-the-secret"):
        status, body = put_invoice(stack, "F-NOPE", registration((1000, "20")), secret=secret)
        assert (status, body) == (403, {"message": "Forbidden"})
    table = LedgerTable(stack.resources["LedgerTable"], stack.client("dynamodb"))
    assert table.get_invoice("F-NOPE") is None


def test_a_registered_invoice_is_settled_by_two_payments_with_a_notice_for_the_first(
    stack: RunningStack, alerts: list[dict[str, Any]]
) -> None:
    # 100.00 + 20 % VAT and 50.00 + 5.5 % VAT: 172.75 € due
    status, summary = put_invoice(stack, "F-REG-1", registration((10000, "20"), (5000, "5.5")))
    assert status == 200
    assert (summary["status"], summary["amount_due"]["amount_minor"]) == ("open", 17275)

    pay(stack, "F-REG-1", 10000)
    assert alerts_for(alerts, "F-REG-1") == ["partial_payment"]
    [(kind, document, text)] = sent(stack, "F-REG-1")
    assert kind == "partial_payment" and document and document.startswith("R-")
    assert "72,75 €" in text.replace("\xa0", " ")  # the remaining balance
    assert "soldée" not in text

    pay(stack, "F-REG-1", 7275)
    kinds = [k for k, _, _ in sent(stack, "F-REG-1")]
    assert sorted(kinds) == ["partial_payment", "payment_confirmed"]
    table = LedgerTable(stack.resources["LedgerTable"], stack.client("dynamodb"))
    assert table.get_invoice("F-REG-1").status.value == "paid"  # type: ignore[union-attr]
    assert alerts_for(alerts, "F-REG-1") == ["partial_payment"]  # nothing new


@pytest.mark.parametrize(
    ("invoice", "lines", "cancelled", "paid", "currency", "anomaly", "receipt", "phrase"),
    [
        ("F-REG-2", [(5000, "0")], False, 6000, "eur", "overpayment", True, "10,00 €"),
        (
            "F-REG-3",
            [(3000, "0")],
            True,
            3000,
            "eur",
            "payment_on_cancelled_invoice",
            False,
            "annulée",
        ),
        ("F-REG-4", [(3000, "0")], False, 3000, "usd", "currency_mismatch", False, "dollar"),
    ],
    ids=["overpayment", "cancelled-invoice", "currency-mismatch"],
)
def test_each_anomaly_reaches_ops_and_the_customer(
    stack: RunningStack,
    alerts: list[dict[str, Any]],
    invoice: str,
    lines: list[tuple[int, str]],
    cancelled: bool,
    paid: int,
    currency: str,
    anomaly: str,
    receipt: bool,
    phrase: str,
) -> None:
    assert put_invoice(stack, invoice, registration(*lines, cancelled=cancelled))[0] == 200
    pay(stack, invoice, paid, currency)
    assert alerts_for(alerts, invoice) == [anomaly]
    [(kind, document, text)] = sent(stack, invoice)
    assert kind == "anomaly_notice"
    assert (document is not None) is receipt  # returned money gets no receipt
    assert phrase in text.replace("\xa0", " ")
    assert "soldée" not in text


def test_a_second_charge_of_a_paid_invoice_reaches_ops_and_the_customer(
    stack: RunningStack, alerts: list[dict[str, Any]]
) -> None:
    assert put_invoice(stack, "F-REG-5", registration((4200, "0")))[0] == 200
    pay(stack, "F-REG-5", 4200)
    pay(stack, "F-REG-5", 4200)
    assert alerts_for(alerts, "F-REG-5") == ["possible_double_charge"]
    messages = sorted(sent(stack, "F-REG-5"))
    assert [kind for kind, _, _ in messages] == ["anomaly_notice", "payment_confirmed"]
    notice = messages[0][2].replace("\xa0", " ")
    assert "42,00 €" in notice and "soldée" not in notice
