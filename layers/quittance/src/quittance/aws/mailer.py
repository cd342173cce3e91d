"""SES v2: send a fully built MIME message through the stage's configuration set, tagged so
that the set's bounce, complaint and delivery events find their way back to the message log."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from quittance.clock import Clock, SystemClock
from quittance.notifications.tags import email_tags

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_sesv2.client import SESV2Client


class SesMailer:
    def __init__(
        self, client: SESV2Client, configuration_set: str, clock: Clock | None = None
    ) -> None:
        self._client = client
        self._configuration_set = configuration_set
        self._clock: Clock = clock or SystemClock()

    def send(self, message: EmailMessage, tags: Mapping[str, str] | None = None) -> str:
        """Send ``message``; ``tags`` are plain values (invoice number, change id, pseudonymous
        customer id, kind — never an address), escaped here to SES's tag alphabet.

        Raises TagInvalid (a ValueError) before anything is sent when a tag cannot be carried.
        The message is dated here, when it is handed to SES, unless it already has a Date."""
        if message["Date"] is None:
            message["Date"] = format_datetime(self._clock.now())
        kwargs: dict[str, Any] = {
            "Content": {"Raw": {"Data": message.as_bytes()}},
            "ConfigurationSetName": self._configuration_set,
        }
        if tags:
            kwargs["EmailTags"] = email_tags(tags)
        response = self._client.send_email(**kwargs)
        return str(response["MessageId"])
