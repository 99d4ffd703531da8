#!/usr/bin/env bash
# Builds runtime/, the Python userland Plotline bundles: Debian packages at
# the versions packaging/runtime.lock pins, fetched by name with apt,
# unpacked with dpkg -x, and made into one /usr that the sandbox mounts as
# its root's /usr (interpreter/sandbox, Spec.System). It brings its own
# glibc, so it needs nothing of the host but the kernel.
#
#   scripts/runtime.sh          build runtime/ (nothing to do when it matches the lock)
#   scripts/runtime.sh --lock   resolve the packages again from this machine's
#                               apt sources and rewrite packaging/runtime.lock
#   scripts/runtime.sh --exec-stage
#                               only rebuild the sandbox's exec stage in an
#                               existing runtime/, so that it matches the binary
#
# Downloads are kept in ~/.cache/plotline/runtime. A pinned version that the
# archive no longer serves (a security update replaced it) is replaced by
# the current one, loudly; runtime/manifest.json records what was used.
# Byte-compiling runs the runtime's own Python in a bubblewrap sandbox
# (scripts/install-deps.sh --package installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
lock=packaging/runtime.lock
out=runtime
cache=${XDG_CACHE_HOME:-$HOME/.cache}/plotline/runtime

# The sandbox's exec stage, static, which the sandbox starts inside the
# runtime's root (interpreter/sandbox, SystemExecStage). It is built from
# this tree every time, so that it always matches the plotline binary.
exec_stage() {
	mkdir -p "$1/usr/libexec/plotline"
	CGO_ENABLED=0 GOFLAGS= ${GO:-go} build -trimpath -ldflags "-s -w" -o "$1/usr/libexec/plotline/sandbox-exec.part" ./interpreter/sandbox/cmd/sandbox-exec
	mv "$1/usr/libexec/plotline/sandbox-exec.part" "$1/usr/libexec/plotline/sandbox-exec"
}

if [ "${1:-}" = --exec-stage ]; then
	# Only the exec stage, into a runtime/ already there (make build).
	if [ -f "$out/manifest.json" ]; then exec_stage "$out"; fi
	exit 0
fi
arch=$(dpkg --print-architecture)

# What the model's code may import (see the README's "Bundled runtime"),
# the fonts matplotlib draws with, the time zones pandas needs, and a
# /bin/sh with the usual commands, which generated code runs through
# subprocess and os.system.
wanted="python3 python3-numpy python3-pandas python3-matplotlib python3-scipy python3-seaborn
	python3-statsmodels python3-sklearn python3-openpyxl python3-xlrd python3-tabulate python3-docx
	python3-pypdf python3-bs4 python3-lxml python3-pil python3-sympy python3-networkx
	fonts-dejavu-core tzdata dash coreutils grep sed findutils"
# What those packages pull in that a sandbox's Python never runs: package
# management, compilers and headers, Tk, documentation's JavaScript. The
# resolver is told they are installed and held, so that neither they nor
# their own dependencies are fetched.
unwanted="dpkg perl-base perl usrmerge init-system-helpers debconf procps unicode-data
	python3-pythran python3-dev libpython3-dev python3.11-dev libpython3.11-dev libexpat1-dev zlib1g-dev
	libc6-dev linux-libc-dev python3-tk python3-pil.imagetk blt tk8.6-blt2.5 libtk8.6 libtcl8.6
	libjs-jquery libjs-jquery-ui libjs-sphinxdoc libjs-underscore"

apt_lists() {
	if ! apt-cache show python3-pandas >/dev/null 2>&1; then
		echo "runtime: reading the archive's package lists (apt-get update)" >&2
		if [ "$(id -u)" -eq 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
	fi
}

# resolve prints "package version" for every package the runtime needs, as
# apt would install them into an empty system.
resolve() {
	local status
	status=$(mktemp)
	for p in $unwanted; do
		apt-cache show --no-all-versions "$p" | awk '/^(Package|Version|Architecture|Multi-Arch):/ {print} END {print "Status: hold ok installed"; print ""}'
	done >"$status"
	apt-get -o Dir::State::status="$status" -o APT::Get::Show-Versions=1 -s install --no-install-recommends $wanted >"$status.sim" ||
		{ cat "$status.sim" >&2; rm -f "$status" "$status.sim"; return 1; }
	awk '/^Inst / {v = $3; if (v ~ /^\[/) v = $4; gsub(/[()]/, "", v); print $2, v}' "$status.sim" | sort
	rm -f "$status" "$status.sim"
}

if [ "${1:-}" = --lock ]; then
	apt_lists
	{
		echo "# The bundled runtime's Debian packages ($arch), at the versions make runtime"
		echo "# fetches. scripts/runtime.sh --lock resolves them again."
		resolve
	} >"$lock.part"
	mv "$lock.part" "$lock"
	echo "runtime: $(grep -vc '^#' "$lock") packages in $lock"
	exit 0
elif [ $# -gt 0 ]; then
	echo "usage: scripts/runtime.sh [--lock | --exec-stage]" >&2
	exit 2
fi

sum=$(sha256sum "$lock" scripts/runtime.sh | sha256sum | cut -c1-16)
if [ -f "$out/manifest.json" ] && grep -q "\"build\": \"$sum\"" "$out/manifest.json"; then
	exec_stage "$out"
	echo "runtime: $out/ is up to date"
	exit 0
fi
for tool in apt-get dpkg-deb bwrap; do
	command -v "$tool" >/dev/null || { echo "runtime: $tool is missing (scripts/install-deps.sh --package installs bubblewrap)" >&2; exit 2; }
done
apt_lists

# Fetch what the cache lacks. apt-get download checks each file against the
# archive's signed index.
mkdir -p "$cache"
debs=()
fetch=()
while read -r name version; do
	case $name in '#'* | '') continue ;; esac
	file=$(ls "$cache/${name}_${version/:/%3a}_"*.deb 2>/dev/null | head -1 || true)
	if [ -n "$file" ]; then
		debs+=("$file")
		continue
	fi
	# madison lists what the archive serves, not what this machine has.
	if ! apt-cache madison "$name" | awk -v v="$version" '$3 == v {found = 1} END {exit !found}'; then
		now=$(apt-cache policy "$name" | awk '/Candidate:/ {print $2}')
		echo "runtime: WARNING: the archive no longer has $name $version; using $now (scripts/runtime.sh --lock to pin it)" >&2
		version=$now
		file=$(ls "$cache/${name}_${version/:/%3a}_"*.deb 2>/dev/null | head -1 || true)
		if [ -n "$file" ]; then
			debs+=("$file")
			continue
		fi
	fi
	fetch+=("$name=$version")
done <"$lock"
if [ ${#fetch[@]} -gt 0 ]; then
	echo "runtime: downloading ${#fetch[@]} packages into $cache"
	(cd "$cache" && apt-get download -q=2 -o APT::Sandbox::User="$(id -un)" "${fetch[@]}")
	for nv in "${fetch[@]}"; do
		name=${nv%%=*} version=${nv#*=}
		file=$(ls "$cache/${name}_${version/:/%3a}_"*.deb 2>/dev/null | head -1 || true)
		[ -n "$file" ] || { echo "runtime: $nv did not download" >&2; exit 1; }
		debs+=("$file")
	done
fi

stage=$out.part
rm -rf "$stage"
mkdir -p "$stage"
trap 'rm -rf "$stage"' EXIT
for f in "${debs[@]}"; do
	dpkg-deb -x "$f" "$stage"
done

# One /usr: Debian 12's packages still ship /bin, /lib and /lib64, which
# the sandbox links into /usr.
for d in bin sbin lib lib64; do
	if [ -d "$stage/$d" ] && [ ! -L "$stage/$d" ]; then
		mkdir -p "$stage/usr/$d"
		cp -a "$stage/$d/." "$stage/usr/$d/"
		rm -rf "${stage:?}/$d"
	fi
done
# What dpkg's maintainer scripts would have made: the BLAS and LAPACK
# alternatives, and /bin/sh.
lib=$stage/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
ln -sfn blas/libblas.so.3 "$lib/libblas.so.3"
ln -sfn lapack/liblapack.so.3 "$lib/liblapack.so.3"
[ -e "$stage/usr/bin/sh" ] || ln -s dash "$stage/usr/bin/sh"
# Nothing the sandbox's Python reads: documentation, manuals, translations,
# headers, and the folders dpkg would have kept its state in.
rm -rf "$stage"/usr/share/{doc,man,info,lintian,locale,bug} "$stage/usr/include" "$stage/var" "$stage/run" "$stage/tmp"
# Nor the packages' own test suites: 190 MB, almost a third of the whole,
# which nothing imports (openpyxl looks for its tests module and copes
# without it).
find "$stage/usr/lib/python3/dist-packages" -depth -type d -name tests -exec rm -rf {} +
# No alternative may be left dangling.
dangling=$(find "$stage" -lname '/etc/alternatives/*' -print)
if [ -n "$dangling" ]; then
	echo "runtime: links into /etc/alternatives left: $dangling" >&2
	exit 1
fi

# Byte-compile every module with the runtime's own Python, in a sandbox of
# its own (the host may have no Python 3.11). unchecked-hash: the files
# never change, and their times are not kept by every package format.
cat >"$stage/manifest.py" <<'PY'
import importlib.metadata as md, json, platform, sys
# Import name, distribution name.
mods = [("numpy", "numpy"), ("pandas", "pandas"), ("matplotlib", "matplotlib"), ("scipy", "scipy"),
    ("seaborn", "seaborn"), ("statsmodels", "statsmodels"), ("sklearn", "scikit-learn"),
    ("openpyxl", "openpyxl"), ("xlrd", "xlrd"), ("tabulate", "tabulate"), ("docx", "python-docx"),
    ("pypdf", "pypdf"), ("bs4", "beautifulsoup4"), ("lxml", "lxml"), ("PIL", "Pillow"),
    ("sympy", "sympy"), ("networkx", "networkx")]
json.dump({"python": platform.python_version(), "executable": sys.executable,
    "modules": {m: md.version(d) for m, d in mods}}, sys.stdout)
PY
sandboxed() {
	bwrap --bind "$stage/usr" /usr --symlink usr/bin /bin --symlink usr/sbin /sbin --symlink usr/lib /lib \
		--symlink usr/lib64 /lib64 --ro-bind "$stage/etc" /etc --proc /proc --dev /dev --tmpfs /tmp \
		--ro-bind "$stage/manifest.py" /tmp/manifest.py --unshare-all --die-with-parent --clearenv \
		--setenv PATH /usr/bin --setenv LANG C.UTF-8 --setenv HOME /tmp "$@"
}
sandboxed /usr/bin/python3 -I -m compileall -q -j 0 --invalidation-mode unchecked-hash \
	/usr/lib/python3 /usr/lib/python3.11 >"$stage.compile.log" 2>&1 || {
	grep -v '^Listing\|^Compiling' "$stage.compile.log" | tail -20 >&2
	echo "runtime: byte-compiling failed" >&2
	rm -f "$stage.compile.log"
	exit 1
}
rm -f "$stage.compile.log"
info=$(sandboxed /usr/bin/python3 -I /tmp/manifest.py)
rm "$stage/manifest.py"

{
	echo "{"
	echo "  \"build\": \"$sum\","
	echo "  \"info\": $info,"
	echo "  \"packages\": ["
	for f in "${debs[@]}"; do
		dpkg-deb -W --showformat='${Package} ${Version}\n' "$f" | awk '{printf "    {\"name\": \"%s\", \"version\": \"%s\"}\n", $1, $2}'
	done | sed '$!s/$/,/'
	echo "  ]"
	echo "}"
} >"$stage/manifest.json"

exec_stage "$stage"
rm -rf "$out"
mv "$stage" "$out"
trap - EXIT
echo "runtime: $out/ holds Python $(sed -n 's/.*"python": "\([^"]*\)".*/\1/p' "$out/manifest.json") and ${#debs[@]} packages, $(du -sh "$out" | cut -f1) unpacked"
