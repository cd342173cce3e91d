"""Fetch a file the staff API handed over behind a presigned link, and keep it only if it
is the one the API described (SHA-256, and size when given)."""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path

CHUNK = 1 << 16
# https for a deployed stack; plain http only to the local stack on this machine.
ALLOWED_PREFIXES = ("https://", "http://127.0.0.1", "http://localhost")


class DownloadRefused(ValueError):
    """The link or the bytes are not what the API described; nothing was written."""


def download(
    url: str,
    target: Path,
    expected_sha256: str | None = None,
    *,
    expected_size: int | None = None,
    timeout: float = 60,
) -> str:
    """Stream ``url`` to ``<target>.part`` in 64 KiB chunks, check it, then put it in place
    of ``target``; returns its SHA-256. On any failure the .part is removed and ``target``
    is left as it was. Stops reading once more than ``expected_size`` bytes arrive."""
    if not url.startswith(ALLOWED_PREFIXES):
        raise DownloadRefused(f"not an http(s) download link: {url[:40]}…")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    digest, size = hashlib.sha256(), 0
    try:
        # The scheme and host are checked above: the presigned link the API gave.
        with urllib.request.urlopen(url, timeout=timeout) as response, part.open("wb") as out:  # noqa: S310
            while chunk := response.read(CHUNK):
                size += len(chunk)
                if expected_size is not None and size > expected_size:
                    break  # more than announced: stop reading, it cannot be the file
                digest.update(chunk)
                out.write(chunk)
        if expected_size is not None and size != expected_size:
            raise DownloadRefused(
                f"{target.name}: downloaded {'more than ' if size > expected_size else ''}"
                f"{size} bytes, the API announced {expected_size}"
            )
        if expected_sha256 and digest.hexdigest() != expected_sha256.lower():
            raise DownloadRefused(
                f"{target.name}: sha256 {digest.hexdigest()} does not match the API's "
                f"{expected_sha256}"
            )
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.replace(target)
    return digest.hexdigest()
