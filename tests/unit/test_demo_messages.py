"""The demo's message files: what moto server recorded, named from the ledger's message log."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from quittance.aws.ledger_table import LedgerTable
from quittance.aws.sms import SnsSms
from quittance_ops.demo_messages import sent_sms, write_messages

REGION = "eu-west-3"


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_sms_are_written_beside_the_emails_under_their_log_names(
    moto_server: str, tmp_path: Path
) -> None:
    def client(service: str) -> object:
        return boto3.client(service, region_name=REGION, endpoint_url=moto_server)

    dynamodb = client("dynamodb")
    keys = [("pk", "HASH"), ("sk", "RANGE")]
    dynamodb.create_table(  # type: ignore[attr-defined]
        TableName="ledger",
        KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind in keys],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name, _ in keys],
        BillingMode="PAY_PER_REQUEST",
    )
    ledger = LedgerTable("ledger", dynamodb)
    text = "Quittance: paiement de 42,00 € non abouti (carte expirée). Aucun montant débité."
    message_id = SnsSms(client("sns"), "Quittance").send("+33612345678", text)
    SnsSms(client("sns"), "Quittance").send("+33612345679", "not in any log")
    now = datetime.now(UTC)
    ledger.record_message(
        "F-9",
        "F-9#failed#evt_1",
        "sms",
        {"kind": "payment_failed", "status": "sent", "provider_message_id": message_id},
        now + timedelta(days=1),
    )

    assert [s.text for s in sent_sms(moto_server)] == [text, "not in any log"]
    [path] = write_messages(moto_server, ledger, ["F-9"], tmp_path / "emails")
    assert path.name == "F-9-payment_failed.sms.txt"
    assert path.read_text(encoding="utf-8") == text + "\n"
