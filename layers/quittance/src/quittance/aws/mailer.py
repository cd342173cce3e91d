"""SES v2: send a fully built MIME message through the stage's configuration set."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any


class SesMailer:
    def __init__(self, client: Any, configuration_set: str) -> None:
        self._client = client
        self._configuration_set = configuration_set

    def send(self, message: EmailMessage) -> str:
        response = self._client.send_email(
            Content={"Raw": {"Data": message.as_bytes()}},
            ConfigurationSetName=self._configuration_set,
        )
        return str(response["MessageId"])
