"""Copy shared libraries and everything they load into a Lambda layer's lib/ folder.

weasyprint opens pango, harfbuzz, fontconfig and friends with dlopen() by soname, so the layer
must carry each of them and their whole dependency closure, as `ldd` reports it on the machine
that builds the layer (the SAM build image, Amazon Linux 2023, the same distribution as the
python3.12 Lambda runtime).

glibc is left out on purpose: its libraries (libc, libm, libpthread, ...) and the dynamic loader
are one matched set that every Lambda runtime already has. A second libc under /opt/lib, which
LD_LIBRARY_PATH searches first, would be loaded by the runtime's own loader and break the
process, whereas a library built against the same or an older glibc runs fine on the runtime's.
Everything else is copied, libstdc++ and libgcc_s included when something needs them: the
minimal runtime image is not known to carry them, and a copy from the same distribution release
as the runtime works with its glibc.

Files are copied as regular files named by their soname (what the loader looks for), not as
symlink chains, so nothing depends on how the layer's zip stores links.

Usage:
    python3 collect_libs.py --dest ARTIFACTS/lib libpango-1.0.so.0 ... [--optional SONAME ...]
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# glibc's own libraries and the dynamic loader (see the module docstring for why they stay out).
GLIBC = re.compile(
    r"""^(
        ld-linux(-[\w-]+)?\.so\.\d+     # ld-linux-aarch64.so.1, ld-linux-x86-64.so.2
      | ld64\.so\.\d+
      | libc\.so\.\d+ | libm\.so\.\d+ | libmvec\.so\.\d+ | libdl\.so\.\d+
      | libpthread\.so\.\d+ | librt\.so\.\d+ | libutil\.so\.\d+ | libresolv\.so\.\d+
      | libanl\.so\.\d+ | libnsl\.so\.\d+ | libBrokenLocale\.so\.\d+ | libthread_db\.so\.\d+
      | libc_malloc_debug\.so\.\d+ | libnss_\w+\.so\.\d+
      | linux-vdso\.so\.\d+ | linux-gate\.so\.\d+   # provided by the kernel, no file
    )$""",
    re.VERBOSE,
)

# How `ldconfig -p` labels libraries built for the machine we run on.
_LDCONFIG_ARCH = {"x86_64": "x86-64", "aarch64": "AArch64", "arm64": "AArch64"}
MIB = 1024 * 1024
_STANDARD_DIRS = ("/usr/lib64", "/lib64", "/usr/lib", "/lib")

# `ldd` lines: "libz.so.1 => /lib64/libz.so.1 (0x...)" or "libfoo.so.1 => not found".
_LDD_LINE = re.compile(r"^\s*(?P<soname>\S+)\s+=>\s+(?P<target>.+?)(?:\s+\(0x[0-9a-f]+\))?\s*$")


class CollectError(Exception):
    """A library could not be found, or its dependencies could not be resolved."""


@dataclass(frozen=True)
class Library:
    soname: str
    source: Path  # the real file, symlinks resolved

    @property
    def size(self) -> int:
        return self.source.stat().st_size


def is_glibc(soname: str) -> bool:
    return bool(GLIBC.match(soname))


def _ldconfig_cache() -> dict[str, Path]:
    """{soname: path} from the loader's cache, restricted to this machine's architecture."""
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments
            [ldconfig, "-p"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    arch = _LDCONFIG_ARCH.get(platform.machine(), "")
    found: dict[str, Path] = {}
    for line in out.splitlines()[1:]:
        # "\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1"
        name, _, rest = line.strip().partition(" (")
        flags, _, path = rest.partition(") => ")
        if path and name not in found and (not arch or arch in flags):
            found[name] = Path(path)
    return found


def resolve(soname_or_path: str, cache: dict[str, Path] | None = None) -> Path | None:
    """Where the dynamic loader would find a library; a path is taken as given."""
    if "/" in soname_or_path:
        path = Path(soname_or_path)
        return path if path.exists() else None
    cache = _ldconfig_cache() if cache is None else cache
    if soname_or_path in cache:
        return cache[soname_or_path]
    for directory in _STANDARD_DIRS:
        candidate = Path(directory) / soname_or_path
        if candidate.exists():
            return candidate
    return None


def dependencies(library: Path, env: Mapping[str, str] | None = None) -> dict[str, Path]:
    """{soname: path} of everything `library` loads, transitively, as ldd reports it."""
    ldd = shutil.which("ldd")
    if ldd is None:
        raise CollectError("ldd is not installed; it comes with glibc-common")
    proc = subprocess.run(  # noqa: S603 - a library path we resolved ourselves
        [ldd, str(library)], capture_output=True, text=True, check=False, env=env
    )
    if proc.returncode != 0:
        raise CollectError(f"ldd {library} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    found: dict[str, Path] = {}
    missing: list[str] = []
    for line in proc.stdout.splitlines():
        match = _LDD_LINE.match(line)
        if not match:
            continue  # the vdso and the loader itself are listed without "=>"
        soname, target = match["soname"], match["target"]
        if target == "not found":
            missing.append(soname)
        elif target.startswith("/"):
            found[soname] = Path(target)
    if missing:
        raise CollectError(f"{library} needs {', '.join(missing)}, which the loader cannot find")
    return found


def closure(roots: Sequence[str], optional: Sequence[str] = ()) -> list[Library]:
    """The roots and all they load, glibc excluded, one entry per soname, sorted by soname."""
    cache = _ldconfig_cache()
    chosen: dict[str, Path] = {}
    wanted = [(name, True) for name in roots] + [(name, False) for name in optional]
    for name, required in wanted:
        path = resolve(name, cache)
        if path is None:
            if required:
                raise CollectError(f"{name} is not installed (is its package missing?)")
            print(f"collect_libs: optional {name} not found, skipped", file=sys.stderr)
            continue
        soname = Path(name).name if "/" in name else name
        for dep_soname, dep_path in [(soname, path), *dependencies(path).items()]:
            if is_glibc(dep_soname):
                continue
            previous = chosen.setdefault(dep_soname, dep_path)
            if previous.resolve() != dep_path.resolve():
                raise CollectError(
                    f"{dep_soname} resolves to both {previous} and {dep_path}; "
                    "check LD_LIBRARY_PATH on the build machine"
                )
    return [Library(soname, path.resolve()) for soname, path in sorted(chosen.items())]


def copy(libraries: Iterable[Library], dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for lib in libraries:
        target = dest / lib.soname
        shutil.copy(lib.source, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", help="sonames (resolved like the loader) or paths")
    parser.add_argument("--dest", required=True, type=Path, help="the layer's lib/ folder")
    parser.add_argument(
        "--optional", action="append", default=[], help="a soname to take if installed"
    )
    args = parser.parse_args(argv)
    try:
        libraries = closure(args.roots, args.optional)
    except CollectError as exc:
        print(f"collect_libs: {exc}", file=sys.stderr)
        return 1
    copy(libraries, args.dest)
    total = 0
    for lib in libraries:
        total += lib.size
        print(f"{lib.size / MIB:8.2f} MiB  {lib.soname:<32} {lib.source}")
    print(f"{total / MIB:8.2f} MiB  {len(libraries)} libraries in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
