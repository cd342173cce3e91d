"""`quittance archive dispose` removes proofs for good: a script asking for JSON gets no
prompt, so it must confirm with --yes, and nothing is contacted before it does."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from quittance_ops.cli import app


def test_json_without_yes_is_refused_before_anything_is_contacted(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-stack.json"  # would fail loudly if it were read
    result = CliRunner().invoke(
        app,
        ["archive", "dispose", "--before", "2020-01-01", "--json", "--stack", str(missing)],
    )
    assert result.exit_code == 2
    assert "--yes" in result.output


def test_with_yes_it_goes_on_to_the_stack(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-stack.json"
    result = CliRunner().invoke(
        app,
        ["archive", "dispose", "--before", "2020-01-01", "--json", "--yes", "--stack",
         str(missing)],
    )  # fmt: skip
    # Past the confirmation, it tries to reach the stack (absent here) and says so.
    assert result.exit_code == 2
    assert "not found" in result.output and "--yes" not in result.output
