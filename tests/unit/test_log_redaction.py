"""No personal data in logs: every function's logger masks emails, phones, IBANs and card
numbers wherever they appear and redacts known personal fields, and leaves the ids, numbers
and amounts operators need untouched."""

from __future__ import annotations

import json

import pytest

from quittance.observability import instruments
from quittance.privacy.redaction import mask_text, redact

PERSONAL = {
    "ada.lovelace@example.net": "[email]",
    "+33 6 12 34 56 78": "[phone]",
    "06 12 34 56 78": "[phone]",
    "+447911123456": "[phone]",
    "FR7630006000011234567890189": "[iban]",
    "FR76 3000 6000 0112 3456 7890 189": "[iban]",
    "4242 4242 4242 4242": "[card]",
    "4000056655665556": "[card]",
}
OPERATIONAL = [
    "R-2026-000042",
    "AV-2026-000001",
    "F-2026-0042",
    "C-9fc150bbf9e9c87c7104",
    "evt_44d9eca0f554468b8709e598",
    "pi_3NfGhT2eZvKYlo2C0123abcd",
    "612f8783-38af-4afb-8a66-9d3bd3595b88",
    "2026-11-23T06:21:29.678000+00:00",
    "1795428000000",
    "FR76 **** **** **** **** ***0 189",
    "4200",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
]


@pytest.mark.parametrize(("text", "mask"), PERSONAL.items())
def test_personal_patterns_are_masked_inside_any_text(text: str, mask: str) -> None:
    assert mask_text(f"could not send to {text} today") == f"could not send to {mask} today"


@pytest.mark.parametrize("text", OPERATIONAL)
def test_ids_numbers_and_times_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_known_personal_fields_are_redacted_at_any_depth() -> None:
    value = {"customer": {"name": "Ada Lovelace", "locale": "fr"}, "to": ["x"], "amount": 4200}
    assert redact(value) == {
        "customer": {"name": "[redacted]", "locale": "fr"},
        "to": "[redacted]",
        "amount": 4200,
    }


def test_function_logger_writes_no_personal_data(capsys: pytest.CaptureFixture[str]) -> None:
    logger, _, _ = instruments("redaction_test")
    logger.info(
        "bounce for ada.lovelace@example.net",
        extra={"email": "ada.lovelace@example.net", "receipt_number": "R-2026-000042"},
    )
    try:
        raise ValueError("IBAN FR7630006000011234567890189 refused")
    except ValueError:
        logger.exception("transfer failed")
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(lines) == 2
    text = out
    for secret in ("ada.lovelace@example.net", "FR7630006000011234567890189"):
        assert secret not in text
    assert lines[0]["receipt_number"] == "R-2026-000042"
    assert lines[0]["email"] == "[redacted]"
    assert lines[0]["message"] == "bounce for [email]"
    assert "[iban]" in lines[1]["exception"]
