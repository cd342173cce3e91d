"""``make build``: what of ``sam build --use-container`` runs on a machine without Docker, and
the size check Lambda will make of the receipts function.

- Every function and the quittance layer are built by the SAM CLI itself (``sam build``
  without a container: functions with its Python builder, the layer with its makefile
  builder), from a copy of template.yaml without the weasyprint layer.
- The weasyprint layer's recipe needs ``dnf`` in the arm64 Amazon Linux 2023 build image for
  its native libraries and fonts. Here its Python packages are installed exactly as the
  recipe installs them (aarch64 wheels), its native libraries are collected by its own
  ``collect_libs.py`` from this machine's pango/harfbuzz/fontconfig, and its fonts are this
  machine's DejaVu files: the two last are estimates of the Amazon Linux ones, said so in the
  report.
- The receipts function with both layers is checked against Lambda's 250 MiB unzipped limit
  (function code and all its layers together)."""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quittance_ops.localstack.template import load_template

LAMBDA_LIMIT_MIB = 250  # a function's code and all its layers, unzipped
MIB = 1024 * 1024
WEASYPRINT_LAYER = "WeasyprintLayer"
RECEIPTS_FUNCTION = "ReceiptsFunction"
QUITTANCE_LAYER = "QuittanceLayer"
# The weasyprint recipe's steps that run outside its build image.
WEASYPRINT_STEPS = ("python-packages", "libs", "fonts-conf")
HOST_FONTS = Path("/usr/share/fonts/truetype/dejavu")


class BuildError(Exception):
    pass


def without_weasyprint(template: dict[str, Any], root: Path) -> dict[str, Any]:
    """template.yaml for ``sam build`` here: no weasyprint layer (nor any reference to it),
    code folders as absolute paths (the copy lives elsewhere)."""
    built = copy.deepcopy(template)
    built["Resources"].pop(WEASYPRINT_LAYER)
    sections = [built.get("Globals", {}).get("Function", {})]
    sections += [r.get("Properties", {}) for r in built["Resources"].values()]
    for properties in sections:
        if "Layers" in properties:
            properties["Layers"] = [
                layer for layer in properties["Layers"] if layer != {"Ref": WEASYPRINT_LAYER}
            ]
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = str((root / properties[key]).resolve())
    text = json.dumps(built)
    if WEASYPRINT_LAYER in text:
        raise BuildError(f"{WEASYPRINT_LAYER} is still referred to in the build template")
    return built


def find_python312() -> Path:
    """The interpreter ``sam build`` validates python3.12 functions with."""
    candidates = [os.environ.get("QUITTANCE_PYTHON312"), shutil.which("python3.12")]
    candidates += [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run(  # noqa: S603 - a local interpreter, fixed arguments
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.stdout.strip() == "True":
            return Path(candidate)
    raise BuildError("no python3.12 found (set QUITTANCE_PYTHON312)")


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


@dataclass(frozen=True)
class Part:
    name: str
    path: Path
    estimated: bool = False

    @property
    def bytes(self) -> int:
        return size_of(self.path)


def receipts_total(parts: Iterable[Part]) -> tuple[int, list[str]]:
    """Unzipped bytes of the parts and the report's lines; over the limit is the caller's."""
    lines, total = [], 0
    for part in parts:
        total += part.bytes
        note = "  (estimate: this machine's files)" if part.estimated else ""
        lines.append(f"  {part.bytes / MIB:8.1f} MiB  {part.name}{note}")
    lines.append(f"  {total / MIB:8.1f} MiB  total, limit {LAMBDA_LIMIT_MIB} MiB")
    return total, lines


def _run(command: list[str], env: dict[str, str]) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, env=env, check=True)  # noqa: S603 - our own build commands


def sam_build(sam: str, template: Path, build_dir: Path, python: Path) -> None:
    env = {
        **os.environ,
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHON": str(python),  # the quittance layer's Makefile compiles bytecode with it
        "SAM_CLI_TELEMETRY": "0",
    }
    _run([sam, "build", "--template-file", str(template), "--build-dir", str(build_dir)], env)


def weasyprint_layer(root: Path, dest: Path, python: Path) -> None:
    env = {**os.environ, "PYTHON": str(python)}
    steps = list(WEASYPRINT_STEPS)
    layer = root / "layers" / "weasyprint"
    _run(["make", "-C", str(layer), *steps, f"ARTIFACTS_DIR={dest}", f"PYTHON={python}"], env)
    fonts = dest / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    for font in sorted(HOST_FONTS.glob("*.ttf")):
        shutil.copy2(font, fonts / font.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("build"))
    parser.add_argument("--sam", default=shutil.which("sam") or "sam")
    args = parser.parse_args(argv)
    root = Path.cwd()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    try:
        python = find_python312()
        template = out / "template.build.json"
        template.write_text(
            json.dumps(without_weasyprint(load_template(root / "template.yaml"), root))
        )
        sam_build(args.sam, template, out / "sam", python)
        weasyprint_layer(root, out / WEASYPRINT_LAYER, python)
    except (BuildError, subprocess.CalledProcessError, OSError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    built = out / "sam"
    functions = sorted(p for p in built.iterdir() if p.is_dir() and p.name.endswith("Function"))
    print("functions (unzipped, their own code; every one also carries QuittanceLayer):")
    for function in functions:
        print(f"  {size_of(function) / 1024:8.1f} KiB  {function.name}")
    total, lines = receipts_total(
        (
            Part(RECEIPTS_FUNCTION, built / RECEIPTS_FUNCTION),
            Part(QUITTANCE_LAYER, built / QUITTANCE_LAYER),
            Part(f"{WEASYPRINT_LAYER} python/", out / WEASYPRINT_LAYER / "python"),
            Part(f"{WEASYPRINT_LAYER} lib/", out / WEASYPRINT_LAYER / "lib", estimated=True),
            Part(f"{WEASYPRINT_LAYER} fonts/", out / WEASYPRINT_LAYER / "fonts", estimated=True),
        )
    )
    print(f"{RECEIPTS_FUNCTION} with both layers:")
    print("\n".join(lines))
    print(
        f"not run here: the {WEASYPRINT_LAYER} recipe's dnf, rpm and smoke steps (they need the"
        " arm64 Amazon Linux 2023 build image, i.e. Docker)"
    )
    if total > LAMBDA_LIMIT_MIB * MIB:
        print(f"{RECEIPTS_FUNCTION} is over Lambda's {LAMBDA_LIMIT_MIB} MiB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
