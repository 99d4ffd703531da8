package main

import (
	"archive/tar"
	"fmt"
	"io"
	"path"

	"github.com/ulikunitz/xz"
)

// writeTarball writes the Linux tree as a .tar.xz for other
// distributions: plotline-VERSION/ with bin/, share/ and install.sh, which
// installs into the user's home with no root.
func writeTarball(dst string, v version, tree []treeFile) error {
	return writeArtifact(dst, func(out io.Writer) error {
		xw, err := xz.NewWriter(out)
		if err != nil {
			return err
		}
		tw := tar.NewWriter(xw)
		top := fmt.Sprintf("plotline-%s", v.File)
		dirs := map[string]bool{}
		var mkdirs func(dir string) error
		mkdirs = func(dir string) error {
			if dir == "." || dirs[dir] {
				return nil
			}
			if err := mkdirs(path.Dir(dir)); err != nil {
				return err
			}
			dirs[dir] = true
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top + "/" + dir + "/", Mode: 0o755, ModTime: v.Time, Format: tar.FormatPAX})
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top + "/", Mode: 0o755, ModTime: v.Time, Format: tar.FormatPAX}); err != nil {
			return err
		}
		all := append([]treeFile{{Path: "install.sh", Body: embedded("install.sh"), Mode: 0o755}}, tree...)
		for _, f := range all {
			if err := mkdirs(path.Dir(f.Path)); err != nil {
				return err
			}
			if f.Link != "" {
				hdr := &tar.Header{Typeflag: tar.TypeSymlink, Name: top + "/" + f.Path, Linkname: f.Link, Mode: 0o777, ModTime: v.Time, Format: tar.FormatPAX}
				if err := tw.WriteHeader(hdr); err != nil {
					return err
				}
				continue
			}
			b, err := f.body()
			if err != nil {
				return err
			}
			hdr := &tar.Header{Typeflag: tar.TypeReg, Name: top + "/" + f.Path, Mode: int64(f.Mode), Size: int64(len(b)), ModTime: v.Time, Format: tar.FormatPAX}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := tw.Write(b); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return xw.Close()
	})
}
