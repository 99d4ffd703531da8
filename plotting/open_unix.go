//go:build unix

package plotting

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// openRegular opens p for reading without following a symbolic link as its
// last element or blocking on a FIFO, and refuses anything but a regular
// file.
func openRegular(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK) {
		return nil, fmt.Errorf("%s is a symbolic link", p)
	}
	if err != nil {
		return nil, err
	}
	return checkRegular(f)
}
