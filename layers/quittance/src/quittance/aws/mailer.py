"""SES v2: send a fully built MIME message through the stage's configuration set, tagged so
that the set's bounce, complaint and delivery events find their way back to the message log."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from quittance.notifications.tags import email_tags


class SesMailer:
    def __init__(self, client: Any, configuration_set: str) -> None:
        self._client = client
        self._configuration_set = configuration_set

    def send(self, message: EmailMessage, tags: Mapping[str, str] | None = None) -> str:
        """Send ``message``; ``tags`` are plain values (invoice number, change id, pseudonymous
        customer id, kind — never an address), escaped here to SES's tag alphabet.

        Raises TagInvalid (a ValueError) before anything is sent when a tag cannot be carried."""
        kwargs: dict[str, Any] = {
            "Content": {"Raw": {"Data": message.as_bytes()}},
            "ConfigurationSetName": self._configuration_set,
        }
        if tags:
            kwargs["EmailTags"] = email_tags(tags)
        response = self._client.send_email(**kwargs)
        return str(response["MessageId"])
