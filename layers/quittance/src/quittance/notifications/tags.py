"""Message tags: what an email carries so that SES's later events (bounce, complaint, delivery)
can be traced back to the message log, without any contact data.

SES accepts only ``[A-Za-z0-9_-]``, at most 256 characters, in a tag's name and value, while
invoice numbers and change ids also hold ``/``, ``.``, ``#`` or ``:``. Values are therefore
escaped reversibly: every other character (and ``_`` itself) becomes ``_`` followed by the two
hex digits of each of its UTF-8 bytes, so ``INV/2026.1`` travels as ``INV_2F2026_2E1``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

TAG_MAX_LENGTH = 256
_SAFE = re.compile(r"[A-Za-z0-9-]")
_TAG_TEXT = re.compile(r"[A-Za-z0-9_-]{1,256}")
_ESCAPE = re.compile(r"_([0-9A-F]{2})")

# The names the notify function puts on every customer email (contracts.md, point 2).
INVOICE, CHANGE, CUSTOMER, KIND = "invoice", "change", "customer", "kind"


class TagInvalid(ValueError):
    """A tag SES would refuse; the message must not be sent without its tags."""


def encode_tag_value(text: str) -> str:
    if not text:
        raise TagInvalid("a tag value cannot be empty")
    encoded = "".join(
        ch if _SAFE.fullmatch(ch) else "".join(f"_{b:02X}" for b in ch.encode()) for ch in text
    )
    if len(encoded) > TAG_MAX_LENGTH:
        raise TagInvalid(f"tag value longer than {TAG_MAX_LENGTH} characters once escaped")
    return encoded


def decode_tag_value(value: str) -> str:
    if not _TAG_TEXT.fullmatch(value):
        raise TagInvalid("not a tag value SES would have accepted")
    raw = bytearray()
    position = 0
    while position < len(value):
        if value[position] != "_":
            raw += value[position].encode()
            position += 1
            continue
        escape = _ESCAPE.match(value, position)
        if escape is None:
            raise TagInvalid("broken escape in tag value")
        raw.append(int(escape.group(1), 16))
        position = escape.end()
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise TagInvalid("tag value escapes are not UTF-8") from None


def email_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """SESv2 ``EmailTags`` for ``tags``: names checked as they are (they are ours), values
    escaped. Raises TagInvalid rather than letting SES refuse the whole send."""
    result = []
    for name, value in tags.items():
        if not _TAG_TEXT.fullmatch(name) or name.lower().startswith("ses:"):
            raise TagInvalid(f"tag name {name!r} is not [A-Za-z0-9_-]{{1,256}}")
        result.append({"Name": name, "Value": encode_tag_value(value)})
    return result


@dataclass(frozen=True)
class MessageRef:
    """The message an SES event is about, as the notify function tagged it."""

    invoice_number: str
    change_id: str
    customer_id: str
    kind: str


def message_ref(tags: Mapping[str, list[str]]) -> MessageRef | None:
    """Read our tags back from an SES event's ``mail.tags`` (name → list of values); None when
    the email was not sent by the notify function (no tags of ours)."""
    names = (INVOICE, CHANGE, CUSTOMER, KIND)
    if not any(name in tags for name in names):
        return None
    values = []
    for name in names:
        found = tags.get(name) or []
        if len(found) != 1:
            raise TagInvalid(f"tag {name!r} has {len(found)} values, expected one")
        values.append(decode_tag_value(found[0]))
    return MessageRef(*values)
