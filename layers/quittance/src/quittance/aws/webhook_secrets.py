"""Gateway signing secrets, several active per provider so they can be rotated."""

from __future__ import annotations

from collections.abc import Sequence

from quittance.aws.secrets import JsonSecret


class WebhookSecrets:
    def __init__(self, secret: JsonSecret) -> None:
        self._secret = secret

    def for_provider(self, provider: str) -> Sequence[str]:
        value = self._secret.read().get(provider) or []
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value if v]
