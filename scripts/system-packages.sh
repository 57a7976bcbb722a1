#!/usr/bin/env bash
# Install the Debian packages Crossings needs, only those that are missing.
# A no-op (and no `apt-get update`) when everything is already there.
set -euo pipefail

# ffmpeg/ffprobe for media metadata, thumbnails and proxies; ExifTool for the location and
# capture time in every carrier (XMP, IPTC, QuickTime keys, GPMF and other embedded tracks); chromium for browser
# tests; the fonts so CJK, Thai, Lao and Latin text render the same on every machine
# (place names along the route are written in all of them; chromium maps sans-serif to
# Arial, which fonts-liberation stands in for); PostgreSQL, the catalogue for several machines,
# which the tests start a throwaway cluster of (tests/databases.py).
DEBIAN_PACKAGES=(ffmpeg libimage-exiftool-perl postgresql chromium fonts-noto-cjk fonts-thai-tlwg-ttf fonts-lao fonts-dejavu-core fonts-liberation)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
    # `dpkg -s` also succeeds for removed-but-configured packages; ask for the real state.
    state=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $state == installed ]] || missing+=("$pkg")
done
# Node and npm may come from outside dpkg (a newer build in /usr/bin or /usr/local);
# any working one will do for `npm ci`.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]} == 0)); then
    echo "system packages: all present"
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "system packages: missing ${missing[*]}" >&2
    echo "Install them as root, then run make again:" >&2
    echo "    apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "system packages: installing ${missing[*]}"
apt_get=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive
         apt-get -y -q -o DPkg::Lock::Timeout=300)
"${apt_get[@]}" update
"${apt_get[@]}" install --no-install-recommends "${missing[@]}"
