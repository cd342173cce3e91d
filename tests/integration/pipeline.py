"""Drive the moto stack's queues to quiet, the way Lambda's event source mappings would."""

from __future__ import annotations

from typing import Any

from quittance_ops.localstack.pumps import QueuePump

from .conftest import REGION, MotoStack, answer, http_event

STAGES = (
    ("PaymentEventsQueue", "LedgerFunction", 10),
    ("ReceiptJobsQueue", "ReceiptsFunction", 5),
    ("NotificationsQueue", "NotifyFunction", 10),
)


def drain(stack: MotoStack, rounds: int = 20) -> None:
    sqs = stack.client("sqs")
    pumps = [
        QueuePump(
            sqs=sqs,
            queue_url=stack.resource(queue),
            queue_arn=stack.resource(queue, "Arn"),
            function=stack.functions[function],
            batch_size=batch,
            report_failures=True,
            region=REGION,
            wait_seconds=0,
        )
        for queue, function, batch in STAGES
    ]
    for _ in range(rounds):
        if sum(pump.poll_once() for pump in pumps) == 0:
            return
    raise AssertionError("queues did not go quiet")


def post_webhook(stack: MotoStack, provider: str, body: bytes, headers: dict[str, str]) -> Any:
    event = http_event(
        "POST",
        f"/webhooks/{provider}",
        "/webhooks/{provider}",
        {"provider": provider},
        body=body,
        headers=headers,
    )
    return answer(stack.functions["IntakeFunction"].invoke(event))
