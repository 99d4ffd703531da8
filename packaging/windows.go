package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tc-hib/winres"
	winversion "github.com/tc-hib/winres/version"
)

// writeSyso writes the Windows resources the executable links in when
// built with the file beside main.go: the icon, the version, and a
// manifest that makes the window sharp on high-DPI screens.
func writeSyso(root string, v version, path string) error {
	b, err := os.ReadFile(filepath.Join(root, "assets", "icon.png"))
	if err != nil {
		return err
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("the icon: %w", err)
	}
	icon, err := winres.NewIconFromResizedImage(img, []int{16, 24, 32, 48, 64, 128, 256})
	if err != nil {
		return err
	}
	rs := &winres.ResourceSet{}
	if err := rs.SetIcon(winres.Name("APPICON"), icon); err != nil {
		return err
	}
	vi := winversion.Info{FileVersion: v.Windows, ProductVersion: v.Windows}
	for key, value := range map[string]string{
		winversion.ProductName:      "Plotline",
		winversion.FileDescription:  "Plotline, a local code interpreter for analysts",
		winversion.ProductVersion:   v.File,
		winversion.FileVersion:      v.File,
		winversion.OriginalFilename: "plotline.exe",
		winversion.InternalName:     "plotline",
		winversion.CompanyName:      "Plotline developers",
	} {
		if err := vi.Set(winres.LCIDDefault, key, value); err != nil {
			return err
		}
	}
	rs.SetVersionInfo(vi)
	rs.SetManifest(winres.AppManifest{
		Identity:            winres.AssemblyIdentity{Name: "app.plotline.desktop", Version: v.Windows},
		Description:         "Plotline",
		DPIAwareness:        winres.DPIPerMonitorV2,
		UseCommonControlsV6: true,
		LongPathAware:       true,
	})
	return writeArtifact(path, func(w io.Writer) error { return rs.WriteObject(w, winres.ArchAMD64) })
}

// windowsReadme is the zip's note on what Plotline does on Windows.
const windowsReadme = `Plotline %s for Windows

Run plotline.exe for the window, or from a terminal:
  plotline.exe ask "What is in sales.csv?" --file sales.csv
  plotline.exe profile sales.csv
  plotline.exe doctor

Windows has no sandbox for Python in Plotline yet, so the model's code runs
as Starlark, Plotline's own hermetic language with table and chart
built-ins, which reaches no file but those given to it and no network.
'plotline.exe doctor' says which runtime runs the code, and why.
`

// writeWindowsZip writes the zip: plotline/plotline.exe and a note.
func writeWindowsZip(path string, v version, exe string) error {
	in, err := os.Open(exe)
	if err != nil {
		return err
	}
	defer in.Close()
	head := make([]byte, 2)
	if _, err := io.ReadFull(in, head); err != nil || string(head) != "MZ" {
		return fmt.Errorf("%s is not a Windows executable", exe)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return writeArtifact(path, func(out io.Writer) error {
		zw := zip.NewWriter(out)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "plotline/plotline.exe", Method: zip.Deflate, Modified: v.Time})
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, in); err != nil {
			return err
		}
		note := strings.ReplaceAll(fmt.Sprintf(windowsReadme, v.File), "\n", "\r\n")
		w, err = zw.CreateHeader(&zip.FileHeader{Name: "plotline/README.txt", Method: zip.Deflate, Modified: v.Time})
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, note); err != nil {
			return err
		}
		return zw.Close()
	})
}
