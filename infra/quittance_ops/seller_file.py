"""A seller profile file (YAML) read for ``quittance seller set``: every problem is reported
with the line it is on, so the operator fixes the file in one pass."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from quittance.seller import SellerProfile, profile_problems

MAX_FILE_BYTES = 64 * 1024
MAX_LOGO_BYTES = 256 * 1024
_PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ProfileFile:
    """A valid profile and its logo's bytes (stored apart, under their hash)."""

    profile: SellerProfile
    logo: bytes | None


@dataclass(frozen=True)
class Problem:
    line: int | None  # 1-based; None when the file as a whole is at fault
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ProfileFileError(Exception):
    def __init__(self, path: Path, problems: Sequence[Problem]) -> None:
        super().__init__(f"{path}: {len(problems)} problem(s)")
        self.path = path
        self.problems = tuple(problems)


def _line_of(root: yaml.Node | None, loc: tuple[str | int, ...]) -> int | None:
    """The line of the deepest node the path reaches (its key's line for a mapping entry)."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return line  # a missing field: point at its parent
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _logo(path: Path, root: yaml.Node | None, given: object) -> tuple[dict[str, str], bytes]:
    """``logo: my-logo.png`` in the file is the image beside it (PNG or SVG)."""
    line = _line_of(root, ("logo",))
    if not isinstance(given, str):
        raise ProfileFileError(path, [Problem(line, "logo", "expected a file name (PNG or SVG)")])
    file = (path.parent / given).resolve()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ProfileFileError(
            path, [Problem(line, "logo", f"cannot read {file}: {exc.strerror}")]
        ) from exc
    if len(data) > MAX_LOGO_BYTES:
        raise ProfileFileError(
            path, [Problem(line, "logo", f"{file.name} is larger than {MAX_LOGO_BYTES} bytes")]
        )
    if data.startswith(_PNG):
        media = "image/png"
    elif b"<svg" in data[:512].lower():
        media = "image/svg+xml"
    else:
        raise ProfileFileError(
            path, [Problem(line, "logo", f"{file.name} is not a PNG nor an SVG")]
        )
    return {"sha256": hashlib.sha256(data).hexdigest(), "media_type": media}, data


def read_profile_file(path: Path) -> ProfileFile:
    """The profile the file describes, or :class:`ProfileFileError` listing each problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProfileFileError(path, [Problem(None, "", f"cannot read: {exc.strerror}")]) from exc
    if len(data) > MAX_FILE_BYTES:
        raise ProfileFileError(path, [Problem(None, "", f"larger than {MAX_FILE_BYTES} bytes")])
    text = data.decode("utf-8", errors="replace")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileFileError(path, [Problem(line, "", f"not valid YAML: {problem}")]) from exc
    if not isinstance(content, dict):
        raise ProfileFileError(path, [Problem(1, "", "expected a mapping of fields (key: value)")])
    logo = None
    if content.get("logo") is not None:
        content["logo"], logo = _logo(path, root, content["logo"])
    try:
        return ProfileFile(SellerProfile.model_validate(content), logo)
    except ValidationError as exc:
        problems = [
            Problem(_line_of(root, loc), ".".join(str(part) for part in loc), message)
            for loc, message in profile_problems(exc)
        ]
        problems.sort(key=lambda p: (p.line or 0, p.field))
        raise ProfileFileError(path, problems) from exc
