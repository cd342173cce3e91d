"""Secrets through Powertools Parameters (cached, so a warm function does not call every time)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_secretsmanager.client import SecretsManagerClient


class JsonSecret:
    """A JSON secret in Secrets Manager, read through a cache of ``max_age`` seconds."""

    def __init__(self, name: str, client: SecretsManagerClient, max_age: int = 300) -> None:
        self._name = name
        self._provider = SecretsProvider(boto3_client=client)
        self._max_age = max_age

    def read(self) -> dict[str, Any]:
        value = self._provider.get(self._name, transform="json", max_age=self._max_age)
        if not isinstance(value, dict):
            raise ValueError(f"secret {self._name} is not a JSON object")
        return value
