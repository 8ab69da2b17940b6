package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// tempPrefix starts every temporary file. Model names and blob names never
// start with ".", so readers can skip these files and tests can find leftovers.
const tempPrefix = ".tmp-"

// writeTemp writes a complete, fsynced file next to final and returns its
// path. On error nothing is left behind.
func writeTemp(final string, write func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(final), tempPrefix+filepath.Base(final)+"-*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := write(f); err != nil {
		return fail(err)
	}
	// Readable by others like a normal file; CreateTemp makes it 0600.
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// writeFileAtomic replaces final with the written content in one step:
// readers see the old file or the new one, never a mix.
func writeFileAtomic(final string, write func(io.Writer) error) error {
	tmp, err := writeTemp(final, write)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(final))
}

// errFileExists is returned by createFileExclusive when final is present.
var errFileExists = errors.New("file exists")

// createFileExclusive creates final with the written content only if it
// does not exist yet. os.Link fails on an existing target, which makes the
// check and the creation one atomic step even across processes.
func createFileExclusive(final string, write func(io.Writer) error) error {
	tmp, err := writeTemp(final, write)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, final); err != nil {
		if errors.Is(err, os.ErrExist) {
			return errFileExists
		}
		return err
	}
	if err := os.Remove(tmp); err != nil {
		return err
	}
	return syncDir(filepath.Dir(final))
}

// syncDir makes a rename or link in dir durable. Filesystems that cannot
// fsync a directory are tolerated.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return fmt.Errorf("sync %s: %v", dir, err)
	}
	return nil
}

// isTemp reports a leftover or in-progress temporary file name.
func isTemp(name string) bool { return strings.HasPrefix(name, ".") }
