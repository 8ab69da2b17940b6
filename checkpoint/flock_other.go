//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package checkpoint

import "os"

// flock does nothing where flock(2) does not exist: there the store's lock
// excludes nothing, and rm and gc must only run while nothing writes.
func flock(f *os.File, exclusive bool) error { return nil }

func isReadOnlyFS(err error) bool { return false }
