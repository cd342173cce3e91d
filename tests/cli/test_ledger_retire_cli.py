"""`quittance ledger retire` asks for exactly one of --year and --record before it contacts
anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quittance_ops.cli import app


@pytest.mark.parametrize(
    "args", [[], ["--year", "2015", "--record", "retirement.json"]], ids=["neither", "both"]
)
def test_year_or_record_exactly(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "no-such-stack.json"  # would fail loudly if it were read
    result = CliRunner().invoke(app, ["ledger", "retire", *args, "--stack", str(missing)])
    assert result.exit_code == 2
    assert "give --year YYYY to retire, or --record FILE" in result.output
    assert "not found" not in result.output
