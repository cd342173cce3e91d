"""Intake answers gateways fast: its module must not drag the PDF renderer into a cold start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_intake_handler_imports_no_rendering_code() -> None:
    code = (
        "import sys, importlib.util;"
        "spec = importlib.util.spec_from_file_location('intake_app', 'functions/intake/app.py');"
        "m = importlib.util.module_from_spec(spec); sys.modules['intake_app'] = m;"
        "spec.loader.exec_module(m);"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in {'weasyprint', 'pydyf'}"
        " or n.startswith(('quittance.receipts', 'quittance.notifications', 'jinja2'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
