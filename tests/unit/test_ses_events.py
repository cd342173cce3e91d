"""Reading what SES publishes: AWS's example records, as SNS wraps them for a queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from quittance.notifications.feedback import (
    EmailEventInvalid,
    SesEvent,
    parse_sns_delivery,
    read_event,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ses"


def example(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


def sns_body(message: str) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "b1c3d2e4-0000-0000-0000-000000000000",
            "TopicArn": "arn:aws:sns:eu-west-3:123456789012:quittance-email-events",
            "Message": message,
            "Timestamp": "2017-08-05T00:41:03.000Z",
            "SignatureVersion": "1",
        }
    )


def test_the_published_examples_read_as_what_happened() -> None:
    bounce = read_event(
        parse_sns_delivery(sns_body(json.dumps(example("bounce_permanent.json"))))[1]
    )
    assert (bounce.status, bounce.suppress, bounce.detail) == (
        "bounced",
        "hard_bounce",
        "Permanent:General",
    )
    assert bounce.at == datetime(2017, 8, 5, 0, 41, 2, 669000, tzinfo=UTC)
    assert bounce.recipients == {"recipient@example.com"}

    complaint = read_event(SesEvent.model_validate(example("complaint.json")))
    assert (complaint.status, complaint.suppress, complaint.detail) == (
        "complained",
        "complaint",
        "abuse",
    )

    delivery = read_event(SesEvent.model_validate(example("delivery.json")))
    assert (delivery.status, delivery.suppress) == ("delivered", None)


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_only_a_permanent_bounce_asks_for_suppression(bounce_type: str) -> None:
    event = example("bounce_permanent.json")
    event["bounce"]["bounceType"] = bounce_type
    reading = read_event(SesEvent.model_validate(event))
    assert (reading.status, reading.suppress) == ("soft_bounced", None)


def test_identity_feedback_names_its_type_notificationType() -> None:
    event = example("bounce_permanent.json")
    event["notificationType"] = event.pop("eventType")
    assert read_event(SesEvent.model_validate(event)).status == "bounced"


def test_recipients_compare_without_case() -> None:
    event = example("complaint.json")
    event["complaint"]["complainedRecipients"][0]["emailAddress"] = "Recipient@Example.COM"
    assert read_event(SesEvent.model_validate(event)).recipients == {"recipient@example.com"}


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        ("recipient@example.com", "json_invalid"),
        (json.dumps({"Type": "SubscriptionConfirmation", "Message": "x"}), "Type: literal_error"),
        (sns_body("recipient@example.com"), "json_invalid"),
        (sns_body(json.dumps({"eventType": "Bounce", "mail": {}})), "mail.messageId: missing"),
    ],
)
def test_a_malformed_delivery_names_the_fault_without_quoting_it(body: str, fault: str) -> None:
    with pytest.raises(EmailEventInvalid) as raised:
        parse_sns_delivery(body)
    assert fault in raised.value.detail
    assert "recipient@example.com" not in str(raised.value)


def test_an_event_without_the_object_of_its_type_is_refused() -> None:
    event = example("bounce_permanent.json")
    event["eventType"] = "Complaint"
    with pytest.raises(EmailEventInvalid, match="value_error"):
        parse_sns_delivery(sns_body(json.dumps(event)))
