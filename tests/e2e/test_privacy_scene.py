"""The erasure scene and the privacy CLI against a real local stack (moto server, the local
gateway checking SigV4): erase the demo's card customer, their next payment gets a receipt and
no message; the CLI exports a customer to a zip through the signed staff API."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from quittance.ledger.service import pseudonymous_customer_id
from quittance_ops.admin_client import AdminClient
from quittance_ops.cli import app
from quittance_ops.deliveries.standard_webhooks import CUSTOMER, standard_payment
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.localstack.stack import LocalStack
from quittance_ops.privacy_demo import DEMO_CUSTOMER, erasure_scene

ROOT = Path(__file__).resolve().parents[2]


def answer(output: str, key: str) -> dict[str, Any]:
    """The CLI's one-line JSON answer (the in-process stack's function logs share stdout)."""
    [line] = [line for line in output.splitlines() if line.startswith(f'{{"{key}"')]
    return json.loads(line)  # type: ignore[no-any-return]


@pytest.mark.xdist_group("local_stack")
def test_erasure_scene_and_privacy_cli(tmp_path: Path) -> None:
    endpoint_before = os.environ.get("AWS_ENDPOINT_URL")
    with LocalStack(ROOT, out_dir=tmp_path / "local") as stack:
        assert stack.info is not None
        for delivery in (
            stripe_payment_intent_succeeded(
                secret=stack.info.webhook_secrets["stripe"],
                invoice_number="F-2026-0142",
                amount_minor=123456,
                customer=DEMO_CUSTOMER,
            ),
            standard_payment(
                stack.info.webhook_secrets["standard"],
                invoice_number="F-2026-0143",
                amount_minor=4800,
            ),
        ):
            request = urllib.request.Request(
                f"{stack.info.api_url}/webhooks/{delivery.provider}",
                data=delivery.body,
                headers=delivery.headers,
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 202
        assert stack.wait_until_drained(timeout=90)

        stack_json = tmp_path / "local" / "stack.json"
        runner = CliRunner()
        standard_customer = pseudonymous_customer_id("standard", CUSTOMER["reference"])
        out = tmp_path / "customer.zip"
        result = runner.invoke(
            app,
            ["privacy", "export", standard_customer, "--out", str(out), "--stack", str(stack_json),
             "--json"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        summary = answer(result.output, "out")
        assert summary["files"] == 1
        assert hashlib.sha256(out.read_bytes()).hexdigest() == summary["sha256"]
        assert not out.with_suffix(".zip.part").exists()
        # The zip waits in the stack's own exports bucket, behind a link to the local moto
        # server (the CLI could only download it from there).
        assert "ExportsBucket" in stack.info.resources
        assert "ExportsBucketPolicy:TlsOnly" in stack.info.not_enforced_locally
        status, body = AdminClient.for_local_stack(stack_json).call(
            "GET", f"/admin/customers/{standard_customer}/export"
        )
        assert status == 200, body
        assert body["download_url"].startswith(
            f"{stack.info.moto_endpoint}/{stack.info.resources['ExportsBucket']}/exports/"
        )
        assert body["download_url"].startswith("http://127.0.0.1:")
        with zipfile.ZipFile(out) as archive:
            document = json.loads(archive.read("customer.json"))
            assert document["profile"]["email"] == CUSTOMER["email"]
            [pdf] = [n for n in archive.namelist() if n.endswith(".pdf")]
            assert archive.read(pdf).startswith(b"%PDF")

        problems = erasure_scene(stack, Console(record=True), tmp_path)
        assert problems == []
        report = json.loads((tmp_path / "privacy-erasure.json").read_text())
        assert {e["record"] for e in report["erased"]} >= {"data_key", "customer_profile"}

        result = runner.invoke(
            app,
            ["privacy", "erase", pseudonymous_customer_id("stripe", DEMO_CUSTOMER), "--stack",
             str(stack_json), "--json", "--yes"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert answer(result.output, "customer_id")["already_erased"] is True
    # Stopped, the stack gives the process its environment back: nothing run next here talks
    # to its moto server, which is gone.
    assert os.environ.get("AWS_ENDPOINT_URL") == endpoint_before
