package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
)

// debDepends are what the window needs of the system: the C library, and
// OpenGL and X11, which GLFW links or opens. Never a Python: the runtime
// comes with Plotline, or the automatic choice runs Starlark.
var debDepends = []string{
	"libc6 (>= 2.34)", "libgl1", "libx11-6", "libx11-xcb1", "libxcursor1", "libxext6",
	"libxi6", "libxinerama1", "libxrandr2", "libxxf86vm1",
}

const (
	maintainer  = "Plotline developers <dev@plotline.app>"
	homepage    = "https://plotline.app"
	summary     = "local code interpreter for analysts"
	description = summary + "\n" +
		"Plotline answers questions about CSV and Excel files: an AI model writes\n" +
		"the code, and Plotline runs it on this computer, in a sandbox, and shows\n" +
		"the output and charts. Threads and files are kept locally. It also\n" +
		"serves the Assistants API locally (plotline serve)."
)

// debChangelog is the package's changelog, gzipped, as Debian keeps it:
// one entry, for this build.
func debChangelog(v version) []byte {
	entry := fmt.Sprintf("plotline (%s) unstable; urgency=medium\n\n  * Plotline %s, built from commit %d.\n\n -- %s  %s\n",
		v.Deb, v.File, v.Commits, maintainer, v.Time.Format(time.RFC1123Z))
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.ModTime = v.Time
	zw.Write([]byte(entry))
	zw.Close()
	return buf.Bytes()
}

// writeDeb builds the .deb at path with nfpm.
func writeDeb(path string, v version, tree []treeFile) error {
	stage, err := os.MkdirTemp("", "plotline-deb-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	var contents files.Contents
	add := func(dst string, f treeFile) error {
		if f.Link != "" {
			contents = append(contents, &files.Content{Source: f.Link, Destination: dst, Type: files.TypeSymlink,
				FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", MTime: v.Time}})
			return nil
		}
		src := f.Src
		if src == "" {
			src = filepath.Join(stage, "tree", filepath.FromSlash(dst))
			if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(src, f.Body, f.Mode); err != nil {
				return err
			}
		}
		contents = append(contents, &files.Content{Source: src, Destination: dst,
			FileInfo: &files.ContentFileInfo{Mode: f.Mode, Owner: "root", Group: "root", MTime: v.Time}})
		return nil
	}
	for _, f := range tree {
		if err := add("/usr/"+f.Path, f); err != nil {
			return err
		}
	}
	extra := []struct {
		dst  string
		body []byte
	}{
		// Installed where AppArmor would not read it: postinst copies it
		// to /etc/apparmor.d only where AppArmor restricts namespaces.
		{"/usr/share/plotline/apparmor/plotline", embedded("apparmor-plotline")},
		{"/usr/share/doc/plotline/copyright", embedded("copyright")},
		{"/usr/share/lintian/overrides/plotline", embedded("lintian-overrides")},
		{"/usr/share/doc/plotline/changelog.gz", debChangelog(v)},
	}
	for _, e := range extra {
		if err := add(e.dst, treeFile{Body: e.body, Mode: 0o644}); err != nil {
			return err
		}
	}
	scripts := map[string]string{}
	for _, name := range []string{"postinst", "prerm"} {
		p := filepath.Join(stage, name)
		if err := os.WriteFile(p, embedded(name), 0o755); err != nil {
			return err
		}
		scripts[name] = p
	}
	info := &nfpm.Info{
		Name: "plotline", Arch: "amd64", Platform: "linux",
		Version: v.Deb, VersionSchema: "none",
		Section: "science", Priority: "optional",
		Maintainer: maintainer, Description: description, Homepage: homepage,
		MTime: v.Time,
		// Paths are files, never patterns: coreutils has a /usr/bin/[.
		DisableGlobbing: true,
		Overridables: nfpm.Overridables{
			Depends:  debDepends,
			Contents: contents,
			Scripts:  nfpm.Scripts{PostInstall: scripts["postinst"], PreRemove: scripts["prerm"]},
			Deb:      nfpm.Deb{Compression: "xz"},
		},
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return err
	}
	pkg, err := nfpm.Get("deb")
	if err != nil {
		return err
	}
	return writeArtifact(path, func(w io.Writer) error { return pkg.Package(info, w) })
}
