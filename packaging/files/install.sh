#!/bin/sh
# Installs Plotline for this user alone, with no root: the binary in
# ~/.local/bin, its Python runtime beside it in ~/.local/lib/plotline (where
# plotline looks for it: ../lib/plotline/runtime from the binary), its menu
# entry and icons in ~/.local/share.
#
#   ./install.sh            install
#   ./install.sh --remove   remove what it installed
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${XDG_BIN_HOME:-$HOME/.local/bin}
data=${XDG_DATA_HOME:-$HOME/.local/share}
lib=$(dirname "$bin")/lib/plotline
if [ "${1:-}" = --remove ]; then
	rm -f "$bin/plotline" "$data/applications/app.plotline.desktop"
	rm -rf "$lib/runtime"
	rmdir "$lib" 2>/dev/null || true
	find "$data/icons/hicolor" -path '*/apps/plotline.png' -delete 2>/dev/null || true
	echo "Plotline removed (its threads and files stay in ${XDG_CONFIG_HOME:-$HOME/.config}/plotline)."
	exit 0
fi
mkdir -p "$bin" "$data/applications" "$lib"
# The runtime replaces an older one whole, never file by file.
rm -rf "$lib/runtime.new"
cp -R -P "$here/lib/plotline/runtime" "$lib/runtime.new"
rm -rf "$lib/runtime"
mv "$lib/runtime.new" "$lib/runtime"
install -m 0755 "$here/bin/plotline" "$bin/plotline"
for icon in "$here"/share/icons/hicolor/*/apps/plotline.png; do
	size=$(basename "$(dirname "$(dirname "$icon")")")
	mkdir -p "$data/icons/hicolor/$size/apps"
	install -m 0644 "$icon" "$data/icons/hicolor/$size/apps/plotline.png"
done
sed "s|^Exec=plotline|Exec=$bin/plotline|" "$here/share/applications/app.plotline.desktop" > "$data/applications/app.plotline.desktop"
echo "Plotline installed: $bin/plotline, and in the applications menu."
case ":$PATH:" in
*":$bin:"*) ;;
*) echo "Add $bin to PATH to run plotline from a terminal." ;;
esac
if [ -r /proc/sys/kernel/apparmor_restrict_unprivileged_userns ] && [ "$(cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns)" = 1 ]; then
	echo "This system restricts user namespaces (AppArmor): Python's sandbox needs the profile the .deb installs, so until then the model's code runs as Starlark. 'plotline doctor' says more."
fi
