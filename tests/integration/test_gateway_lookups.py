"""Real gateway traffic through the handlers against moto (issue 16): signed deliveries to
intake, the lookup stage reading the gateway's API (recorded documented responses on
127.0.0.1), then ledger, receipts and notify. One receipt with the right method, amount and
payer, and one message to the payer; each partial refund credited once at its own amount;
a flaky gateway delays but loses nothing; a revoked key raises the alarm and the lookups wait
in their dead-letter queue until redriven."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe as stripe_python
from moto.ses.models import ses_backends

from quittance.aws.ledger_table import LedgerTable
from quittance.errors import CustomerErased
from quittance.ledger.model import InvoiceRecord
from quittance.ledger.service import pseudonymous_customer_id
from quittance_ops.deliveries.gocardless import gocardless_batch, payment_confirmed
from quittance_ops.gateway_api import RecordedApi, serve
from quittance_ops.localstack.template import load_template
from tests import gateway_objects as so
from tests.unit.test_stripe_lookups import GUEST, checkout_guest

from .conftest import ACCOUNT, REGION, MotoStack
from .pipeline import customer_stores, deliver, drain, post_webhook
from .test_privacy_rights import erase

LOOKUPS = ("GatewayLookupsQueue", "LookupFunction")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gateway(moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordedApi]:
    """The gateways' API on 127.0.0.1, the stack holding read-only keys for it, and failed
    lookups coming back at once (no back-off wait in a test)."""
    recorded = RecordedApi()
    with serve(recorded) as base:
        monkeypatch.setenv("STRIPE_API_BASE", base)
        monkeypatch.setenv("GOCARDLESS_API_BASE", base)
        monkeypatch.setenv("LOOKUP_RETRY_BASE_SECONDS", "0")
        moto_stack.client("secretsmanager").put_secret_value(
            SecretId=moto_stack.resource("GatewayApiKeys"),
            SecretString=json.dumps(
                {"stripe": recorded.stripe_key, "gocardless": recorded.gocardless_token}
            ),
        )
        yield recorded


def post_stripe(stack: MotoStack, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body = json.dumps(event)
    header = stripe_python.WebhookSignature.generate_signature_header(
        body, stack.provisioned.webhook_secrets["stripe"]
    )
    status, answer = post_webhook(
        stack,
        "stripe",
        body.encode(),
        {"Content-Type": "application/json", "Stripe-Signature": header},
    )
    return int(status), answer


def waiting(stack: MotoStack, queue: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.resource(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def settle(stack: MotoStack, rounds: int = 30) -> None:
    """Lookups first (failed ones come back at once: no back-off in tests), then the rest of
    the chain, until every queue is quiet."""
    for _ in range(rounds):
        deliver(stack, *LOOKUPS)
        if waiting(stack, "GatewayLookupsQueue") == 0:
            break
    drain(stack)


def invoice(stack: MotoStack, number: str) -> InvoiceRecord:
    record = LedgerTable(stack.resource("LedgerTable"), stack.client("dynamodb")).load(number)
    assert record is not None, number
    return record


def emails_to(address: str) -> list[Any]:
    sent = ses_backends[ACCOUNT][REGION].sent_messages
    return [m for m in sent if address in json.dumps(getattr(m, "destinations", {}))]


def test_a_checkout_guest_card_payment_is_one_receipt_and_one_message(
    moto_stack: MotoStack, gateway: RecordedApi
) -> None:
    # Given a Checkout guest paying 25.00 EUR by card, and the merchant sending every event
    fake, session = checkout_guest()
    gateway.add_stripe(*fake.objects.values())
    events = [
        so.event("checkout.session.completed", session, event_id="evt_1QgItCs0000001"),
        so.event(
            "payment_intent.succeeded",
            fake.objects["pi_3QgCheckoutGuest01"],
            event_id="evt_1QgItPi0000001",
        ),
        so.event(
            "charge.succeeded", fake.objects["ch_3QgCheckoutGuest01"], event_id="evt_1QgItCh01"
        ),
    ]
    # When Stripe delivers them (intake acknowledges each at once, calling no gateway)
    for event in events:
        assert post_stripe(moto_stack, event) == (
            202,
            {
                "delivery_id": event["id"],
                "accepted": [event["id"]],
                "duplicates": [],
                "ignored": [],
            },
        )
    assert gateway.requests == []
    # and the lookup stage, ledger, receipts and notify have run
    settle(moto_stack)
    # Then there is one receipt: 25.00 EUR, Mastercard ending 4444
    record = invoice(moto_stack, "GW-pi_3QgCheckoutGuest01")
    (receipt,) = record.documents
    assert (receipt.kind, receipt.amount.amount_minor, receipt.amount.currency) == (
        "receipt",
        2500,
        "EUR",
    )
    assert receipt.method is not None
    assert (receipt.method.card_brand, receipt.method.card_last4) == ("mastercard", "4444")
    # and one message, to the email the guest gave Checkout
    assert len(emails_to(GUEST)) == 1
    # and nothing personal went through the queues to the ledger
    assert all(e.customer is None or e.customer.email is None for e in record.events)


def test_three_partial_refunds_are_three_credit_notes_of_their_own_amounts(
    moto_stack: MotoStack, gateway: RecordedApi
) -> None:
    # Given a 100.00 EUR payment receipted, then refunded 10.00, 5.00 and 2.50
    charge = so.charge(
        "ch_3QgItRefunds0001",
        "pi_3QgItRefunds0001",
        10000,
        method=so.card_details(),
        billing=so.billing_details("paul.henry@example.fr", "Paul Henry"),
    )
    intent = so.payment_intent("pi_3QgItRefunds0001", 10000, latest_charge=charge["id"])
    refunds = [
        so.refund(
            f"re_3QgItRefund{n:06d}", charge["id"], intent["id"], amount, created=so.CREATED + n
        )
        for n, amount in enumerate((1000, 500, 250), start=1)
    ]
    gateway.add_stripe(charge, intent, *refunds)
    post_stripe(moto_stack, so.event("payment_intent.succeeded", intent, event_id="evt_1QgItPay"))
    settle(moto_stack)
    # When the current API version's events arrive out of order, and twice: charge.refunded
    # (no refund list, cumulative amount_refunded) and refund.created
    deliveries = [
        so.event("refund.created", refunds[2], event_id="evt_1QgItRe3"),
        so.event("charge.refunded", {**charge, "amount_refunded": 1750}, event_id="evt_1QgItCr3"),
        so.event("refund.created", refunds[0], event_id="evt_1QgItRe1"),
        so.event("charge.refunded", {**charge, "amount_refunded": 1000}, event_id="evt_1QgItCr1"),
        so.event("refund.created", refunds[1], event_id="evt_1QgItRe2"),
    ]
    for event in [*deliveries, deliveries[1], deliveries[2]]:
        status, _ = post_stripe(moto_stack, event)
        assert status in (200, 202)
    settle(moto_stack)
    # Then there are exactly three credit notes: 10.00, 5.00 and 2.50
    record = invoice(moto_stack, "GW-pi_3QgItRefunds0001")
    credit_notes = sorted(
        (d.refund_id, d.amount.amount_minor) for d in record.documents if d.kind == "credit_note"
    )
    assert credit_notes == [
        ("re_3QgItRefund000001", 1000),
        ("re_3QgItRefund000002", 500),
        ("re_3QgItRefund000003", 250),
    ]


def test_a_gocardless_subscription_payment_with_empty_metadata_is_receipted_and_told(
    moto_stack: MotoStack, gateway: RecordedApi
) -> None:
    import hashlib
    import hmac

    from gocardless_pro import webhooks as gocardless_webhooks

    # Given a subscription payment GoCardless confirms, with no metadata of the merchant's
    gateway.add_gocardless(
        so.gc_payment("PM00ITSUBS0001", 3990, mandate="MD00ITSUBS0001", subscription="SB00IT"),
        so.gc_mandate("MD00ITSUBS0001", "CU00ITSUBS0001"),
        so.gc_customer("CU00ITSUBS0001", "jeanne.roux@example.fr", "Jeanne", "Roux"),
    )
    body = json.dumps(
        {
            "events": [
                {
                    "id": "EV00ITSUBS0001",
                    "created_at": "2026-06-05T09:12:44.123Z",
                    "resource_type": "payments",
                    "action": "confirmed",
                    "links": {"payment": "PM00ITSUBS0001"},
                    "details": {
                        "origin": "gocardless",
                        "cause": "payment_confirmed",
                        "description": "Enough time has passed since the payment was "
                        "submitted for the banks to return an error, so this payment is now "
                        "confirmed.",
                    },
                    "metadata": {},
                    "resource_metadata": {},
                }
            ],
            "meta": {"webhook_id": "WB00ITSUBS0001"},
        }
    )
    secret = moto_stack.provisioned.webhook_secrets["gocardless"]
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    assert len(gocardless_webhooks.parse(body, secret, signature)) == 1  # GoCardless's own check
    # When it is delivered and the chain has run
    status, answer = post_webhook(
        moto_stack,
        "gocardless",
        body.encode(),
        {"Content-Type": "application/json", "Webhook-Signature": signature},
    )
    assert (status, answer["accepted"], answer["ignored"]) == (202, ["EV00ITSUBS0001"], [])
    settle(moto_stack)
    # Then it has its receipt, 39.90 EUR by SEPA debit, and the customer their message
    (receipt,) = invoice(moto_stack, "GW-PM00ITSUBS0001").documents
    assert receipt.amount.amount_minor == 3990
    assert receipt.method is not None and receipt.method.kind.value == "sepa_debit"
    assert len(emails_to("jeanne.roux@example.fr")) == 1


def test_a_gocardless_payment_whose_metadata_is_complete_still_reaches_its_payer(
    moto_stack: MotoStack, gateway: RecordedApi
) -> None:
    # Given a one-off payment the merchant created with all three metadata keys (amount,
    # invoice, their own customer reference), and no customer registered in quittance
    metadata = {
        "amount": "59.00 EUR",
        "invoice_number": "F-2026-0418",
        "customer_reference": "CLI-000418",
    }
    gateway.add_gocardless(
        so.gc_payment("PM00ITMETA0001", 5900, mandate="MD00ITMETA0001", metadata=metadata),
        so.gc_mandate("MD00ITMETA0001", "CU00ITMETA0001"),
        so.gc_customer("CU00ITMETA0001", "louis.garnier@example.fr", "Louis", "Garnier"),
    )
    event = payment_confirmed(
        invoice_number="F-2026-0418",
        amount_minor=5900,
        customer_reference="CLI-000418",
        payment_id="PM00ITMETA0001",
        event_id="EV00ITMETA0001",
    )
    delivery = gocardless_batch(moto_stack.provisioned.webhook_secrets["gocardless"], [event])
    # When it is delivered and the chain has run
    status, answer = post_webhook(moto_stack, "gocardless", delivery.body, delivery.headers)
    assert (status, answer["accepted"]) == (202, ["EV00ITMETA0001"])
    settle(moto_stack)
    # Then the receipt is the merchant's (their invoice, their amount, their reference)
    record = invoice(moto_stack, "F-2026-0418")
    (receipt,) = record.documents
    assert receipt.amount.amount_minor == 5900
    assert record.customer_id == pseudonymous_customer_id("gocardless", "CLI-000418")
    # and the payer, whom GoCardless knows (payment → mandate → customer), is told
    assert len(emails_to("louis.garnier@example.fr")) == 1
    assert [r for r in gateway.requests if "/customers/" in r] == ["GET /customers/CU00ITMETA0001"]


def test_a_gateway_failing_half_its_calls_delays_the_receipts_but_loses_none(
    moto_stack: MotoStack, gateway: RecordedApi
) -> None:
    # Given Stripe's API answering half the calls with 429 or 500
    gateway.fail_rate = 0.5
    payments = []
    for n in range(4):
        fake, session = checkout_guest()
        # four distinct guest payments, each its own objects
        renamed = json.loads(
            json.dumps(list(fake.objects.values())).replace(
                "CheckoutGuest01", f"CheckoutGuest{n:02d}x"
            )
        )
        renamed = [
            {**o, "customer_details": {**o["customer_details"], "email": f"guest{n}@example.fr"}}
            if o["object"] == "checkout.session"
            else o
            for o in renamed
        ]
        gateway.add_stripe(*renamed)
        session = next(o for o in renamed if o["object"] == "checkout.session")
        payments.append(session)
        post_stripe(
            moto_stack, so.event("checkout.session.completed", session, event_id=f"evt_1QgFl{n}")
        )
    # and GoCardless's API as flaky, for a payment with the merchant's metadata
    gateway.add_gocardless(
        so.gc_payment("PM00ITFLAKY001", 4500, mandate="MD00ITFLAKY001"),
        so.gc_mandate("MD00ITFLAKY001", "CU00ITFLAKY001"),
        so.gc_customer("CU00ITFLAKY001", "remi.faure@example.fr", "Rémi", "Faure"),
    )
    debit = gocardless_batch(
        moto_stack.provisioned.webhook_secrets["gocardless"],
        [
            payment_confirmed(
                invoice_number="F-2026-FLAKY",
                amount_minor=4500,
                payment_id="PM00ITFLAKY001",
                mandate_id="MD00ITFLAKY001",
            )
        ],
    )
    assert post_webhook(moto_stack, "gocardless", debit.body, debit.headers)[0] == 202
    # When the stages run until quiet
    settle(moto_stack, rounds=60)
    # Then some calls failed and were retried, and every payment has its one receipt
    assert gateway.failures > 0
    for session in payments:
        (receipt,) = invoice(moto_stack, f"GW-{session['payment_intent']}").documents
        assert receipt.amount.amount_minor == 2500
    (receipt,) = invoice(moto_stack, "F-2026-FLAKY").documents
    assert receipt.amount.amount_minor == 4500
    # and every payer their one message
    for address in [f"guest{n}@example.fr" for n in range(4)] + ["remi.faure@example.fr"]:
        assert len(emails_to(address)) == 1, address
    assert moto_stack.queue_messages("GatewayLookupsDLQ") == []


def test_a_revoked_key_raises_the_alarm_and_the_lookups_wait_in_the_dlq_until_redriven(
    moto_stack: MotoStack, gateway: RecordedApi
) -> None:
    # Given a key Stripe no longer accepts
    fake, session = checkout_guest()
    gateway.add_stripe(*fake.objects.values())
    gateway.revoked = True
    topic = moto_stack.resource("OpsAlertsTopic")
    queue = sns_queue(moto_stack, topic)
    post_stripe(moto_stack, so.event("checkout.session.completed", session, event_id="evt_1QgRv"))
    # When the lookup has been tried as often as the queue allows
    for _ in range(25):  # the queue's maxReceiveCount is 20
        deliver(moto_stack, *LOOKUPS)
    # Then the ops topic was told the key is refused, and the lookup waits in the DLQ
    alerts = [json.loads(m["Body"]) for m in read_all(moto_stack, queue)]
    assert any("gateway_key_rejected" in a.get("Message", "") for a in alerts)
    waiting = moto_stack.queue_messages("GatewayLookupsDLQ")
    assert len(waiting) == 1
    assert json.loads(waiting[0]["Body"])["event"]["event_id"] == "evt_1QgRv"
    assert (
        moto_stack.client("sqs").get_queue_attributes(
            QueueUrl=moto_stack.resource("GatewayLookupsQueue"),
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "0"
    )
    # When the key is fixed and the DLQ redriven
    gateway.revoked = False
    sqs = moto_stack.client("sqs")
    for message in read_all(moto_stack, moto_stack.resource("GatewayLookupsDLQ")):
        sqs.send_message(
            QueueUrl=moto_stack.resource("GatewayLookupsQueue"), MessageBody=message["Body"]
        )
    settle(moto_stack)
    # Then the payment has its receipt and the payer their message
    (receipt,) = invoice(moto_stack, "GW-pi_3QgCheckoutGuest01").documents
    assert receipt.amount.amount_minor == 2500
    assert len(emails_to(GUEST)) == 1


def test_a_refused_key_is_counted_under_the_metric_its_alarm_watches(
    moto_stack: MotoStack,
    gateway: RecordedApi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the alarm template.yaml sets on refused keys
    alarm = load_template(ROOT / "template.yaml")["Resources"]["GatewayKeyRejectedAlarm"]
    watched = alarm["Properties"]
    # and a key Stripe no longer accepts, metrics printed as Lambda ships them (EMF)
    sys.modules["quittance_fn_LookupFunction"].metrics.clear_metrics()
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    fake, session = checkout_guest()
    gateway.add_stripe(*fake.objects.values())
    gateway.revoked = True
    post_stripe(moto_stack, so.event("checkout.session.completed", session, event_id="evt_1QgKm"))
    capsys.readouterr()
    # When the lookup is tried
    deliver(moto_stack, *LOOKUPS)
    # Then the lookup function counted it under that alarm's namespace, name and dimension
    documents = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and '"_aws"' in line
    ]
    counted = [
        d
        for d in documents
        for directive in d["_aws"]["CloudWatchMetrics"]
        if directive["Namespace"] == watched["Namespace"]
        and watched["MetricName"] in [m["Name"] for m in directive["Metrics"]]
    ]
    assert counted, documents
    for dimension in watched["Dimensions"]:
        assert counted[0][dimension["Name"]] == dimension["Value"]
    value = counted[0][watched["MetricName"]]  # EMF: a list when added more than once
    assert sum(value if isinstance(value, list) else [value]) >= 1


def sns_queue(stack: MotoStack, topic: str) -> str:
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName="ops-alerts-watch")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    stack.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return str(url)


def read_all(stack: MotoStack, url: str) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30
    ).get("Messages", []):
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        found += batch
    return found


def test_what_the_api_answered_is_kept_sealed_as_evidence_until_the_payer_is_erased(
    moto_stack: MotoStack, gateway: RecordedApi
) -> None:
    # Given a Checkout guest's payment, completed by the lookup stage from Stripe's API
    fake, session = checkout_guest()
    gateway.add_stripe(*fake.objects.values())
    event = so.event("checkout.session.completed", session, event_id="evt_1QgItEvidence01")
    assert post_stripe(moto_stack, event)[0] == 202
    settle(moto_stack)
    record = invoice(moto_stack, "GW-pi_3QgCheckoutGuest01")
    assert record.customer_id is not None
    _, evidence, _ = customer_stores(moto_stack)
    # When a compliance officer opens the event's evidence
    kept = evidence.fetch("stripe", "evt_1QgItEvidence01", record.customer_id)
    # Then it is what quittance read from Stripe, and when: the Checkout Session with the
    # guest's email, the PaymentIntent with its card charge, each with its time of reading
    reads = json.loads(kept.body)
    assert reads["format"] == "quittance.gateway-reads/1"
    assert reads["completes"]["event_type"] == "checkout.session.completed"
    answers = {r["call"]: r["answer"] for r in reads["reads"]}
    assert answers["checkout_session"]["customer_details"]["email"] == GUEST
    intent = answers["payment_intent"]
    assert intent["latest_charge"]["payment_method_details"]["card"]["last4"] == "4444"
    assert all(r["read_at"] for r in reads["reads"])
    assert "not a signed delivery" in kept.verification
    # and it is sealed: the archive object holds no readable trace of the payer
    key = next(
        o["Key"]
        for o in moto_stack.client("s3").list_objects_v2(
            Bucket=moto_stack.resource("ArchiveBucket"), Prefix="evidence/stripe/"
        )["Contents"]
        if o["Key"].endswith("/evt_1QgItEvidence01.bin")
    )
    sealed = (
        moto_stack.client("s3")
        .get_object(Bucket=moto_stack.resource("ArchiveBucket"), Key=key)["Body"]
        .read()
    )
    assert GUEST.encode() not in sealed and b"4444" not in sealed
    # When the payer is erased through the privacy API
    status, _ = erase(moto_stack, record.customer_id)
    assert status == 200
    # Then the evidence no longer opens
    with pytest.raises(CustomerErased):
        evidence.fetch("stripe", "evt_1QgItEvidence01", record.customer_id)
