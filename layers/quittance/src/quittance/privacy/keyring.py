"""Per-customer envelope encryption, so that erasing a customer is destroying one key.

Each customer gets one AES-256 data key; only its wrapped copy is stored (the AWS side, KMS
and the customers table, is :mod:`quittance.aws.customer_keys`). Values are sealed with
AES-GCM (``cryptography``), a random 96-bit nonce per value, and associated data binding the
sealed bytes to the customer and to the field they belong to, so a value copied onto another
customer or another field fails to open instead of lying.

Erasure destroys the wrapped key and leaves a tombstone (no personal data); from then on every
sealed copy — table items, archived evidence, backups — is unreadable, and the keyring refuses
to mint a new key for that id.

This module is the pure part: the envelope format, the periods the key and the erasure record
are kept, and the :class:`Keyring` port the domain seals and opens through.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from quittance.errors import SealInvalid

ENVELOPE_V1 = b"\x01"
NONCE_BYTES = 12
TAG_BYTES = 16
# Ten years after the end of the fiscal year of the last sealed proof, plus that year.
DATA_KEY_RETENTION = timedelta(days=11 * 366)
DATA_KEY_REFRESH = timedelta(days=365)
ERASURE_RECORD_RETENTION = timedelta(days=11 * 366)


class Keyring(Protocol):
    """Seal and open values with the customer's own data key; erase is destroying it."""

    def seal(self, customer_id: str, plaintext: bytes, context: str) -> bytes: ...

    def seal_many(self, customer_id: str, plaintexts: dict[str, bytes]) -> dict[str, bytes]: ...

    def open(self, customer_id: str, sealed: bytes, context: str) -> bytes: ...

    def open_many(self, customer_id: str, sealed: dict[str, bytes]) -> dict[str, bytes]: ...

    def erase(self, customer_id: str) -> bool: ...

    def erased(self, customer_id: str) -> bool: ...


def associated_data(customer_id: str, context: str) -> bytes:
    return f"quittance/v1|{customer_id}|{context}".encode()


def seal_values(key: bytes, customer_id: str, plaintexts: Mapping[str, bytes]) -> dict[str, bytes]:
    """Envelope v1 of each value: ``0x01 | nonce(12) | AES-GCM(ciphertext + tag)``, each
    under its own context."""
    aead = AESGCM(key)
    sealed: dict[str, bytes] = {}
    for context, plaintext in plaintexts.items():
        nonce = os.urandom(NONCE_BYTES)
        body = aead.encrypt(nonce, plaintext, associated_data(customer_id, context))
        sealed[context] = ENVELOPE_V1 + nonce + body
    return sealed


def check_envelopes(sealed: Mapping[str, bytes]) -> None:
    """Raise SealInvalid for a value that is not a v1 envelope (before any key is read)."""
    for context, value in sealed.items():
        if len(value) < 1 + NONCE_BYTES + TAG_BYTES or value[:1] != ENVELOPE_V1:
            raise SealInvalid(f"not a v1 envelope ({context})")


def open_values(key: bytes, customer_id: str, sealed: Mapping[str, bytes]) -> dict[str, bytes]:
    """Open v1 envelopes; SealInvalid for a value that is not this customer's under that
    context."""
    check_envelopes(sealed)
    aead = AESGCM(key)
    opened: dict[str, bytes] = {}
    for context, value in sealed.items():
        nonce, body = value[1 : 1 + NONCE_BYTES], value[1 + NONCE_BYTES :]
        try:
            opened[context] = aead.decrypt(nonce, body, associated_data(customer_id, context))
        except InvalidTag:
            raise SealInvalid(f"sealed value does not open ({context})") from None
    return opened
