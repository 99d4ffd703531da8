package main

import (
	"bytes"
	"embed"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"golang.org/x/image/draw"
)

// installerFiles holds the installers' own files: the menu entry, the AppArmor
// profile and the scripts that load it, and the tarball's install script.
//
//go:embed files
var installerFiles embed.FS

func embedded(name string) []byte {
	b, err := fs.ReadFile(installerFiles, "files/"+name)
	if err != nil {
		panic(err) // embedded at build time
	}
	return b
}

// treeFile is a file of the installed tree, by its path under /usr (the
// .deb) or under the tarball's folder: "bin/plotline".
type treeFile struct {
	Path string
	Src  string // a file on disk, or
	Body []byte // the bytes, or
	Link string // the target of a symbolic link
	Mode os.FileMode
}

// iconSizes are the freedesktop icon theme sizes the icon is made in.
var iconSizes = []int{16, 24, 32, 48, 64, 128, 256, 512}

// runtimePath is where the bundled runtime goes in the tree: beside bin/,
// at lib/plotline/runtime, where discovery looks for it
// (interpreter.BundledRuntimeDirs).
const runtimePath = "lib/plotline/runtime"

// linuxTree is what both Linux artifacts install: the binary, the bundled
// runtime, the menu entry, and the icon in each size.
func linuxTree(binary, runtimeDir string, icon []byte) ([]treeFile, error) {
	if fi, err := os.Stat(binary); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("%s is not an executable file", binary)
	}
	tree := []treeFile{
		{Path: "bin/plotline", Src: binary, Mode: 0o755},
		{Path: "share/applications/app.plotline.desktop", Body: embedded("app.plotline.desktop"), Mode: 0o644},
	}
	src, err := png.Decode(bytes.NewReader(icon))
	if err != nil {
		return nil, fmt.Errorf("the icon: %w", err)
	}
	for _, n := range iconSizes {
		b, err := resizedPNG(src, n)
		if err != nil {
			return nil, err
		}
		tree = append(tree, treeFile{Path: fmt.Sprintf("share/icons/hicolor/%dx%d/apps/plotline.png", n, n), Body: b, Mode: 0o644})
	}
	rt, err := runtimeTree(runtimeDir)
	if err != nil {
		return nil, fmt.Errorf("the runtime: %w", err)
	}
	return append(tree, rt...), nil
}

// runtimeTree lists the bundled runtime's files and links, as make
// runtime left them in dir, under runtimePath. Nothing else (a socket, a
// device) may be in it.
func runtimeTree(dir string) ([]treeFile, error) {
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		return nil, fmt.Errorf("%s is not a runtime (make runtime builds it): %w", dir, err)
	}
	var tree []treeFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f := treeFile{Path: path.Join(runtimePath, filepath.ToSlash(rel))}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			if f.Link, err = os.Readlink(p); err != nil {
				return err
			}
			f.Mode = 0o777
		case fi.Mode().IsRegular():
			f.Src, f.Mode = p, 0o644
			if fi.Mode()&0o111 != 0 {
				f.Mode = 0o755
			}
		default:
			return fmt.Errorf("%s is neither a file nor a link", p)
		}
		tree = append(tree, f)
		return nil
	})
	return tree, err
}

// resizedPNG draws src as an n×n PNG.
func resizedPNG(src image.Image, n int) ([]byte, error) {
	if src.Bounds().Dx() == n && src.Bounds().Dy() == n {
		var buf bytes.Buffer
		err := png.Encode(&buf, src)
		return buf.Bytes(), err
	}
	dst := image.NewNRGBA(image.Rect(0, 0, n, n))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	err := png.Encode(&buf, dst)
	return buf.Bytes(), err
}

// writeArtifact writes the file at path with write, and leaves no file
// when write or closing fails.
func writeArtifact(path string, write func(io.Writer) error) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	err = write(out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// body gives a tree file's bytes.
func (f treeFile) body() ([]byte, error) {
	if f.Src != "" {
		return os.ReadFile(f.Src)
	}
	return f.Body, nil
}
