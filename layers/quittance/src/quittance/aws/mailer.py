"""SES v2: send a fully built MIME message through the stage's configuration set."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any


class SesMailer:
    def __init__(self, client: Any, configuration_set: str) -> None:
        self._client = client
        self._configuration_set = configuration_set

    def send(self, message: EmailMessage, tags: Mapping[str, str] | None = None) -> str:
        response = self._client.send_email(
            Content={"Raw": {"Data": message.as_bytes()}},
            ConfigurationSetName=self._configuration_set,
            EmailTags=[{"Name": name, "Value": value} for name, value in (tags or {}).items()],
        )
        return str(response["MessageId"])
