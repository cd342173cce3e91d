"""The export zip as the staff get it: the API's zip layout, its key, and the CLI's download,
which writes a file only when the bytes are the ones the API described (size and SHA-256),
served here by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quittance.privacy.export import CustomerExport, export_key
from quittance_ops.cli import app
from quittance_ops.privacy_cli import DownloadRefused, download_export

NOW = datetime(2026, 11, 23, 8, 45, 7, tzinfo=UTC)
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 100


def customer_export() -> CustomerExport:
    return CustomerExport(
        document={
            "format": "quittance.customer-export/1",
            "customer_id": "C-0123456789abcdef0123",
            "generated_at": NOW.isoformat(),
            "invoices": [{"summary": {"number": "F-1"}}],
        },
        files={"receipts/R-2026-000002.pdf": PDF, "receipts/R-2026-000001.pdf": PDF[::-1]},
    )


def test_zip_holds_the_document_and_the_pdfs_byte_for_byte() -> None:
    export = customer_export()
    body = export.zip_bytes()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.namelist() == [
            "customer.json",
            "receipts/R-2026-000001.pdf",
            "receipts/R-2026-000002.pdf",
        ]
        assert json.loads(archive.read("customer.json")) == export.document
        for name, data in export.files.items():
            assert archive.read(name) == data
    # The same export gives the same bytes, so its SHA-256 identifies it.
    assert customer_export().zip_bytes() == body


def test_export_key_names_customer_time_and_request() -> None:
    key = export_key("C-0123456789abcdef0123", "Jd8h3g=/..x", NOW)
    assert key == "exports/customers/C-0123456789abcdef0123/20261123T084507Z-Jd8h3gx.zip"


class _Server:
    """Serves ``body`` at any path, once per request."""

    def __init__(self) -> None:
        self.body = b""
        self.api_answer: dict[str, Any] = {}
        self.paths: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                is_api = self.path.startswith("/admin/")
                body = json.dumps(server.api_answer).encode() if is_api else server.body
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    thread = threading.Thread(target=s.httpd.serve_forever, daemon=True)
    thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def answer_for(body: bytes, url: str) -> dict[str, Any]:
    return {
        "download_url": f"{url}/bucket/exports/C-1/x.zip?X-Amz-Expires=900",
        "size": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
    }


def test_download_writes_the_zip_when_it_matches(server: _Server, tmp_path: Path) -> None:
    server.body = customer_export().zip_bytes()
    out = tmp_path / "customer.zip"
    assert download_export(answer_for(server.body, server.url), out) == len(server.body)
    assert out.read_bytes() == server.body
    assert server.paths == ["/bucket/exports/C-1/x.zip?X-Amz-Expires=900"]
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize(
    ("served", "message"),
    [
        (b"PK" + b"\x00" * 98, "sha256"),  # same size, other bytes
        (b"PK" + b"\x00" * 50, "bytes"),  # cut short
        (b"PK" + b"\x00" * 500, "more than"),  # longer than announced
    ],
)
def test_download_refuses_bytes_other_than_announced(
    server: _Server, tmp_path: Path, served: bytes, message: str
) -> None:
    out = tmp_path / "customer.zip"
    out.write_bytes(b"an earlier export")
    server.body = served
    announced = answer_for(b"PK" + b"\x01" * 98, server.url)
    with pytest.raises(DownloadRefused, match=message):
        download_export(announced, out)
    # Nothing half-written: the earlier file is untouched and no .part is left.
    assert out.read_bytes() == b"an earlier export"
    assert list(tmp_path.iterdir()) == [out]


def test_download_refuses_a_non_http_link(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"x")
    answer = {
        "download_url": secret.as_uri(),
        "size": 1,
        "sha256": hashlib.sha256(b"x").hexdigest(),
    }
    with pytest.raises(DownloadRefused, match="not an http"):
        download_export(answer, tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


def _stack_json(tmp_path: Path, api_url: str) -> Path:
    path = tmp_path / "stack.json"
    path.write_text(
        json.dumps(
            {
                "api_url": api_url,
                "region": "eu-west-3",
                "credentials": {"aws_access_key_id": "testing", "aws_secret_access_key": "x"},
            }
        )
    )
    return path


@pytest.mark.parametrize("tampered", [False, True])
def test_cli_export_writes_a_verified_zip_or_exits_1(
    server: _Server, tmp_path: Path, tampered: bool
) -> None:
    # The staff API (played by the server) answers with a link to the server itself.
    zipped = customer_export().zip_bytes()
    server.body = zipped[:-1] + b"?" if tampered else zipped
    server.api_answer = {
        **answer_for(zipped, server.url),
        "customer_id": "C-0123456789abcdef0123",
        "invoices": 1,
        "files": 2,
    }
    out = tmp_path / "customer.zip"
    result = CliRunner().invoke(
        app,
        ["privacy", "export", "C-0123456789abcdef0123", "--out", str(out),
         "--stack", str(_stack_json(tmp_path, server.url)), "--json"],
    )  # fmt: skip
    assert server.paths[0] == "/admin/customers/C-0123456789abcdef0123/export"
    if tampered:
        assert result.exit_code == 1
        assert "export download refused" in result.output and "sha256" in result.output
        assert not out.exists() and not out.with_suffix(".zip.part").exists()
    else:
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output)
        assert summary == {
            "out": str(out),
            "invoices": 1,
            "files": 2,
            "size": len(zipped),
            "sha256": hashlib.sha256(zipped).hexdigest(),
        }
        assert out.read_bytes() == zipped
