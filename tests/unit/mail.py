"""Reading a composed email as SES receives it and as a mail client shows it (test helper)."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

from quittance.notifications.email_kit import Letterhead, Recipient, SellerContact


def wire(msg: EmailMessage) -> tuple[bytes, EmailMessage]:
    """Serialized as SES would receive it, and parsed back as a mail client would."""
    raw = msg.as_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return raw, parsed


def parts(parsed: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies."""
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())


def plain(text: str) -> str:
    """Babel and French typography use no-break spaces; compare with ordinary ones."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


class HtmlText(HTMLParser):
    """The links and the visible words of an HTML body."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)

    def handle_data(self, data: str) -> None:
        # Table cells sit side by side without whitespace; a space keeps their words apart.
        self.text += data + " "

    def words(self) -> str:
        return " ".join(plain(self.text).split())


def letterhead_recipient(fields: dict[str, Any]) -> tuple[Letterhead, Recipient, dict[str, Any]]:
    """A composer's flat test fields split into its letterhead, its recipient and the rest
    (the facts of the message), so that a test overrides any of them by name."""
    rest = dict(fields)
    letterhead = Letterhead(
        sender=rest.pop("sender"),
        seller=SellerContact(
            name=rest.pop("seller_name"),
            email=rest.pop("seller_email"),
            phone=rest.pop("seller_phone"),
        ),
        message_id_domain=rest.pop("message_id_domain"),
        configuration_set_headers=rest.pop("configuration_set_headers", None) or {},
    )
    recipient = Recipient(
        email=rest.pop("to_email"),
        name=rest.pop("to_name"),
        locale=rest.pop("locale"),
        tone=rest.pop("tone"),
        timezone=rest.pop("timezone"),
    )
    return letterhead, recipient, rest
