"""``archive search`` and ``audit log`` take their many options as one parameter object
(quittance_ops.options.takes): each option still reaches the staff API as before, flags stay
flags, and an unknown option is refused by typer before any call."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quittance_ops.cli import app

from .test_privacy_erase_cli import StaffApi


@pytest.fixture
def api() -> Iterator[StaffApi]:
    server = StaffApi(proofs=1)
    threading.Thread(target=server.httpd.serve_forever, daemon=True).start()
    yield server
    server.httpd.shutdown()


def run(api: StaffApi, tmp_path: Path, *args: str) -> Any:
    stack_json = tmp_path / "stack.json"
    stack_json.write_text(
        json.dumps(
            {
                "api_url": api.url,
                "region": "eu-west-3",
                "credentials": {"aws_access_key_id": "testing", "aws_secret_access_key": "x"},
                "moto_endpoint": api.url,  # never called: these commands only read the API
                "resources": {"ArchiveBucket": "archive", "LedgerTable": "ledger"},
            }
        )
    )
    return CliRunner().invoke(app, [*args, "--stack", str(stack_json)])


def test_search_sends_each_filter_as_before(api: StaffApi, tmp_path: Path) -> None:
    result = run(
        api, tmp_path, "archive", "search", "--invoice", "F-1", "--from", "2026-01-01",
        "--method", "card", "--limit", "7", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert api.calls == [("GET", "/admin/receipts?invoice=F-1&from=2026-01-01&method=card&limit=7")]
    assert json.loads(result.output)["items"] == [{"receipt_number": "R-2026-000000"}]


def test_audit_log_sends_its_filters(api: StaffApi, tmp_path: Path) -> None:
    result = run(api, tmp_path, "audit", "log", "--action", "receipt.hold", "--json")
    assert result.exit_code == 0, result.output
    assert api.calls == [("GET", "/admin/audit?action=receipt.hold&limit=50")]


def test_an_unknown_option_is_refused_before_any_call(api: StaffApi, tmp_path: Path) -> None:
    result = run(api, tmp_path, "archive", "search", "--colour", "blue")
    assert result.exit_code == 2
    assert api.calls == []
