"""Signed, long-lived customer-link tokens (``/r/{token}``).

Wire format (version 1)::

    base64url(payload) "." base64url(HMAC-SHA256(key[key_id], DOMAIN || payload))

    payload = 0x01 | len(key_id) | key_id | len(receipt_number) | receipt_number | expiry

with one-byte lengths, ASCII strings and ``expiry`` as big-endian unsigned 32-bit epoch
seconds (enough until 2106; the version byte leaves room for a change). Base64url is
unpadded and must be canonical, so that no two strings verify as the same token.

The key id travels in clear so that keys can rotate: the secret names the current key, and
older keys stay in it, still verifying, until every token they signed has expired.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from quittance.errors import LinkExpired, LinkInvalid

TOKEN_MAX_LENGTH = 512
MIN_KEY_BYTES = 32
CURRENT_FIELD = "current"

_VERSION = 1
# Binds the MAC to this use, so a key mistakenly shared with another HMAC scheme can never
# make one of its outputs pass for a link.
_DOMAIN = b"quittance/link-token\x00"
_EXPIRY_BYTES = 4
_KEY_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
# Receipt numbers are ours (``R-2026-000042``): printable ASCII keeps the token small and
# keeps anything decoded from it free of control characters.
_RECEIPT_RE = re.compile(r"[\x21-\x7e]{1,64}")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+")

# Every reason a token is refused gets the same detail: it is meant for logs, and nothing
# in the answer should help someone probing tokens tell one failure from another.
_INVALID = "link token is not valid"


@dataclass(frozen=True)
class LinkClaims:
    """What a verified token vouches for."""

    receipt_number: str
    expires_at: datetime
    key_id: str


class LinkSigner:
    """Issues and verifies link tokens with a set of named HMAC keys."""

    __slots__ = ("_current_key_id", "_keys")

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str) -> None:
        checked: dict[bytes, bytes] = {}
        for key_id, key in keys.items():
            if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
                raise ValueError(f"key id {key_id!r} must match {_KEY_ID_RE.pattern}")
            if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
                # Never echo the key itself, only which one is too short.
                raise ValueError(f"key {key_id!r} must be at least {MIN_KEY_BYTES} bytes")
            checked[key_id.encode("ascii")] = bytes(key)
        if current_key_id.encode("ascii", errors="replace") not in checked:
            raise ValueError(f"current key id {current_key_id!r} is not among the keys")
        self._keys: Mapping[bytes, bytes] = MappingProxyType(checked)
        self._current_key_id = current_key_id

    @classmethod
    def from_secret(cls, secret: Mapping[str, str]) -> LinkSigner:
        """From the Secrets Manager JSON ``{"current": "k1", "k1": "...", "k0": "..."}``.

        Every entry except ``current`` is a key; its UTF-8 bytes are the HMAC key.
        """
        current = secret.get(CURRENT_FIELD)
        if not isinstance(current, str):
            raise ValueError(f"secret lacks a string {CURRENT_FIELD!r} entry")
        keys: dict[str, bytes] = {}
        for key_id, value in secret.items():
            if key_id == CURRENT_FIELD:
                continue
            if not isinstance(value, str):
                raise ValueError(f"secret entry {key_id!r} must be a string")
            keys[key_id] = value.encode("utf-8")
        return cls(keys, current)

    @property
    def current_key_id(self) -> str:
        return self._current_key_id

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(key_id.decode("ascii") for key_id in self._keys)

    def __repr__(self) -> str:
        # The default repr would end up in logs and tracebacks with the keys in it.
        return (
            f"LinkSigner(current_key_id={self._current_key_id!r}, key_ids={sorted(self.key_ids)})"
        )

    def issue(self, receipt_number: str, expires_at: datetime) -> str:
        """Token for ``receipt_number``, valid until ``expires_at`` rounded down to the second."""
        if not _RECEIPT_RE.fullmatch(receipt_number):
            raise ValueError("receipt number must be 1 to 64 printable ASCII characters")
        if expires_at.tzinfo is None or expires_at.utcoffset() is None:
            raise ValueError("expires_at must carry a timezone")
        expiry = math.floor(expires_at.timestamp())
        if not 0 <= expiry < 1 << (8 * _EXPIRY_BYTES):
            raise ValueError("expires_at is outside what the token format can carry")
        key_id = self._current_key_id.encode("ascii")
        receipt = receipt_number.encode("ascii")
        payload = b"".join(
            (
                bytes((_VERSION, len(key_id))),
                key_id,
                bytes((len(receipt),)),
                receipt,
                expiry.to_bytes(_EXPIRY_BYTES, "big"),
            )
        )
        mac = _mac(self._keys[key_id], payload)
        return f"{_b64encode(payload)}.{_b64encode(mac)}"

    def verify(self, token: str, now: datetime) -> LinkClaims:
        """The claims of a genuine, unexpired token.

        Raises LinkInvalid for anything not issued by one of our keys (whatever its shape),
        and LinkExpired only for a genuine token past its expiry.
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must carry a timezone")
        payload = self._authenticated_payload(token)
        receipt_number, expiry = _read_claims(payload)
        expires_at = datetime.fromtimestamp(expiry, UTC)
        if now >= expires_at:
            raise LinkExpired("link token has expired")
        key_id = payload[2 : 2 + payload[1]].decode("ascii")
        return LinkClaims(receipt_number=receipt_number, expires_at=expires_at, key_id=key_id)

    def _authenticated_payload(self, token: object) -> bytes:
        """The payload bytes once the MAC checks out; only version and key id read before."""
        if not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH:
            raise LinkInvalid(_INVALID)
        encoded_payload, dot, encoded_mac = token.partition(".")
        if not dot:
            raise LinkInvalid(_INVALID)
        payload = _b64decode(encoded_payload)
        mac = _b64decode(encoded_mac)
        if len(payload) < 2 or payload[0] != _VERSION or len(payload) < 2 + payload[1]:
            raise LinkInvalid(_INVALID)
        key = self._keys.get(payload[2 : 2 + payload[1]])
        if key is None:
            raise LinkInvalid(_INVALID)
        if not hmac.compare_digest(_mac(key, payload), mac):
            raise LinkInvalid(_INVALID)
        return payload


def _read_claims(payload: bytes) -> tuple[str, int]:
    # Past the MAC the layout is ours, but a bug in an old issuer must still surface as
    # LinkInvalid rather than an IndexError in a handler.
    offset = 2 + payload[1]
    if offset >= len(payload):
        raise LinkInvalid(_INVALID)
    receipt_end = offset + 1 + payload[offset]
    if len(payload) != receipt_end + _EXPIRY_BYTES:
        raise LinkInvalid(_INVALID)
    try:
        receipt_number = payload[offset + 1 : receipt_end].decode("ascii")
    except UnicodeDecodeError:
        raise LinkInvalid(_INVALID) from None
    if not _RECEIPT_RE.fullmatch(receipt_number):
        raise LinkInvalid(_INVALID)
    return receipt_number, int.from_bytes(payload[receipt_end:], "big")


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    # str.fullmatch on the alphabet first: b64decode alone would accept non-ASCII input
    # with a different exception, and skip characters outside the alphabet.
    if not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise LinkInvalid(_INVALID)
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise LinkInvalid(_INVALID) from None
    # Unused low bits of the last character are ignored by the decoder; demanding the
    # canonical spelling keeps "flip one character" from yielding a second valid token.
    if _b64encode(data) != text:
        raise LinkInvalid(_INVALID)
    return data
