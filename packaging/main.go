// Command packaging builds Plotline's installers from binaries already
// built: a .deb made with nfpm (as a library, so no tool is installed), a
// tarball with an install script for a user's own home, and a Windows
// zip. It also writes the Windows resources (icon, version, manifest) that
// the Windows build links in.
//
//	go run ./packaging version                   prints the version
//	go run ./packaging syso FILE                 writes the Windows resources
//	go run ./packaging build -dist DIR -linux BIN -runtime DIR -windows EXE
//
// The version is FyneApp.toml's, and, unless the commit is tagged with it,
// the number of commits and the commit from git: 0.1.0~dev.412.g1872593,
// which Debian orders before 0.1.0.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "packaging:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("give version, syso FILE or build")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	switch args[0] {
	case "version":
		v, err := readVersion(root)
		if err != nil {
			return err
		}
		fmt.Println(v)
		return nil
	case "syso":
		if len(args) != 2 {
			return fmt.Errorf("syso: give the file to write")
		}
		v, err := readVersion(root)
		if err != nil {
			return err
		}
		return writeSyso(root, v, args[1])
	case "build":
		fs := flag.NewFlagSet("build", flag.ContinueOnError)
		dist := fs.String("dist", "dist", "the `folder` the artifacts go to")
		linux := fs.String("linux", "", "the Linux amd64 `binary`")
		windows := fs.String("windows", "", "the Windows amd64 `executable`")
		rt := fs.String("runtime", "runtime", "the bundled runtime's `folder`, as make runtime builds it")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *linux == "" || *windows == "" {
			return fmt.Errorf("build: give -linux and -windows")
		}
		v, err := readVersion(root)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(*dist, 0o755); err != nil {
			return err
		}
		arts, err := buildAll(root, v, *dist, *linux, *rt, *windows)
		for _, a := range arts {
			fi, err := os.Stat(a)
			if err == nil {
				fmt.Printf("%s\t%.1f MB\n", a, float64(fi.Size())/1e6)
			}
		}
		return err
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// buildAll writes the three artifacts into dist and gives their paths.
func buildAll(root string, v version, dist, linux, runtimeDir, windows string) ([]string, error) {
	icon, err := os.ReadFile(filepath.Join(root, "assets", "icon.png"))
	if err != nil {
		return nil, err
	}
	tree, err := linuxTree(linux, runtimeDir, icon)
	if err != nil {
		return nil, err
	}
	var out []string
	deb := filepath.Join(dist, fmt.Sprintf("plotline_%s_amd64.deb", v.Deb))
	if err := writeDeb(deb, v, tree); err != nil {
		return out, fmt.Errorf("the .deb: %w", err)
	}
	out = append(out, deb)
	tarball := filepath.Join(dist, fmt.Sprintf("plotline-%s-linux-amd64.tar.xz", v.File))
	if err := writeTarball(tarball, v, tree); err != nil {
		return out, fmt.Errorf("the tarball: %w", err)
	}
	out = append(out, tarball)
	zipPath := filepath.Join(dist, fmt.Sprintf("plotline-%s-windows-amd64.zip", v.File))
	if err := writeWindowsZip(zipPath, v, windows); err != nil {
		return out, fmt.Errorf("the Windows zip: %w", err)
	}
	return append(out, zipPath), nil
}

// repoRoot is the folder with FyneApp.toml: this one or one above.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "FyneApp.toml")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no FyneApp.toml here or above")
		}
		dir = up
	}
}
