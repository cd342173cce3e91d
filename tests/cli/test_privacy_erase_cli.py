"""``quittance privacy erase`` is irreversible (the customer's key is destroyed at once), so
it says what it will do, with how many proofs the archive holds for that id, and asks; a
script says ``--yes``. The staff API is played by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quittance_ops.cli import app

CUSTOMER = "C-0123456789abcdef0123"
ERASED = {"customer_id": CUSTOMER, "erased": [], "kept": [], "already_erased": False}


class StaffApi:
    def __init__(self, proofs: int) -> None:
        self.calls: list[tuple[str, str]] = []
        self.proofs = proofs
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, body: Any) -> None:
                api.calls.append((self.command, self.path))
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                items = [{"receipt_number": f"R-2026-{n:06d}"} for n in range(api.proofs)]
                self._answer({"items": items, "next_cursor": None})

            def do_DELETE(self) -> None:
                self._answer(ERASED)

            def log_message(self, *_: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def deletes(self) -> list[str]:
        return [path for method, path in self.calls if method == "DELETE"]


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[StaffApi]:
    server = StaffApi(proofs=getattr(request, "param", 2))
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()


def erase(api: StaffApi, tmp_path: Path, *args: str, answer: str | None = None) -> Any:
    stack_json = tmp_path / "stack.json"
    stack_json.write_text(
        json.dumps(
            {
                "api_url": api.url,
                "region": "eu-west-3",
                "credentials": {"aws_access_key_id": "testing", "aws_secret_access_key": "x"},
            }
        )
    )
    return CliRunner().invoke(
        app, ["privacy", "erase", CUSTOMER, *args, "--stack", str(stack_json)], input=answer
    )


def test_erase_asks_first_and_a_no_destroys_nothing(api: StaffApi, tmp_path: Path) -> None:
    result = erase(api, tmp_path, answer="n\n")
    assert result.exit_code == 1
    # The question names the customer, what is destroyed, and what the archive holds for it.
    assert CUSTOMER in result.output and "2 proof(s) in the archive" in result.output
    assert "cannot be undone" in result.output
    assert api.deletes == []


@pytest.mark.parametrize("api", [0], indirect=True)
def test_a_mistyped_id_shows_no_proof_before_the_question(api: StaffApi, tmp_path: Path) -> None:
    result = erase(api, tmp_path, answer="n\n")
    assert "NO proof in the archive" in result.output
    assert api.deletes == []


def test_erase_goes_ahead_on_yes_at_the_prompt(api: StaffApi, tmp_path: Path) -> None:
    result = erase(api, tmp_path, answer="y\n")
    assert result.exit_code == 0, result.output
    assert api.deletes == [f"/admin/customers/{CUSTOMER}"]


def test_yes_erases_without_asking(api: StaffApi, tmp_path: Path) -> None:
    result = erase(api, tmp_path, "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == ERASED
    assert api.calls == [("DELETE", f"/admin/customers/{CUSTOMER}")]  # no look-up either


def test_json_without_yes_is_refused_before_any_call(api: StaffApi, tmp_path: Path) -> None:
    # A script has nobody to answer a prompt: it must say --yes, never erase by default.
    result = erase(api, tmp_path, "--json")
    assert result.exit_code == 2
    assert "--yes" in result.output
    assert api.calls == []
