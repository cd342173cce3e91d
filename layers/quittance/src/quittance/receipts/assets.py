"""What weasyprint may fetch while rendering a receipt: the package's own files (fonts) and
``data:`` URIs (the seller's logo), nothing else."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse


class AssetURLRefusedError(ValueError):
    """A URL outside the receipts package assets was requested while rendering."""


class PackageAssetFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint ships no types
    """Serves the files under one folder and ``data:`` URIs; refuses every other URL.

    weasyprint logs the refusal and renders without the resource, so a hostile SVG
    logo can neither fail a receipt nor read anything.
    """

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self._root = root.resolve()

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.partition(":")[0].lower()
        if scheme == "data":
            # urllib's DataHandler decodes the URI in memory; no I/O is involved.
            return super().fetch(url, headers)
        if scheme == "file":
            path = self._package_path(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type}
            )
        raise AssetURLRefusedError(f"refused to fetch {url[:200]!r}: not a receipts asset")

    def _package_path(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise AssetURLRefusedError(f"refused to fetch {url[:200]!r}: remote file URL")
        # resolve() collapses "..", percent-encoded or not, and follows symlinks, so the
        # containment check below sees the file that would really be opened.
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self._root) or not path.is_file():
            raise AssetURLRefusedError(f"refused to fetch {url[:200]!r}: outside {self._root}")
        return path
