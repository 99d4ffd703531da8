#!/usr/bin/env bash
# Installs the system packages Plotline needs, by name, from Debian's
# archive. Idempotent, and quick when everything is present: apt runs only
# for what is missing.
#
#   scripts/install-deps.sh            the Python runtime and the window's build packages
#   scripts/install-deps.sh --xvfb     also a virtual display and screenshots, for make screenshot
set -euo pipefail

# The kernel's Python, then what Fyne needs to build (cgo, OpenGL, X11).
pkgs=(python3 python3-numpy python3-pandas python3-matplotlib python3-openpyxl python3-pil
	gcc pkg-config libgl1-mesa-dev xorg-dev)
if [ "${1:-}" = "--xvfb" ]; then
	pkgs+=(xvfb xauth xdotool imagemagick)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps: not a Debian-like system; install Python 3 with numpy, pandas, matplotlib, openpyxl and pillow yourself (see 'plotline doctor')" >&2
	exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
