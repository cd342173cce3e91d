"""SES's published example events, fed the way AWS feeds them: published to the template's
email events topic, delivered by SNS to its queue, handed by an event-source pump to the
feedback function — all in moto, with every resource provisioned from template.yaml."""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from quittance.aws.ledger_table import LedgerTable
from quittance.models.events import CustomerDetails
from quittance.models.messages import (
    NotificationJob,
    PaymentConfirmedJob,
    parse_notification_job,
)
from quittance.models.money import Money
from quittance.notifications.tags import email_tags
from quittance_ops.localstack.pumps import QueuePump
from tests.integration.conftest import REGION, MotoStack
from tests.integration.pipeline import sealed_customers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ses"
CUSTOMER = "C-0123456789abcdef0123"
ADDRESS = "Jeanne.Martin@example.org"
INVOICE = "FA/2026.0042"  # "/" and "." travel escaped in the tags
CHANGE = "R-2026-000042:payment_confirmed"
SES_MESSAGE_ID = "0100018f-feedback-test-000000"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ses_event(name: str, *, recipient: str = ADDRESS, tagged: bool = True) -> dict[str, Any]:
    """An AWS example record, about our message to ``recipient``, tagged as notify tags it."""
    event: dict[str, Any] = copy.deepcopy(json.loads((FIXTURES / name).read_text()))
    mail = event["mail"]
    mail["messageId"] = SES_MESSAGE_ID
    mail["destination"] = [recipient]
    if tagged:
        tags = {
            "invoice": INVOICE,
            "change": CHANGE,
            "customer": CUSTOMER,
            "kind": "payment_confirmed",
        }
        mail["tags"].update({t["Name"]: [t["Value"]] for t in email_tags(tags)})
    for key, recipients in (("bounce", "bouncedRecipients"), ("complaint", "complainedRecipients")):
        for entry in event.get(key, {}).get(recipients, []):
            entry["emailAddress"] = recipient
    if "delivery" in event:
        event["delivery"]["recipients"] = [recipient]
    return event


def transient(event: dict[str, Any]) -> dict[str, Any]:
    event["bounce"]["bounceType"] = "Transient"
    event["bounce"]["bounceSubType"] = "MailboxFull"
    return event


def job() -> NotificationJob:
    return PaymentConfirmedJob(
        correlation_id="corr-42",
        kind="payment_confirmed",
        change_id=CHANGE,
        customer_id=CUSTOMER,
        receipt_number="R-2026-000042",
        invoice_number=INVOICE,
        amount=Money(amount_minor=12_000, currency="EUR"),
        paid_at=NOW - timedelta(minutes=5),
    )


class Feedback:
    """The deployed path from the topic to the feedback function, and what it changes."""

    def __init__(self, stack: MotoStack) -> None:
        self.stack = stack
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.ledger = LedgerTable(stack.resource("LedgerTable"), dynamodb)
        self.customers = sealed_customers(stack)
        self.sns = boto3.client("sns", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.pump = QueuePump(
            sqs=self.sqs,
            queue_url=stack.resource("EmailEventsQueue"),
            queue_arn=stack.resource("EmailEventsQueue", "Arn"),
            function=stack.functions["FeedbackFunction"],
            batch_size=10,
            report_failures=True,
            region=REGION,
            wait_seconds=0,
        )

    def customer(self, *, phone: str | None = "+33612345678", email: str = ADDRESS) -> None:
        self.customers.remember(
            CUSTOMER,
            CustomerDetails(reference="cus_42", name="Jeanne Martin", email=email, phone=phone),
            NOW - timedelta(days=1),
        )

    def sent_email(self, *, with_job: bool = True) -> None:
        """The log entry notify writes for the email it sent (with the job that SES events
        may need to send the message again by SMS)."""
        values: dict[str, Any] = {
            "kind": "payment_confirmed",
            "receipt_number": "R-2026-000042",
            "at": NOW.isoformat(),
            "status": "sent",
            "provider_message_id": SES_MESSAGE_ID,
        }
        if with_job:
            values["job"] = job().model_dump_json()
        self.ledger.record_message(INVOICE, CHANGE, "email", values, NOW + timedelta(days=396))

    def publish(self, event: dict[str, Any] | str) -> None:
        body = event if isinstance(event, str) else json.dumps(event)
        self.sns.publish(TopicArn=self.stack.resource("EmailEventsTopic"), Message=body)

    def drain(self) -> int:
        """Deliver what waits in the queue; the number of records the function failed."""
        before = self.pump.failed_records
        while self.pump.poll_once():
            pass
        return self.pump.failed_records - before

    def log_entry(self) -> dict[str, Any]:
        entry = self.ledger.message(INVOICE, CHANGE, "email")
        assert entry is not None
        return entry

    def profile(self) -> dict[str, Any]:
        profile = self.customers.held(CUSTOMER)
        assert profile is not None
        return profile

    def sms_jobs(self) -> list[NotificationJob]:
        messages = self.sqs.receive_message(
            QueueUrl=self.stack.resource("NotificationsQueue"), MaxNumberOfMessages=10
        ).get("Messages", [])
        return [parse_notification_job(m["Body"]) for m in messages]


@pytest.fixture
def feedback(moto_stack: MotoStack) -> Feedback:
    return Feedback(moto_stack)


def test_a_permanent_bounce_suppresses_the_address_and_keeps_the_profile(
    feedback: Feedback,
) -> None:
    feedback.customer(phone=None)
    feedback.sent_email()
    feedback.publish(ses_event("bounce_permanent.json"))

    assert feedback.drain() == 0
    profile = feedback.profile()
    assert profile["email_suppressed"] == {
        "reason": "hard_bounce",
        "at": "2017-08-05T00:41:02.669000+00:00",
    }
    assert (profile["email"], profile["name"], profile["channel"]) == (
        ADDRESS,
        "Jeanne Martin",
        "email",
    )
    entry = feedback.log_entry()
    assert (entry["status"], entry["delivery_status"], entry["delivery_detail"]) == (
        "sent",  # notify's own record, which its once-per-change check reads, is untouched
        "bounced",
        "Permanent:General",
    )
    assert feedback.sms_jobs() == []  # no number: nothing to fall back to


def test_a_transient_bounce_is_recorded_but_does_not_suppress(feedback: Feedback) -> None:
    feedback.customer()
    feedback.sent_email()
    feedback.publish(transient(ses_event("bounce_permanent.json")))

    assert feedback.drain() == 0
    assert "email_suppressed" not in feedback.profile()
    assert feedback.log_entry()["delivery_status"] == "soft_bounced"
    assert feedback.sms_jobs() == []


def test_a_complaint_suppresses_without_sending_the_message_again(feedback: Feedback) -> None:
    feedback.customer()
    feedback.sent_email()
    feedback.publish(ses_event("complaint.json"))

    assert feedback.drain() == 0
    assert feedback.profile()["email_suppressed"]["reason"] == "complaint"
    assert feedback.log_entry()["delivery_status"] == "complained"
    assert feedback.sms_jobs() == []  # they received it; their next messages go by SMS


def test_a_delivery_is_recorded_and_a_late_one_never_hides_a_bounce(feedback: Feedback) -> None:
    feedback.customer()
    feedback.sent_email()
    feedback.publish(ses_event("delivery.json"))
    assert feedback.drain() == 0
    entry = feedback.log_entry()
    assert (entry["delivery_status"], entry["delivery_at"]) == (
        "delivered",
        "2016-10-19T23:21:04.133000+00:00",
    )
    assert "email_suppressed" not in feedback.profile()

    feedback.publish(ses_event("bounce_permanent.json"))  # the remote server bounced it later
    feedback.publish(ses_event("delivery.json"))  # and SNS redelivers the old delivery
    assert feedback.drain() == 0
    assert feedback.log_entry()["delivery_status"] == "bounced"


def test_a_hard_bounce_queues_one_sms_even_when_sns_delivers_it_twice(
    feedback: Feedback,
) -> None:
    feedback.customer(phone="+33612345678")
    feedback.sent_email()
    bounce = ses_event("bounce_permanent.json")
    feedback.publish(bounce)
    feedback.publish(bounce)
    assert feedback.drain() == 0
    feedback.publish(ses_event("complaint.json"))  # a complaint about the same message after
    assert feedback.drain() == 0

    jobs = feedback.sms_jobs()
    assert len(jobs) == 1
    assert jobs[0].channels == ("sms",)
    assert jobs[0].model_dump(exclude={"channels"}) == job().model_dump(exclude={"channels"})


def test_no_sms_when_the_log_does_not_hold_the_message_to_send_again(feedback: Feedback) -> None:
    feedback.customer(phone="+33612345678")
    feedback.sent_email(with_job=False)
    feedback.publish(ses_event("bounce_permanent.json"))

    assert feedback.drain() == 0
    assert feedback.profile()["email_suppressed"]["reason"] == "hard_bounce"
    assert feedback.sms_jobs() == []


def test_no_sms_fallback_when_the_message_already_went_by_sms(feedback: Feedback) -> None:
    feedback.customer(phone="+33612345678")  # a customer who asked for both channels
    feedback.sent_email()
    feedback.ledger.record_message(
        INVOICE,
        CHANGE,
        "sms",
        {"kind": "payment_confirmed", "status": "sent", "at": NOW.isoformat()},
        NOW + timedelta(days=396),
    )
    feedback.publish(ses_event("bounce_permanent.json"))

    assert feedback.drain() == 0
    assert feedback.profile()["email_suppressed"]["reason"] == "hard_bounce"
    assert feedback.sms_jobs() == []


def test_an_event_about_another_send_does_not_touch_this_log_entry(feedback: Feedback) -> None:
    feedback.customer(phone="+33612345678")
    feedback.sent_email()
    event = ses_event("bounce_permanent.json")
    event["mail"]["messageId"] = "0100018f-some-other-send-000000"
    feedback.publish(event)

    assert feedback.drain() == 0
    assert "delivery_status" not in feedback.log_entry()
    assert feedback.sms_jobs() == []  # not the message this log entry would send again
    assert feedback.profile()["email_suppressed"]["reason"] == "hard_bounce"  # the address did


def test_a_bounce_of_an_address_the_customer_has_since_replaced_suppresses_nothing(
    feedback: Feedback,
) -> None:
    feedback.customer(email="jeanne@new.example.org")
    feedback.sent_email()
    feedback.publish(ses_event("bounce_permanent.json"))

    assert feedback.drain() == 0
    assert "email_suppressed" not in feedback.profile()
    assert feedback.log_entry()["delivery_status"] == "bounced"  # that message did bounce
    assert feedback.sms_jobs() == []


def test_an_email_without_our_tags_changes_nothing(feedback: Feedback) -> None:
    feedback.customer()
    feedback.sent_email()
    feedback.publish(ses_event("bounce_permanent.json", tagged=False))

    assert feedback.drain() == 0
    assert "email_suppressed" not in feedback.profile()
    assert "delivery_status" not in feedback.log_entry()


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("not json at all, recipient@example.com", id="not-json"),
        pytest.param(json.dumps({"hello": "recipient@example.com"}), id="not-an-ses-event"),
        pytest.param(
            json.dumps(
                {k: v for k, v in ses_event("bounce_permanent.json").items() if k != "bounce"}
            ),
            id="bounce-without-bounce",
        ),
        pytest.param(
            json.dumps({**ses_event("bounce_permanent.json"), "eventType": "Open"}),
            id="event-type-we-did-not-ask-for",
        ),
    ],
)
def test_a_malformed_message_is_reported_and_changes_nothing(
    feedback: Feedback, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    feedback.customer()
    feedback.sent_email()
    caplog.set_level(logging.INFO)  # POWERTOOLS_LOG_LEVEL in the template
    feedback.publish(message)

    assert feedback.drain() == 1  # failed back to the queue: retried, then kept in the DLQ
    rejected = [r for r in caplog.records if r.getMessage() == "email event rejected"]
    assert len(rejected) == 1 and rejected[0].levelno == logging.ERROR
    assert rejected[0].__dict__["reason"]  # says which field is at fault
    logged = "\n".join(f"{caplog.handler.format(r)} {r.__dict__}" for r in caplog.records)
    assert "recipient@example.com" not in logged and ADDRESS not in logged
    assert "email_suppressed" not in feedback.profile()
    assert "delivery_status" not in feedback.log_entry()
    assert feedback.sms_jobs() == []


def test_the_local_stack_records_the_event_destination_moto_cannot_publish(
    moto_stack: MotoStack,
) -> None:
    ses = boto3.client("ses", region_name=REGION)
    destinations = ses.describe_configuration_set(
        ConfigurationSetName=moto_stack.resource("EmailConfigurationSet"),
        ConfigurationSetAttributeNames=["eventDestinations"],
    ).get("EventDestinations", [])
    assert [d["Name"] for d in destinations] == ["feedback"]
    assert any(
        entry.startswith("EmailEventsDestination:") for entry in moto_stack.provisioned.not_enforced
    )
