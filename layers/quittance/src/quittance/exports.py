"""Where handed-over files wait in the exports bucket: a customer's data (GDPR art. 15/20)
under ``exports/customers/``, the accountant's books under ``exports/books/``. The bucket's
lifecycle deletes everything under ``exports/`` after a day; each function may write only its
own folder."""

from __future__ import annotations

import re
from datetime import UTC, datetime

CUSTOMERS_PREFIX = "exports/customers/"
BOOKS_PREFIX = "exports/books/"


def export_key(folder: str, request_id: str, now: datetime, extension: str) -> str:
    """``<folder>/<UTC time>-<request id>.<extension>``; the request id (API Gateway's, which
    may hold ``=``) is reduced to characters safe in a key and a filename."""
    request = re.sub(r"[^A-Za-z0-9-]", "", request_id)[:64] or "request"
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{folder.rstrip('/')}/{stamp}-{request}.{extension}"
