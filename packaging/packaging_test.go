package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"debug/pe"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tc-hib/winres"
	winversion "github.com/tc-hib/winres/version"
	"github.com/ulikunitz/xz"
)

// repoVersion is this repository's root and version.
func repoVersion(t *testing.T) (string, version) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	v, err := readVersion(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, v
}

func TestVersion(t *testing.T) {
	_, v := repoVersion(t)
	if v.Release == "" || !strings.HasPrefix(v.Deb, v.Release) || !strings.HasPrefix(v.File, v.Release) || strings.ContainsAny(v.File, "~ /") {
		t.Fatalf("version %+v", v)
	}
	if v.Deb != v.Release && !strings.HasPrefix(v.Deb, v.Release+"~dev") {
		t.Fatalf("a build between releases must sort before the release: %q", v.Deb)
	}
	if v.Time.IsZero() {
		t.Fatal("no time for the artifacts' files")
	}
}

// artifacts builds the three artifacts from a stand-in Linux binary and a
// small Windows program linked with the Windows resources.
func artifacts(t *testing.T) (version, []string, string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the installers are built on Linux")
	}
	root, v := repoVersion(t)
	dir := t.TempDir()
	linux := filepath.Join(dir, "plotline")
	if err := os.WriteFile(linux, []byte("#!/bin/sh\necho plotline\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The Windows program: a main package with the resources beside it,
	// cross-built without cgo.
	prog := filepath.Join(dir, "win")
	os.MkdirAll(prog, 0o755)
	os.WriteFile(filepath.Join(prog, "go.mod"), []byte("module win\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(prog, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	if err := writeSyso(root, v, filepath.Join(prog, "rsrc_windows_amd64.syso")); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "plotline.exe")
	build := exec.Command("go", "build", "-o", exe, ".")
	build.Dir = prog
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the Windows program: %v\n%s", err, out)
	}
	dist := filepath.Join(dir, "dist")
	os.MkdirAll(dist, 0o755)
	arts, err := buildAll(root, v, dist, linux, standInRuntime(t, dir), exe)
	if err != nil {
		t.Fatal(err)
	}
	return v, arts, dir
}

// standInRuntime makes a small folder shaped as make runtime's: a
// manifest, a program, and a link.
func standInRuntime(t *testing.T, dir string) string {
	t.Helper()
	rt := filepath.Join(dir, "runtime")
	os.MkdirAll(filepath.Join(rt, "usr/bin"), 0o755)
	os.WriteFile(filepath.Join(rt, "manifest.json"), []byte(`{"info": {"python": "3.11.2", "executable": "/usr/bin/python3"}}`), 0o644)
	os.WriteFile(filepath.Join(rt, "usr/bin/python3.11"), []byte("#!/bin/sh\n"), 0o755)
	// Byte-code and a Python script, which lintian would flag but for the
	// package's overrides.
	os.MkdirAll(filepath.Join(rt, "usr/lib/python3/dist-packages/mod/__pycache__"), 0o755)
	os.WriteFile(filepath.Join(rt, "usr/lib/python3/dist-packages/mod/__pycache__/tool.cpython-311.pyc"), []byte("\xa7\x0d\x0d\x0a"), 0o644)
	os.WriteFile(filepath.Join(rt, "usr/lib/python3/dist-packages/mod/tool.py"), []byte("#!/usr/bin/python3\nprint(1)\n"), 0o755)
	// A name that is a glob pattern, as coreutils' /usr/bin/[ is.
	os.WriteFile(filepath.Join(rt, "usr/bin/["), []byte("#!/bin/sh\n"), 0o755)
	if err := os.Symlink("python3.11", filepath.Join(rt, "usr/bin/python3")); err != nil {
		t.Fatal(err)
	}
	return rt
}

// The .deb is named for its version, depends on the window's libraries
// and never on a Python, and holds the binary, the menu entry, the icons,
// the AppArmor profile and the scripts that load it only where needed.
func TestDeb(t *testing.T) {
	v, arts, dir := artifacts(t)
	deb := arts[0]
	if filepath.Base(deb) != "plotline_"+v.Deb+"_amd64.deb" {
		t.Fatalf("the .deb is named %s", filepath.Base(deb))
	}
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb is not here to read the .deb")
	}
	field := func(name string) string {
		out, err := exec.Command("dpkg-deb", "--field", deb, name).Output()
		if err != nil {
			t.Fatalf("dpkg-deb --field %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	if field("Package") != "plotline" || field("Version") != v.Deb || field("Architecture") != "amd64" {
		t.Fatalf("control: %s %s %s", field("Package"), field("Version"), field("Architecture"))
	}
	if dep := field("Depends"); !strings.Contains(dep, "libgl1") || strings.Contains(strings.ToLower(dep), "python") {
		t.Fatalf("Depends: %s", dep)
	}
	out, err := exec.Command("dpkg-deb", "--contents", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), " ./usr/lib/plotline/runtime/usr/bin/python3 -> python3.11\n") ||
		!strings.Contains(string(out), "-rwxr-xr-x root/root") {
		t.Errorf("the runtime's program and link:\n%s", out)
	}
	want := []string{"./usr/bin/plotline", "./usr/share/applications/app.plotline.desktop",
		"./usr/lib/plotline/runtime/manifest.json", "./usr/lib/plotline/runtime/usr/bin/python3.11", "./usr/lib/plotline/runtime/usr/bin/[",
		"./usr/share/plotline/apparmor/plotline", "./usr/share/doc/plotline/copyright"}
	for _, n := range iconSizes {
		want = append(want, "./usr/share/icons/hicolor/"+strconv.Itoa(n)+"x"+strconv.Itoa(n)+"/apps/plotline.png")
	}
	for _, w := range want {
		if !strings.Contains(string(out), " "+w+"\n") {
			t.Errorf("the .deb lacks %s:\n%s", w, out)
		}
	}
	if !strings.Contains(string(out), "-rwxr-xr-x root/root") || strings.Contains(string(out), "./etc/apparmor.d") {
		t.Errorf("modes or the AppArmor profile's place:\n%s", out)
	}
	ctl := filepath.Join(dir, "control")
	if err := exec.Command("dpkg-deb", "--control", deb, ctl).Run(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"postinst", "prerm"} {
		b, err := os.ReadFile(filepath.Join(ctl, s))
		if err != nil || !bytes.Contains(b, []byte("apparmor")) {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := exec.LookPath("lintian"); err == nil {
		// Errors only: the warnings are about a package not made by
		// Debian's tools (no changelog, a static Go binary).
		if out, err := exec.Command("lintian", "--fail-on", "error", "--suppress-tags", "no-copyright-file,unknown-section", deb).CombinedOutput(); err != nil {
			t.Errorf("lintian: %v\n%s", err, out)
		}
	}
}

// The menu entry passes desktop-file-validate.
func TestDesktopEntry(t *testing.T) {
	if _, err := exec.LookPath("desktop-file-validate"); err != nil {
		t.Skip("desktop-file-validate (desktop-file-utils) is not installed")
	}
	p := filepath.Join(t.TempDir(), "app.plotline.desktop")
	os.WriteFile(p, embedded("app.plotline.desktop"), 0o644)
	if out, err := exec.Command("desktop-file-validate", p).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("desktop-file-validate: %v\n%s", err, out)
	}
}

// The tarball holds the same tree under plotline-VERSION/, and its
// install script installs it into a home with no root, and removes it.
func TestTarball(t *testing.T) {
	v, arts, dir := artifacts(t)
	f, err := os.Open(arts[1])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xr, err := xz.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(xr)
	top := "plotline-" + v.File + "/"
	unpacked := filepath.Join(dir, "unpacked")
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h.Name, top) || strings.Contains(h.Name, "..") {
			t.Fatalf("entry %q outside %s", h.Name, top)
		}
		names = append(names, strings.TrimPrefix(h.Name, top))
		p := filepath.Join(unpacked, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
			continue
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, _ := io.ReadAll(tr)
		if err := os.WriteFile(p, b, os.FileMode(h.Mode)); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []string{"install.sh", "bin/plotline", "share/applications/app.plotline.desktop", "share/icons/hicolor/256x256/apps/plotline.png",
		"lib/plotline/runtime/manifest.json", "lib/plotline/runtime/usr/bin/python3"} {
		if !slices.Contains(names, w) {
			t.Errorf("the tarball lacks %s: %v", w, names)
		}
	}
	home := filepath.Join(dir, "home")
	install := func(args ...string) string {
		cmd := exec.Command("sh", append([]string{filepath.Join(unpacked, top, "install.sh")}, args...)...)
		cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("install.sh %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	install()
	bin := filepath.Join(home, ".local/bin/plotline")
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("the binary: %v", err)
	}
	entry, err := os.ReadFile(filepath.Join(home, ".local/share/applications/app.plotline.desktop"))
	if err != nil || !bytes.Contains(entry, []byte("Exec="+bin+" %F")) {
		t.Fatalf("the menu entry: %v\n%s", err, entry)
	}
	if _, err := os.Stat(filepath.Join(home, ".local/share/icons/hicolor/48x48/apps/plotline.png")); err != nil {
		t.Fatal(err)
	}
	// The runtime, where discovery looks for it from the binary, with its
	// link kept a link; a second install replaces it.
	rt := filepath.Join(home, ".local/lib/plotline/runtime")
	if target, err := os.Readlink(filepath.Join(rt, "usr/bin/python3")); err != nil || target != "python3.11" {
		t.Fatalf("the runtime's link: %q %v", target, err)
	}
	os.WriteFile(filepath.Join(rt, "stale"), nil, 0o644)
	install()
	if _, err := os.Stat(filepath.Join(rt, "stale")); !os.IsNotExist(err) {
		t.Fatalf("a second install kept the old runtime's files: %v", err)
	}
	install("--remove")
	if _, err := os.Stat(bin); !os.IsNotExist(err) {
		t.Fatalf("the binary after --remove: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, ".local/lib/plotline")); !os.IsNotExist(err) {
		t.Fatalf("the runtime after --remove: %v", err)
	}
}

// The Windows zip holds a PE32+ executable with the icon and the version,
// and a note that the code runs as Starlark there.
func TestWindowsZip(t *testing.T) {
	v, arts, _ := artifacts(t)
	zr, err := zip.OpenReader(arts[2])
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var exe, note []byte
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		switch f.Name {
		case "plotline/plotline.exe":
			exe = b
		case "plotline/README.txt":
			note = b
		default:
			t.Errorf("unexpected %s", f.Name)
		}
	}
	pf, err := pe.NewFile(bytes.NewReader(exe))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pf.OptionalHeader.(*pe.OptionalHeader64); !ok || pf.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Fatalf("not a PE32+ amd64 executable: %T %#x", pf.OptionalHeader, pf.Machine)
	}
	rs, err := winres.LoadFromEXE(bytes.NewReader(exe))
	if err != nil {
		t.Fatal(err)
	}
	icon, err := rs.GetIcon(winres.Name("APPICON"))
	if err != nil || icon == nil {
		t.Fatalf("no icon: %v", err)
	}
	vi, err := winversion.FromBytes(rs.Get(winres.RT_VERSION, winres.ID(1), winres.LCIDDefault))
	if err != nil || vi.FileVersion != v.Windows {
		t.Fatalf("version: %v %+v", err, vi)
	}
	if !bytes.Contains(note, []byte("Starlark")) || !bytes.Contains(note, []byte("\r\n")) {
		t.Fatalf("the note:\n%s", note)
	}
}
