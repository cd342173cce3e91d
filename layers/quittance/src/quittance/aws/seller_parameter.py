"""The seller profile in SSM Parameter Store, one JSON parameter per stage
(``/quittance/<stage>/seller-profile``), read through Powertools Parameters.

SSM keeps every version of a parameter (the last 100), so a receipt that records version
7 can be re-rendered with version 7 (``name:7``) long after version 8 was set, and the
console and CLI show who changed what when. The latest version is cached ``max_age``
seconds, so a change reaches warm functions within minutes and without a redeploy."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters import SSMProvider

from quittance.seller.published import PublishedProfile

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_ssm.client import SSMClient

# A pinned version never changes: cache it for the life of the environment.
_PINNED_MAX_AGE = 24 * 3600


class _VersionedSsm(SSMProvider):
    """Powertools' SSM provider, keeping the parameter's version beside its value so that
    both come from the same read (and the same cache entry)."""

    def _get(self, name: str, decrypt: bool = False, **sdk_options: Any) -> str:
        sdk_options["Name"] = name
        sdk_options["WithDecryption"] = decrypt
        try:
            parameter = self.client.get_parameter(**sdk_options)["Parameter"]
        except self.client.exceptions.ParameterNotFound:
            # Never set: cached like a value, so an unset stage is not asked on every job.
            return "null"
        return json.dumps({"version": parameter["Version"], "value": parameter["Value"]})


class SellerProfileParameter:
    """Reads (functions) and writes (the operator CLI) the stage's seller profile."""

    def __init__(self, name: str, client: SSMClient, max_age: int = 300) -> None:
        self.name = name
        self._client = client
        self._provider = _VersionedSsm(boto3_client=client)
        self._max_age = max_age

    def current(self) -> PublishedProfile | None:
        read = self._provider.get(self.name, transform="json", max_age=self._max_age)
        return None if read is None else _published(read)

    def at_version(self, version: int) -> PublishedProfile:
        read = self._provider.get(
            f"{self.name}:{version}", transform="json", max_age=_PINNED_MAX_AGE
        )
        return _published(read)

    def put(self, published_json: str) -> int:
        """Store a new version (already validated by the caller); returns its number."""
        answer = self._client.put_parameter(
            Name=self.name,
            Value=published_json,
            Type="String",
            Overwrite=True,
            Tier="Intelligent-Tiering",  # standard up to 4 KB, advanced (8 KB) beyond
            Description="quittance seller profile (quittance seller set)",
        )
        return int(answer["Version"])


def _published(read: object) -> PublishedProfile:
    if not isinstance(read, dict):
        raise TypeError("seller profile parameter: unexpected shape")
    return PublishedProfile.model_validate(
        {"version": read["version"], "profile": json.loads(read["value"])}
    )
