#!/usr/bin/env bash
# Installs the system packages Plotline needs, by name, from Debian's
# archive, and the pinned Go tools that make vet runs. Idempotent, and
# quick when everything is present: apt and go install run only for what
# is missing.
#
#   scripts/install-deps.sh            the Python runtime and the window's build packages
#   scripts/install-deps.sh --xvfb     also a virtual display and screenshots, for make screenshot
#   scripts/install-deps.sh --cross    also the Windows cross compiler (mingw-w64), for make cross
#   scripts/install-deps.sh --package  also what the installers' tests use: lintian, desktop-file-validate, debootstrap, bubblewrap
set -euo pipefail

# staticcheck, pinned: v0.8.2 (2026.2.2) is the newest release and is built
# with, and checks, Go 1.26. It goes where go install puts it (GOBIN, else GOPATH/bin), which is
# where the Makefile looks. GOFLAGS carries the Makefile's build tag.
staticcheck_version=v0.8.2
go=${GO:-go}
if command -v "$go" >/dev/null 2>&1; then
	export GOFLAGS="${GOFLAGS:--tags=migrated_fynedo,no_emoji}"
	gobin=$("$go" env GOBIN)
	gobin=${gobin:-$("$go" env GOPATH | cut -d: -f1)/bin}
	if ! "$gobin/staticcheck" -version 2>/dev/null | grep -qF "(${staticcheck_version#v})"; then
		echo "install-deps: installing staticcheck $staticcheck_version" >&2
		"$go" install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
	fi
else
	echo "install-deps: go not found; install Go 1.26, then run this again for staticcheck" >&2
fi

# The kernel's Python, then what Fyne needs to build (cgo, OpenGL, X11).
pkgs=(python3 python3-numpy python3-pandas python3-matplotlib python3-openpyxl python3-pil
	gcc pkg-config libgl1-mesa-dev xorg-dev)
for arg in "$@"; do
	case $arg in
	--xvfb) pkgs+=(xvfb xauth xdotool imagemagick) ;;
	--cross) pkgs+=(gcc-mingw-w64-x86-64) ;;
	--package) pkgs+=(lintian desktop-file-utils debootstrap bubblewrap) ;;
	*) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
	esac
done

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
