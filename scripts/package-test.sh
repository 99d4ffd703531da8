#!/usr/bin/env bash
# Installs the newest dist/plotline_*_amd64.deb into a clean Debian root
# (debootstrap from the archive this machine's apt uses), and there runs
# plotline doctor and a cell that reads a table and draws a chart. The
# root has no Python, and the host's is out of reach (bubblewrap), so
# nothing of the host's Python can be used. The root is cached as a
# tarball and unpacked afresh for each run. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(ls -t dist/plotline_*_amd64.deb 2>/dev/null | head -1)
if [ -z "$deb" ]; then
	echo "package-test: no dist/plotline_*_amd64.deb; run make package" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "package-test: skipped: making a Debian root needs root"
	exit 0
fi
for tool in debootstrap bwrap; do
	command -v "$tool" >/dev/null || { echo "package-test: $tool is missing (scripts/install-deps.sh --package installs it)" >&2; exit 2; }
done

# The suite is this machine's; the archive is the first one its apt reads
# (deb822 sources, else sources.list).
. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -z "$mirror" ]; then
	mirror=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || { echo "package-test: no Debian archive in this machine's apt sources" >&2; exit 2; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/plotline/package-test
tarball=$cache/$suite-minbase.tar
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ ! -s "$tarball" ]; then
	echo "package-test: making a $suite root from $mirror (cached in $tarball)"
	mkdir -p "$cache"
	debootstrap --variant=minbase "$suite" "$work/fresh" "$mirror" >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log" >&2; exit 1; }
	tar -C "$work/fresh" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
	rm -rf "$work/fresh"
fi
root=$work/root
mkdir "$root"
tar -C "$root" -xf "$tarball"
cp "$deb" "$root/tmp/plotline.deb"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf 'region,revenue\nNorth,10\nSouth,5\nNorth,20\n' >"$root/tmp/sales.csv"
cat >"$root/tmp/check.sh" <<'CHECK'
set -eu
fail() { echo "package-test: $*" >&2; exit 1; }
apt-get update -qq
apt-get install -y -qq --no-install-recommends /tmp/plotline.deb >/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; fail "the .deb did not install"; }
! command -v python3 >/dev/null || fail "the root has a python3: the test would not show the host's Python unused"
[ -x /usr/bin/plotline ] && [ -f /usr/share/applications/app.plotline.desktop ] && [ -f /usr/share/icons/hicolor/256x256/apps/plotline.png ] || fail "files missing"
plotline doctor >/tmp/doctor.txt 2>&1 || { cat /tmp/doctor.txt; fail "plotline doctor failed"; }
grep -q "✓ Starlark" /tmp/doctor.txt || { cat /tmp/doctor.txt; fail "doctor did not choose Starlark in a root without Python"; }
mkdir -p /tmp/out
printf 't = table.read("sales.csv").group_by("region", revenue="sum")\nprint(t)\nchart.bar(t, x="region", y="revenue")\n' |
	plotline exec --runtime starlark --file /tmp/sales.csv --out /tmp/out - >/tmp/exec.txt 2>&1 || { cat /tmp/exec.txt; fail "the cell failed"; }
grep -q "North *30" /tmp/exec.txt || { cat /tmp/exec.txt; fail "the cell's output"; }
head -c 4 /tmp/out/cell1-image1.png | grep -q PNG || fail "no chart"
echo "package-test: $(dpkg-query -W -f='${Package} ${Version}' plotline) installs in a clean root, and runs code there"
CHECK
bwrap --bind "$root" / --proc /proc --dev /dev --tmpfs /run --unshare-pid --die-with-parent \
	--clearenv --setenv PATH /usr/sbin:/usr/bin:/sbin:/bin --setenv HOME /root --setenv DEBIAN_FRONTEND noninteractive \
	sh /tmp/check.sh
