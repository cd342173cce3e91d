"""Powertools Idempotency as every SQS consumer uses it: one table (keys are per function),
records kept as long as SQS can redeliver a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from quittance.privacy.periods import REDELIVERY_WINDOW

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient


def persistence_layer(table: str, client: DynamoDBClient) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=table, boto3_client=client)


def consumer_config(key_jmespath: str) -> IdempotencyConfig:
    """Created at import; each invocation registers its Lambda context on it."""
    return IdempotencyConfig(
        event_key_jmespath=key_jmespath, expires_after_seconds=REDELIVERY_WINDOW
    )


def once_per_key(
    function: Callable[..., dict[str, Any]],
    *,
    data_keyword: str,
    config: IdempotencyConfig,
    table: str,
    client: DynamoDBClient,
    operation: str,
) -> Callable[..., dict[str, Any]]:
    """``function`` runs once per idempotency key; repeats get the stored result.

    ``operation`` names the records (``notify.job#<hash>``). Powertools would otherwise name
    them after the Lambda function and the Python module, so renaming either would forget
    every record, and two execution environments that import the handler under different
    module names (the local stack's) would not see each other's records."""
    return idempotent_function(  # type: ignore[no-any-return]
        data_keyword_argument=data_keyword,
        persistence_store=persistence_layer(table, client),
        config=config,
        key_prefix=operation,
    )(function)
