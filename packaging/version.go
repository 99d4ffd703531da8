package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// version is Plotline's version in the forms the artifacts need.
type version struct {
	Release string // FyneApp.toml's: 0.1.0
	Deb     string // Debian's: 0.1.0, or 0.1.0~dev.412.g1872593 between releases
	File    string // in file names: 0.1.0, or 0.1.0-dev.412.g1872593
	Commits int    // commits to HEAD, 0 when git cannot tell
	// Time is the commit's time (or FyneApp.toml's when git cannot tell):
	// the artifacts' files get it, so that builds of a commit match.
	Time time.Time
	// Windows is the four numbers of a Windows version resource.
	Windows [4]uint16
}

// readVersion reads FyneApp.toml's version and asks git where HEAD is.
func readVersion(root string) (version, error) {
	var app struct {
		Details struct {
			Version string
			Build   int
		}
	}
	if _, err := toml.DecodeFile(filepath.Join(root, "FyneApp.toml"), &app); err != nil {
		return version{}, err
	}
	rel := app.Details.Version
	var nums [3]uint16
	parts := strings.Split(rel, ".")
	if len(parts) != 3 {
		return version{}, fmt.Errorf("FyneApp.toml's version %q is not MAJOR.MINOR.PATCH", rel)
	}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return version{}, fmt.Errorf("FyneApp.toml's version %q is not MAJOR.MINOR.PATCH", rel)
		}
		nums[i] = uint16(n)
	}
	v := version{Release: rel, Deb: rel, File: rel}
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	if n, err := strconv.Atoi(git("rev-list", "--count", "HEAD")); err == nil {
		v.Commits = n
	}
	v.Time = time.Unix(0, 0).UTC()
	if secs, err := strconv.ParseInt(git("log", "-1", "--format=%ct"), 10, 64); err == nil {
		v.Time = time.Unix(secs, 0).UTC()
	} else if fi, err := os.Stat(filepath.Join(root, "FyneApp.toml")); err == nil {
		v.Time = fi.ModTime().UTC()
	}
	v.Windows = [4]uint16{nums[0], nums[1], nums[2], uint16(min(v.Commits, 65535))}
	if git("tag", "--points-at", "HEAD", "--list", "v"+rel) == "v"+rel {
		return v, nil // a release
	}
	dev := "dev"
	if v.Commits > 0 {
		dev = fmt.Sprintf("dev.%d.g%s", v.Commits, git("rev-parse", "--short=7", "HEAD"))
	}
	v.Deb, v.File = rel+"~"+dev, rel+"-"+dev
	return v, nil
}
