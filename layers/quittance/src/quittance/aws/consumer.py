"""The skeleton every SQS consumer shares (docs/architecture.md): records parsed into a
pydantic model by Powertools' BatchProcessor, the effect run once per idempotency key, and
partial batch failures reported so only the failed records come back."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance.aws.idempotency import consumer_config, once_per_key

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient


class SqsConsumer:
    """Created at import (the idempotency config registers each invocation's context)."""

    def __init__(
        self,
        model: type[SqsRecordModel],
        *,
        key_jmespath: str | None = None,
        idempotency: IdempotencyConfig | None = None,
    ) -> None:
        if (key_jmespath is None) == (idempotency is None):
            raise ValueError("give the idempotency key or a whole idempotency config")
        self.processor = BatchProcessor(event_type=EventType.SQS, model=model)
        self.idempotency = idempotency or consumer_config(str(key_jmespath))

    def once(
        self,
        function: Callable[..., dict[str, Any]],
        *,
        data_keyword: str,
        table: str,
        client: DynamoDBClient,
        operation: str,
    ) -> Callable[..., dict[str, Any]]:
        """``function`` runs once per idempotency key under ``operation``'s name; repeats get
        the stored result."""
        return once_per_key(
            function,
            data_keyword=data_keyword,
            config=self.idempotency,
            table=table,
            client=client,
            operation=operation,
        )

    def process(
        self,
        event: dict[str, Any],
        context: LambdaContext,
        record_handler: Callable[[Any], dict[str, Any]],
    ) -> PartialItemFailureResponse:
        self.idempotency.register_lambda_context(context)
        return process_partial_response(
            event=event, record_handler=record_handler, processor=self.processor, context=context
        )
