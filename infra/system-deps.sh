#!/usr/bin/env bash
# Installs the Debian packages quittance needs on a development or CI machine, only when missing:
# the native libraries weasyprint renders with (pango, harfbuzz and its subsetter, fontconfig,
# fonts), poppler-utils for PDF previews, and Chromium with its driver for the browser tests.
set -euo pipefail

packages=(
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1
  fonts-dejavu-core shared-mime-info poppler-utils chromium chromium-driver
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "system-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "system-deps: missing ${missing[*]}; install them with apt-get (needs root)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
