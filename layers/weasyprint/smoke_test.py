"""Render a tiny receipt with a built weasyprint layer, as the receipts function would.

Runs a child Python with only the layer's libraries, fonts and packages on its paths and checks
that:
- weasyprint imports, and renders a PDF/A-3b with an embedded font;
- harfbuzz's subsetter is loaded, from the layer, and new enough for weasyprint to use it (it
  falls back to fontTools, about three times slower, when it is not);
- every library in the layer resolves its dependencies within the layer or glibc, and none is
  loaded from the machine instead (in the build image, a gap in the collected closure would
  otherwise be filled from /usr/lib64 unnoticed, and fail on Lambda);
- fonts come from the layer's fonts.conf and folder, not from the machine's /etc/fonts.

In the SAM build image, `make build-WeasyprintLayer` runs it on the fresh artifacts. With the
layer mounted at /opt, as in the runtime image (see README.md), run it with `--layer /opt`.

Usage:
    python3 smoke_test.py --layer DIR [--python-path DIR] [--out receipt.pdf]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import cast

# A sibling module: found because Python puts a script's own folder first on sys.path.
from collect_libs import CollectError, dependencies, is_glibc

LAMBDA_FONTS_DIR = "/opt/fonts"

# The libraries weasyprint itself opens (weasyprint/text/ffi.py); the rest of the layer's
# lib/ folder is what these need.
OPENED_BY_WEASYPRINT = (
    "libgobject-2.0.so.0",
    "libpango-1.0.so.0",
    "libpangoft2-1.0.so.0",
    "libharfbuzz.so.0",
    "libharfbuzz-subset.so.0",
    "libfontconfig.so.1",
)

RECEIPT_HTML = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><style>
  body { font-family: sans-serif; font-size: 11pt }
  code { font-family: monospace }
</style></head><body>
  <h1>Reçu n° R-2026-000042</h1>
  <p>Payée le 3 mars 2026 — 1 234,56 € — facture soldée.</p>
  <p><code>IBAN FR76 •••• •••• 0189</code></p>
</body></html>
"""

# Runs inside the child process, whose environment points at the layer only.
CHILD = r"""
import ctypes, json, sys, time
t0 = time.perf_counter()
from weasyprint import HTML
from weasyprint.text import ffi as wffi
t1 = time.perf_counter()
# Uncompressed, so that the parent can see the embedded font program without a PDF parser.
pdf = HTML(string=sys.argv[1]).write_pdf(pdf_variant="pdf/a-3b", uncompressed_pdf=True)
t2 = time.perf_counter()
HTML(string=sys.argv[1]).write_pdf(pdf_variant="pdf/a-3b")
t3 = time.perf_counter()
with open(sys.argv[2], "wb") as fh:
    fh.write(pdf)
maps = []
with open("/proc/self/maps") as fh:
    for line in fh:
        fields = line.split(None, 5)
        if len(fields) == 6:
            maps.append(fields[5].strip())
def version(soname, symbol):
    fn = getattr(ctypes.CDLL(soname), symbol)
    fn.restype = ctypes.c_char_p
    return fn().decode()
print(json.dumps({
    "maps": sorted(set(maps)),
    "hb_subset": wffi.harfbuzz_subset is not None,
    "hb_subset_usable": bool(wffi.harfbuzz.hb_version_atleast(4, 1, 0)),
    "hb_version": version("libharfbuzz.so.0", "hb_version_string"),
    "pango_version": version("libpango-1.0.so.0", "pango_version_string"),
    "import_s": t1 - t0, "first_render_s": t2 - t1, "warm_render_s": t3 - t2,
}))
"""


class SmokeTestError(Exception):
    pass


def _local_fonts_conf(layer: Path, workdir: Path) -> Path:
    """The layer's fonts.conf with /opt/fonts pointed at this layer folder, cache in workdir."""
    tree = ET.parse(layer / "fonts" / "fonts.conf")  # noqa: S314 - our own build output
    for element in tree.getroot():
        if element.tag == "dir" and element.text == LAMBDA_FONTS_DIR:
            element.text = str(layer / "fonts")
        elif element.tag == "cachedir":
            element.text = str(workdir / "fontconfig-cache")
    conf = workdir / "fonts.conf"
    tree.write(conf, encoding="utf-8", xml_declaration=True)
    return conf


def unresolved_outside(lib: Path) -> list[str] | None:
    """Dependencies of the layer's libraries that resolve neither into lib/ nor to glibc.

    None when ldd is missing, as in the bare Lambda runtime image; the check then rests on the
    build, where it has already run.
    """
    if shutil.which("ldd") is None:
        return None
    env = {**os.environ, "LD_LIBRARY_PATH": str(lib)}
    outside: set[str] = set()
    for library in sorted(lib.iterdir()):
        try:
            deps = dependencies(library, env)
        except CollectError as exc:
            outside.add(str(exc))
            continue
        outside.update(
            f"{library.name} -> {path}"
            for soname, path in deps.items()
            if path.parent != lib and not is_glibc(soname)
        )
    return sorted(outside)


def run(layer: Path, python_path: Path | None, out: Path) -> dict[str, object]:
    layer = layer.resolve()
    lib = layer / "lib"
    carried = {p.name for p in lib.iterdir()} if lib.is_dir() else set()
    if missing := [name for name in OPENED_BY_WEASYPRINT if name not in carried]:
        raise SmokeTestError(f"{lib} lacks {', '.join(missing)}")
    outside = unresolved_outside(lib)
    if outside:
        raise SmokeTestError(
            "the layer's libraries need more than it carries:\n" + "\n".join(outside)
        )
    with tempfile.TemporaryDirectory(prefix="weasyprint-smoke-") as tmp:
        workdir = Path(tmp)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(workdir),
            # The layer first, then whatever the machine already needs (on Lambda and in its
            # images, /var/lang/lib for the interpreter), as the receipts function sets it.
            "LD_LIBRARY_PATH": ":".join(
                filter(None, [str(lib), os.environ.get("LD_LIBRARY_PATH")])
            ),
            "PYTHONPATH": str(python_path or layer / "python"),
            "PYTHONNOUSERSITE": "1",
            "XDG_CACHE_HOME": str(workdir),
        }
        if str(layer) == "/opt":
            env["FONTCONFIG_PATH"] = LAMBDA_FONTS_DIR  # exactly as the receipts function does
        else:
            env["FONTCONFIG_FILE"] = str(_local_fonts_conf(layer, workdir))
        proc = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", CHILD, RECEIPT_HTML, str(out)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-20:])
        raise SmokeTestError(f"rendering failed:\n{tail}")
    report: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    maps = cast(list[str], report.pop("maps"))
    problems: list[str] = []

    loaded_from_layer = {Path(p).name for p in maps if Path(p).parent == lib}
    shadowed = sorted(p for p in maps if Path(p).name in carried and Path(p).parent != lib)
    if shadowed:
        problems.append(f"layer libraries loaded from elsewhere: {', '.join(shadowed)}")
    if not_loaded := [n for n in OPENED_BY_WEASYPRINT if n not in loaded_from_layer]:
        problems.append(f"not loaded from the layer: {', '.join(not_loaded)}")
    if not (report["hb_subset"] and report["hb_subset_usable"]):
        problems.append(
            f"harfbuzz {report['hb_version']}: hb-subset unavailable, weasyprint would fall back "
            "to fontTools"
        )

    fonts = sorted(p for p in maps if p.lower().endswith((".ttf", ".otf", ".ttc")))
    fonts_dir = layer / "fonts"
    if foreign := [f for f in fonts if not Path(f).is_relative_to(fonts_dir)]:
        problems.append(f"fonts loaded from outside the layer: {', '.join(foreign)}")

    pdf = out.read_bytes()
    if not pdf.startswith(b"%PDF-"):
        problems.append(f"{out} is not a PDF")
    if b"/FontFile" not in pdf:
        problems.append(f"{out} embeds no font")
    if problems:
        raise SmokeTestError("\n".join(problems))

    report["fonts"] = [str(Path(f).relative_to(fonts_dir)) for f in fonts]
    # Informational: what came from the machine itself. On Lambda these must exist in the
    # runtime; Python's own (under its prefix) and glibc's always do.
    python_homes = {Path(sys.prefix), Path(sys.base_prefix), Path(env["PYTHONPATH"])}
    report["also_loaded_from_machine"] = sorted(
        p
        for p in maps
        if ".so" in Path(p).name
        and Path(p).parent != lib
        and not any(Path(p).is_relative_to(home) for home in python_homes)
        and not is_glibc(Path(p).name)
    )
    report["libraries_loaded_from_layer"] = len(loaded_from_layer)
    report["closure_checked_with_ldd"] = outside is not None
    report["pdf_bytes"] = len(pdf)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=Path, default=Path("/opt"), help="the built layer")
    parser.add_argument(
        "--python-path",
        type=Path,
        help="where weasyprint is importable from (default: the layer's python/ folder)",
    )
    parser.add_argument("--out", type=Path, help="keep the rendered PDF here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "smoke.pdf"
        try:
            report = run(args.layer, args.python_path, out)
        except SmokeTestError as exc:
            print(f"smoke test FAILED: {exc}", file=sys.stderr)
            return 1
    print("smoke test passed: " + json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
