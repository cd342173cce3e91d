"""Intake answers gateways fast: its module must not drag the PDF renderer, nor what it does
not use on its way to a 202, into a cold start (docs/performance.md, issue 20)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def loaded_by_intake(*prefixes: str) -> str:
    """The modules among ``prefixes`` that importing the intake handler loads, printed."""
    code = (
        "import sys, importlib.util;"
        "spec = importlib.util.spec_from_file_location('intake_app', 'functions/intake/app.py');"
        "m = importlib.util.module_from_spec(spec); sys.modules['intake_app'] = m;"
        "spec.loader.exec_module(m);"
        f"print(sorted(n for n in sys.modules if n.startswith({prefixes!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_the_intake_handler_imports_no_rendering_code() -> None:
    loaded = loaded_by_intake(
        "weasyprint", "pydyf", "quittance.receipts", "quittance.notifications", "jinja2"
    )
    assert loaded == "[]", loaded


def test_the_intake_handler_imports_neither_the_xray_sdk_nor_the_event_handler() -> None:
    # The two largest parts of its cold import before issue 20 (about 100 and 60 ms).
    loaded = loaded_by_intake("aws_xray_sdk", "aws_lambda_powertools.event_handler")
    assert loaded == "[]", loaded


def test_each_gateway_name_reaches_its_own_adapter() -> None:
    # The adapters are imported on a gateway's first call: a slip in their table would
    # otherwise show only when that gateway first sends a webhook.
    from quittance.errors import UnknownProvider
    from quittance.providers import adapter_for, provider_names

    assert provider_names() == ["gocardless", "standard", "stripe"]
    assert [adapter_for(name).name for name in provider_names()] == provider_names()
    with pytest.raises(UnknownProvider):
        adapter_for("paypal")


def test_the_intake_handler_loads_no_gateway_adapter_before_its_first_call() -> None:
    loaded = loaded_by_intake(
        "quittance.providers.stripe",
        "quittance.providers.gocardless",
        "quittance.providers.standard_webhooks",
        "quittance.ledger.service",
    )
    assert loaded == "[]", loaded
