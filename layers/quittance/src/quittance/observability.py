"""Logger, Metrics and Tracer for one function, configured the same way everywhere.

A function may go without the Tracer (:func:`logs_and_metrics`): Powertools' Tracer imports
the X-Ray SDK even when tracing is disabled, which was the largest part of intake's cold
import. Lambda's Active tracing records such a function's segment all the same (its
initialisation and invocation times), and botocore passes the trace header on to the AWS
calls it makes (so a message sent to SQS stays in the trace); what it loses is the handler
subsegment and a subsegment per AWS call.

Every log line goes through :class:`RedactingFormatter`: known personal fields are replaced
and emails, phone numbers, IBANs and card numbers are masked wherever they appear (message,
extra keys, exception text), so no function can log personal data by mistake. Metric
dimensions are bounded values (a known provider name), never an identity."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from quittance.privacy.redaction import redact

# Powertools' own keys: never personal, left as they are.
_POWERTOOLS_KEYS = frozenset(
    {"level", "location", "timestamp", "service", "cold_start", "function_name",
     "function_memory_size", "function_arn", "function_request_id", "xray_trace_id",
     "sampling_rate"}
)  # fmt: skip


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        cleaned = {k: v if k in _POWERTOOLS_KEYS else redact(v, k) for k, v in log.items()}
        return super().serialize(cleaned)


def logs_and_metrics(service: str) -> tuple[Logger, Metrics]:
    """For a function whose cold start matters more than its handler's subsegments."""
    logger = Logger(service=service, logger_formatter=RedactingFormatter())
    metrics = Metrics(namespace="quittance", service=service)
    return logger, metrics


def instruments(service: str) -> tuple[Logger, Metrics, Tracer]:
    logger, metrics = logs_and_metrics(service)
    return logger, metrics, Tracer(service=service)
