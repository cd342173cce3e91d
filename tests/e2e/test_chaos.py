"""The chain-wide proof, small enough for every run of the suite: bench/chaos.py with a few
dozen payments, 20 % of the functions' AWS calls failing and 5 % of their side effects
followed by a crash. Every guarantee of docs/reliability.md is checked on its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("chaos")]


def test_every_genuine_payment_gets_one_receipt_and_one_message_through_aws_faults(
    tmp_path: Path,
) -> None:
    # Given 24 payments from three gateways, 30 % delivered again and 2 forged, sent from
    # 8 threads to a local stack failing 20 % of AWS calls and crashing after 5 % of writes
    run = subprocess.run(
        [sys.executable, "bench/chaos.py", "--payments", "24", "--crash-rate", "0.05",
         "--seed", "11", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    figures = json.loads((tmp_path / "chaos.json").read_text())
    # The faults really happened, in several services, and so did crashes between steps
    injected = figures["faults"]["injected"]
    assert {"dynamodb", "sqs", "s3"} <= set(injected), injected
    assert sum(sum(c.values()) for c in figures["faults"]["crashes"].values()) > 0
    assert figures["faults"]["retries"] > 0
    # Then every genuine payment has exactly one archived receipt, numbered without a gap
    assert figures["lost"] == []
    assert figures["payments_with_two_receipts"] == []
    assert figures["receipts"] == figures["receipts_archived"] == figures["payments"] == 24
    assert figures["numbering_gaps"] == [] and figures["numbers_given_twice"] == []
    # no forgery was accepted, every genuine delivery was finally acknowledged
    assert figures["forged_accepted"] == []
    assert figures["final_statuses"].get("401") == figures["forged_payments"] == 1
    assert "gave_up" not in figures["final_statuses"]
    # every customer got their confirmation (GoCardless's payers too, read from its API); a
    # second copy only where a crash or a lost answer came right after SES took the first one
    emails = figures["emails"]
    assert emails["missing"] == [] and emails["expected"] == 24
    assert emails["duplicates"] <= emails["duplicate_window"]
    # and nothing waits in a dead-letter queue after one redrive
    assert not any(figures["dead_letters_left"].values()), figures["left_behind"]
    assert run.returncode == 0, run.stdout[-3000:]
