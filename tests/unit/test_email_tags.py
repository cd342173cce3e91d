"""Message tags: any invoice number or change id survives SES's tag alphabet and comes back."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quittance.notifications.tags import (
    MessageRef,
    TagInvalid,
    decode_tag_value,
    email_tags,
    encode_tag_value,
    message_ref,
)

SES_TAG = re.compile(r"[A-Za-z0-9_-]{1,256}")


# A character escapes to at most 12 (four UTF-8 bytes, "_XX" each): 21 always fit in 256.
@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=21))
def test_any_text_travels_in_ses_alphabet_and_comes_back(text: str) -> None:
    encoded = encode_tag_value(text)
    assert SES_TAG.fullmatch(encoded)
    assert decode_tag_value(encoded) == text


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_a_text_too_long_once_escaped_is_refused_never_cut(text: str) -> None:
    escaped = sum(
        1 if c.isascii() and (c.isalnum() or c == "-") else 3 * len(c.encode()) for c in text
    )
    if escaped <= 256:
        assert decode_tag_value(encode_tag_value(text)) == text
    else:
        with pytest.raises(TagInvalid, match="longer than 256"):
            encode_tag_value(text)


def test_project_identifiers_stay_readable() -> None:
    assert encode_tag_value("FA/2026.0042") == "FA_2F2026_2E0042"
    assert encode_tag_value("R-2026-000042:payment_confirmed") == (
        "R-2026-000042_3Apayment_5Fconfirmed"
    )
    assert encode_tag_value("C-0123456789abcdef0123") == "C-0123456789abcdef0123"


@pytest.mark.parametrize("value", ["", "x" * 257, "é" * 43])
def test_a_value_ses_would_refuse_is_refused_before_sending(value: str) -> None:
    with pytest.raises(TagInvalid):
        encode_tag_value(value)


@pytest.mark.parametrize("value", ["a_", "a_4", "a_zz", "a b", "_FF"])
def test_a_broken_value_is_not_decoded_into_something_else(value: str) -> None:
    with pytest.raises(TagInvalid):
        decode_tag_value(value)


def test_email_tags_check_names_and_escape_values() -> None:
    assert email_tags({"invoice": "FA/1", "kind": "payment_confirmed"}) == [
        {"Name": "invoice", "Value": "FA_2F1"},
        {"Name": "kind", "Value": "payment_5Fconfirmed"},
    ]
    for name in ("in voice", "ses:configuration-set", ""):
        with pytest.raises(TagInvalid):
            email_tags({name: "x"})


def test_message_ref_reads_our_tags_among_those_ses_adds() -> None:
    published = {
        t["Name"]: [t["Value"]]
        for t in email_tags(
            {"invoice": "FA/1", "change": "R-1:payment_confirmed", "customer": "C-1", "kind": "k"}
        )
    }
    published["ses:configuration-set"] = ["quittance-prod"]
    assert message_ref(published) == MessageRef("FA/1", "R-1:payment_confirmed", "C-1", "k")
    assert message_ref({"ses:configuration-set": ["x"]}) is None
    with pytest.raises(TagInvalid):
        message_ref({"invoice": ["FA_2F1"], "change": ["a", "b"]})
