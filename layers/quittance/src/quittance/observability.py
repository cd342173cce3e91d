"""Logger, Metrics and Tracer for one function, configured the same way everywhere."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer


def instruments(service: str) -> tuple[Logger, Metrics, Tracer]:
    logger = Logger(service=service)
    metrics = Metrics(namespace="quittance", service=service)
    tracer = Tracer(service=service)
    return logger, metrics, tracer
