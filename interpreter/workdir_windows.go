package interpreter

// Windows has no O_NOFOLLOW; os.Root already refuses links that leave the
// root, and openRegular checks the file is not a link.
const (
	oNoFollow = 0
	oNonblock = 0
)
