#!/usr/bin/env bash
# Installs the newest dist/plotline_*_amd64.deb into a clean Debian root
# (debootstrap from the archive this machine's apt uses), and there runs
# plotline doctor, which must choose the bundled runtime, and a Python
# cell that imports every bundled package, draws a chart and reads the
# .docx, .pdf and .pptx files it writes; then a Starlark cell. The root has
# no Python, and the host's is out of reach (bubblewrap), so nothing of the
# host's Python can be used. The root is cached as a tarball and unpacked
# afresh for each run. Needs root.
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
cat >"$root/tmp/cell.py" <<'CELL'
import importlib, zipfile
mods = ["numpy", "pandas", "matplotlib", "scipy", "seaborn", "statsmodels.api", "sklearn.linear_model",
        "openpyxl", "xlrd", "tabulate", "docx", "pypdf", "bs4", "lxml.etree", "PIL.Image", "sympy", "networkx"]
for m in mods:
    importlib.import_module(m)
print("imported", len(mods), "packages")
import sys
print("python at", sys.executable, sys.version.split()[0])
import pandas as pd, matplotlib.pyplot as plt, seaborn as sns, docx, pypdf
from lxml import etree
df = pd.read_csv("sales.csv").groupby("region", as_index=False)["revenue"].sum()
print(df.to_markdown(index=False))
d = docx.Document(); d.add_paragraph("Quarterly revenue rose"); d.save("report.docx")
print("docx:", docx.Document("report.docx").paragraphs[0].text)
fig = plt.figure(); fig.text(0.1, 0.5, "Revenue by region"); fig.savefig("report.pdf"); plt.close(fig)
print("pdf:", pypdf.PdfReader("report.pdf").pages[0].extract_text().strip())
slide = ('<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
         'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:t>Q3 plan</a:t></p:sld>')
with zipfile.ZipFile("deck.pptx", "w") as z:
    z.writestr("ppt/slides/slide1.xml", slide)
with zipfile.ZipFile("deck.pptx") as z:
    print("pptx:", "".join(etree.fromstring(z.read("ppt/slides/slide1.xml")).itertext()))
sns.barplot(data=df, x="region", y="revenue")
plt.show()
CELL
cat >"$root/tmp/check.sh" <<'CHECK'
set -eu
fail() { echo "package-test: $*" >&2; exit 1; }
apt-get update -qq
apt-get install -y -qq --no-install-recommends /tmp/plotline.deb >/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; fail "the .deb did not install"; }
! command -v python3 >/dev/null || fail "the root has a python3: the test would not show the host's Python unused"
[ -x /usr/bin/plotline ] && [ -f /usr/share/applications/app.plotline.desktop ] && [ -f /usr/share/icons/hicolor/256x256/apps/plotline.png ] || fail "files missing"
plotline doctor >/tmp/doctor.txt 2>&1 || { cat /tmp/doctor.txt; fail "plotline doctor failed"; }
grep -q "^Chosen: bundled, Python 3" /tmp/doctor.txt && grep -q "✓ Python" /tmp/doctor.txt ||
	{ cat /tmp/doctor.txt; fail "doctor did not choose the bundled runtime"; }
mkdir -p /tmp/out /tmp/out2
plotline exec --file /tmp/sales.csv --out /tmp/out /tmp/cell.py >/tmp/exec.txt 2>&1 || { cat /tmp/exec.txt; fail "the Python cell failed"; }
for want in "imported 17 packages" "python at /usr/bin/python3" "| North    |        30 |" "docx: Quarterly revenue rose" "pdf: Revenue by region" "pptx: Q3 plan"; do
	grep -qF "$want" /tmp/exec.txt || { cat /tmp/exec.txt; fail "the Python cell's output lacks: $want"; }
done
head -c 4 /tmp/out/cell1-image1.png | grep -q PNG || fail "no chart from Python"
printf 't = table.read("sales.csv").group_by("region", revenue="sum")\nprint(t)\nchart.bar(t, x="region", y="revenue")\n' |
	plotline exec --runtime starlark --file /tmp/sales.csv --out /tmp/out2 - >/tmp/exec2.txt 2>&1 || { cat /tmp/exec2.txt; fail "the Starlark cell failed"; }
grep -q "North *30" /tmp/exec2.txt || { cat /tmp/exec2.txt; fail "the Starlark cell's output"; }
head -c 4 /tmp/out2/cell1-image1.png | grep -q PNG || fail "no chart from Starlark"
! command -v python3 >/dev/null && [ ! -e /usr/bin/python3 ] || fail "a python3 appeared in the root"
echo "package-test: $(dpkg-query -W -f='${Package} ${Version}' plotline) installs in a clean root; its bundled Python ran every package there, and Starlark ran too"
CHECK
# The host's /proc, not a fresh one: bubblewrap covers parts of a /proc it
# mounts, and the kernel lets Plotline's sandbox mount its own /proc only
# where a /proc is fully visible.
bwrap --bind "$root" / --bind /proc /proc --dev /dev --tmpfs /run --die-with-parent \
	--clearenv --setenv PATH /usr/sbin:/usr/bin:/sbin:/bin --setenv HOME /root --setenv DEBIAN_FRONTEND noninteractive \
	sh /tmp/check.sh
