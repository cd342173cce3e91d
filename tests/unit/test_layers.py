"""The Lambda layer recipes, as far as they run without Docker or AWS.

The real builds need the arm64 SAM build image; what is checked here is everything that does
not: the pinned requirements, the native-library collector and the fonts.conf on this machine's
own pango/harfbuzz, a render with only the collected libraries and fonts, and that both
Makefiles parse and plan the expected commands.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUITTANCE_LAYER = ROOT / "layers" / "quittance"
WEASYPRINT_LAYER = ROOT / "layers" / "weasyprint"

# What weasyprint opens by soname (weasyprint/text/ffi.py), as on the build image.
WEASYPRINT_LIBS = [
    "libgobject-2.0.so.0",
    "libpango-1.0.so.0",
    "libpangoft2-1.0.so.0",
    "libharfbuzz.so.0",
    "libharfbuzz-subset.so.0",
    "libfontconfig.so.1",
]
# This machine's DejaVu (Debian's fonts-dejavu-core, from infra/system-deps.sh).
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="ELF libraries and ldd")


def _load(path: Path) -> ModuleType:
    """Import one of the layer scripts, which live outside any package, by path."""
    sys.path.insert(0, str(path.parent))  # smoke_test.py imports its sibling collect_libs.py
    try:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(path.parent))


export_requirements = _load(QUITTANCE_LAYER / "export_requirements.py")
collect_libs = _load(WEASYPRINT_LAYER / "collect_libs.py")
smoke_test = _load(WEASYPRINT_LAYER / "smoke_test.py")


def _pinned_names(text: str) -> set[str]:
    return {line.partition("==")[0] for line in text.splitlines() if line and line[0].isalnum()}


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args], capture_output=True, text=True, check=False
    )


# ---------------------------------------------------------------- pinned requirements


def test_committed_layer_requirements_match_the_lock_file() -> None:
    # Given the lock file and pyproject.toml as committed
    # When both layers' requirements are regenerated in memory
    expected = export_requirements.export()
    # Then the committed files are identical
    for path, text in expected.items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(ROOT)} is stale: run "
            ".venv/bin/python layers/quittance/export_requirements.py"
        )


def test_quittance_layer_has_the_domain_dependencies_and_none_of_weasyprints() -> None:
    # Given the committed requirements of both layers
    quittance = _pinned_names((QUITTANCE_LAYER / "requirements.txt").read_text())
    weasyprint = _pinned_names((WEASYPRINT_LAYER / "requirements.txt").read_text())
    # Then the quittance layer carries powertools, pydantic, boto3 and what the tracer needs
    assert {"aws-lambda-powertools", "pydantic", "pydantic-settings", "boto3"} <= quittance
    assert "aws-xray-sdk" in quittance  # the [tracer] extra was followed
    # And nothing that belongs to weasyprint, which the other layer brings
    assert "weasyprint" not in quittance
    # cryptography (per-customer keys, every function) and weasyprint both need cffi: each layer
    # keeps the same pinned copy so that the weasyprint layer still builds and smoke-tests alone.
    assert quittance & weasyprint <= {"cffi", "pycparser"}
    assert "cryptography" in quittance
    assert {"weasyprint", "pydyf", "tinycss2", "cssselect2", "tinyhtml5", "fonttools"} <= (
        weasyprint
    )
    assert {"pillow", "brotli", "zopfli"} <= weasyprint  # fonttools[woff] was followed
    # And no development-only package slipped in
    assert not {"moto", "pytest", "typer", "ruff"} & (quittance | weasyprint)


def test_gateway_clients_ship_with_the_lookup_function_alone() -> None:
    # Given the committed requirements of the quittance layer and of the lookup function
    quittance = _pinned_names((QUITTANCE_LAYER / "requirements.txt").read_text())
    lookup = _pinned_names((ROOT / "functions" / "lookup" / "requirements.txt").read_text())
    # Then stripe and gocardless-pro (stripe alone is about 30 MiB) are not in the layer every
    # function carries, which would push the receipts function over Lambda's 250 MiB
    assert not {"stripe", "gocardless-pro", "requests"} & quittance
    # And the lookup function's own package has them, with what they need
    assert {"stripe", "gocardless-pro", "requests", "urllib3", "certifi"} <= lookup
    # And nothing else: everything quittance needs comes from the layer
    assert not {"boto3", "pydantic", "aws-lambda-powertools", "weasyprint"} & lookup


def test_a_lock_file_that_disagrees_with_the_venv_is_refused(tmp_path: Path) -> None:
    # Given a lock file pinning pydantic to an acceptable version, but not the installed one
    lock = tmp_path / "requirements.lock"
    locked = export_requirements.LOCK_FILE.read_text()
    lock.write_text(re.sub(r"(?m)^pydantic==.*$", "pydantic==2.99.0", locked))
    # When the requirements are exported from it
    # Then the export stops rather than writing pins the graph was not read from
    with pytest.raises(export_requirements.ExportError, match=r"pydantic 2\.\d+\.\d+ is installed"):
        export_requirements.export(lock=lock)


# ---------------------------------------------------------------- native libraries


@pytest.fixture(scope="module")
def host_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weasyprint layer assembled from this machine: its libraries, its DejaVu, our conf."""
    layer = tmp_path_factory.mktemp("weasyprint-layer")
    collect_libs.copy(collect_libs.closure(WEASYPRINT_LIBS), layer / "lib")
    fonts = layer / "fonts"
    fonts.mkdir()
    for font in DEJAVU_DIR.glob("*.ttf"):
        shutil.copy(font, fonts)
    result = _make("-C", str(WEASYPRINT_LAYER), "fonts-conf", f"ARTIFACTS_DIR={layer}")
    assert result.returncode == 0, result.stderr
    return layer


@linux_only
def test_closure_has_pango_harfbuzz_subset_and_fontconfig_but_not_glibc(
    host_layer: Path,
) -> None:
    # Given the libraries collected from this machine's weasyprint dependencies
    copied = {path.name for path in (host_layer / "lib").iterdir()}
    # Then every library weasyprint opens is there, hb-subset included
    assert set(WEASYPRINT_LIBS) <= copied
    # And what they load too
    assert {"libfreetype.so.6", "libglib-2.0.so.0", "libfribidi.so.0"} <= copied
    # And glibc and the loader are not, since the runtime's own must be used
    assert not {name for name in copied if name.startswith(("libc.so", "ld-linux", "libm.so"))}
    assert not [name for name in copied if collect_libs.is_glibc(name)]
    # And each file is a real file named by its soname, not a symlink
    assert not [p for p in (host_layer / "lib").iterdir() if p.is_symlink()]


def test_glibc_family_is_recognised() -> None:
    for name in ["libc.so.6", "libm.so.6", "ld-linux-aarch64.so.1", "ld-linux-x86-64.so.2"]:
        assert collect_libs.is_glibc(name), name
    for name in ["libharfbuzz-subset.so.0", "libcrypt.so.2", "libstdc++.so.6", "libz.so.1"]:
        assert not collect_libs.is_glibc(name), name


@linux_only
def test_a_missing_required_library_fails_the_collection() -> None:
    with pytest.raises(collect_libs.CollectError, match="libnot-a-real-lib"):
        collect_libs.closure(["libnot-a-real-lib.so.9"])


@linux_only
def test_an_absent_optional_library_is_skipped() -> None:
    found = collect_libs.closure(["libharfbuzz.so.0"], optional=["libnot-a-real-lib.so.9"])
    assert "libharfbuzz.so.0" in {lib.soname for lib in found}


# ---------------------------------------------------------------- fonts


def test_generated_fonts_conf_points_at_opt_fonts_with_a_cache_under_tmp(
    tmp_path: Path,
) -> None:
    # When the build writes fonts.conf
    result = _make("-C", str(WEASYPRINT_LAYER), "fonts-conf", f"ARTIFACTS_DIR={tmp_path}")
    assert result.returncode == 0, result.stderr
    # Then it is well-formed XML, every placeholder filled
    text = (tmp_path / "fonts" / "fonts.conf").read_text()
    assert not re.search(r"@[A-Z_]+@", text)
    root = ET.fromstring(text)
    assert root.tag == "fontconfig"
    # And its only font folder is where Lambda mounts the layer's fonts
    assert [d.text for d in root.iter("dir")] == ["/opt/fonts"]
    # And its cache goes to the one writable place on Lambda
    cachedirs = [c.text or "" for c in root.iter("cachedir")]
    assert len(cachedirs) == 1
    assert cachedirs[0].startswith("/tmp/")
    # And the generic families have a face
    preferred = {
        alias.findtext("family"): alias.findtext("prefer/family") for alias in root.iter("alias")
    }
    assert preferred["sans-serif"] == "DejaVu Sans"
    assert preferred["monospace"] == "DejaVu Sans Mono"


# ---------------------------------------------------------------- render with the layer only


@linux_only
def test_weasyprint_renders_with_only_the_collected_libraries_and_fonts(
    host_layer: Path, tmp_path: Path
) -> None:
    # Given this machine's equivalent of the layer, and weasyprint from the venv
    # When the smoke test renders a receipt with nothing else on the library and font paths
    report = smoke_test.run(host_layer, None, tmp_path / "receipt.pdf")
    # Then harfbuzz's subsetter was loaded from the layer and is the one weasyprint uses
    assert report["hb_subset"] is True
    assert report["hb_subset_usable"] is True
    # And the fonts came from the layer's folder through its fonts.conf
    assert "DejaVuSans.ttf" in report["fonts"]
    assert (tmp_path / "receipt.pdf").read_bytes().startswith(b"%PDF-")


# ---------------------------------------------------------------- the Makefiles


def test_quittance_layer_recipe_plans_a_pinned_arm64_install(tmp_path: Path) -> None:
    artifacts = tmp_path / "x"
    result = _make(
        "-n", "-C", str(QUITTANCE_LAYER), "build-QuittanceLayer", f"ARTIFACTS_DIR={artifacts}"
    )
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    assert f'--target "{artifacts}/python"' in plan
    assert f'-r "{QUITTANCE_LAYER}/requirements.txt"' in plan
    for flag in [
        "--no-deps",
        "--only-binary=:all:",
        "--python-version 3.12",
        "--platform manylinux2014_aarch64",
        "--platform manylinux_2_34_aarch64",
    ]:
        assert flag in plan, flag
    assert f'cp -R "{QUITTANCE_LAYER}/src/quittance" "{artifacts}/python/quittance"' in plan
    assert "__pycache__" in plan
    assert not artifacts.exists()  # a dry run


def test_weasyprint_layer_recipe_plans_packages_libraries_fonts_and_checks(
    tmp_path: Path,
) -> None:
    artifacts = tmp_path / "x"
    result = _make(
        "-n", "-C", str(WEASYPRINT_LAYER), "build-WeasyprintLayer", f"ARTIFACTS_DIR={artifacts}"
    )
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    assert "dnf install -y" in plan
    assert "pango harfbuzz fontconfig" in plan
    assert f'-r "{WEASYPRINT_LAYER}/requirements.txt"' in plan
    assert "collect_libs.py" in plan
    assert "libharfbuzz-subset.so.0" in plan
    assert f'"{artifacts}/fonts/fonts.conf"' in plan
    assert "smoke_test.py" in plan
    assert 'WeasyprintLayer "' in plan
    assert " 200" in plan  # the size limit
    assert not artifacts.exists()


@pytest.mark.parametrize(
    ("layer", "target"),
    [(QUITTANCE_LAYER, "build-QuittanceLayer"), (WEASYPRINT_LAYER, "build-WeasyprintLayer")],
)
def test_recipes_refuse_to_run_without_artifacts_dir(layer: Path, target: str) -> None:
    # Without it, `rm -rf "$(ARTIFACTS_DIR)/python"` would aim at /python
    result = _make("-n", "-C", str(layer), target, "ARTIFACTS_DIR=")
    assert result.returncode != 0
    assert "ARTIFACTS_DIR is not set" in result.stderr
