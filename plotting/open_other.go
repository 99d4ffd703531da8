//go:build !unix

package plotting

import (
	"fmt"
	"os"
)

// openRegular opens p for reading if it is a regular file and not a
// symbolic link, and checks that what it opened is what it looked at.
func openRegular(p string) (*os.File, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	if got, err := f.Stat(); err != nil || !os.SameFile(fi, got) {
		f.Close()
		return nil, fmt.Errorf("%s changed while being opened", p)
	}
	return checkRegular(f)
}
