package interpreter

import "io/fs"

// Windows has no O_NOFOLLOW; os.Root already refuses links that leave the
// root, and openRegular checks the file is not a link.
const (
	oNoFollow = 0
	oNonblock = 0
)

func diskUsage(fi fs.FileInfo) (int64, uint64) { return fi.Size(), 0 }
