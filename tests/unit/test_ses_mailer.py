"""The mailer sends through the configuration set with our tags as SESv2 EmailTags (moto
accepts but does not keep them: the request is read on its way out, as botocore built it)."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from quittance.aws.mailer import SesMailer
from quittance.clock import FixedClock
from quittance.notifications.tags import TagInvalid

REGION = "eu-west-3"


@pytest.fixture
def sesv2(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        boto3.client("ses", region_name=REGION).verify_domain_identity(Domain="example.com")
        client = boto3.client("sesv2", region_name=REGION)
        client.create_configuration_set(ConfigurationSetName="quittance-prod")
        sent: list[dict[str, Any]] = []
        client.meta.events.register(
            "provide-client-params.sesv2.SendEmail", lambda params, **_: sent.append(params)
        )
        yield client, sent


def message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "receipts@example.com"
    msg["To"] = "jeanne@example.org"
    msg["Subject"] = "Reçu"
    msg.set_content("Merci")
    return msg


def test_tags_travel_escaped_with_the_configuration_set(
    sesv2: tuple[Any, list[dict[str, Any]]],
) -> None:
    client, sent = sesv2
    message_id = SesMailer(client, "quittance-prod").send(
        message(),
        tags={
            "invoice": "FA/2026.0042",
            "change": "R-2026-000042:payment_confirmed",
            "customer": "C-0123456789abcdef0123",
            "kind": "payment_confirmed",
        },
    )
    assert message_id
    (params,) = sent
    assert params["ConfigurationSetName"] == "quittance-prod"
    assert params["EmailTags"] == [
        {"Name": "invoice", "Value": "FA_2F2026_2E0042"},
        {"Name": "change", "Value": "R-2026-000042_3Apayment_5Fconfirmed"},
        {"Name": "customer", "Value": "C-0123456789abcdef0123"},
        {"Name": "kind", "Value": "payment_5Fconfirmed"},
    ]


def test_without_tags_the_send_is_as_before(sesv2: tuple[Any, list[dict[str, Any]]]) -> None:
    client, sent = sesv2
    SesMailer(client, "quittance-prod").send(message())
    assert "EmailTags" not in sent[0]


def test_a_tag_ses_would_refuse_stops_the_send_before_anything_leaves(
    sesv2: tuple[Any, list[dict[str, Any]]],
) -> None:
    client, sent = sesv2
    with pytest.raises(TagInvalid):
        SesMailer(client, "quittance-prod").send(message(), tags={"in voice": "FA-1"})
    assert sent == []


def test_the_message_is_dated_when_handed_to_ses_by_the_injected_clock(
    sesv2: tuple[Any, list[dict[str, Any]]],
) -> None:
    # Given a mailer whose clock reads 00:30 on 1 January in Paris (still 2026 in UTC)
    client, sent = sesv2
    at = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    SesMailer(client, "quittance-prod", FixedClock(at)).send(message())
    # Then the Date header SES receives is that moment, not the machine's
    raw = email.message_from_bytes(sent[0]["Content"]["Raw"]["Data"])
    assert parsedate_to_datetime(raw["Date"]) == at
