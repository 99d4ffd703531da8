//go:build !unix

package starlark

import "errors"

// limitAddressSpace is not offered here: workers run on Linux only.
func limitAddressSpace(int64) error {
	return errors.New("address-space limits are not supported on this system")
}
