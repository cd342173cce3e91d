"""A Lambda handler for pump tests: records each batch; reports records whose body is
"fail" as failures, and raises on a batch holding "crash"."""

from __future__ import annotations

from typing import Any

batches: list[list[str]] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bodies = [record["body"] for record in event["Records"]]
    batches.append(bodies)
    if "crash" in bodies:
        raise RuntimeError("crash")
    return {
        "batchItemFailures": [
            {"itemIdentifier": record["messageId"]}
            for record in event["Records"]
            if record["body"] == "fail"
        ]
    }
