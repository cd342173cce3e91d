"""Items read by their keys, 100 a request: what a reader does after querying an index that
copies only keys (the ledger's gsi1 and gsi2, template.yaml; docs/performance.md)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient

_BATCH = 100  # BatchGetItem's limit
_ATTEMPTS = 8


def items_by_key(
    client: DynamoDBClient, table: str, keys: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The items at ``keys`` (typed ``{"pk": {"S": …}, "sk": {"S": …}}``), in the keys' order,
    read consistently; a key whose item is gone is left out. Keys DynamoDB leaves unprocessed
    (throttling) are asked again after a pause; still throttled after eight requests, the
    read fails rather than answering with a part."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(keys), _BATCH):
        pending: Any = {table: {"Keys": keys[start : start + _BATCH], "ConsistentRead": True}}
        for attempt in range(_ATTEMPTS):
            response = client.batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(table, []):
                found[_key(item)] = item
            pending = response.get("UnprocessedKeys") or None
            if not pending:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise RuntimeError(f"{table} kept throttling a batch read")
    return [found[_key(key)] for key in keys if _key(key) in found]


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]
