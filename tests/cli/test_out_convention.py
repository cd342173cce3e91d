"""One ``--out`` convention for every command that writes one file (ledger export, privacy
export, archive evidence): ``--out`` names the file; an existing folder gets the command's
default file name inside it; no ``--out`` writes that name in the current folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from quittance_ops.options import out_file


def test_out_names_the_file(tmp_path: Path) -> None:
    assert out_file(tmp_path / "books.csv", "export.csv") == tmp_path / "books.csv"


def test_an_existing_folder_gets_the_default_name(tmp_path: Path) -> None:
    assert out_file(tmp_path, "R-2026-000001-evidence.zip") == (
        tmp_path / "R-2026-000001-evidence.zip"
    )


def test_no_out_writes_the_default_name_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert out_file(None, "C-0123456789abcdef0123.zip").resolve() == (
        tmp_path / "C-0123456789abcdef0123.zip"
    )
