package durable

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// TempPrefix starts every temporary file. Model names, blob names and
// result files never start with ".", so readers skip these files, gc can
// remove leftovers, and tests can find them.
const TempPrefix = ".tmp-"

// IsTemp reports a leftover or in-progress temporary file name.
func IsTemp(name string) bool { return strings.HasPrefix(name, ".") }

// WriteFile replaces path with data in one step.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write replaces path with what write writes, in one step: readers see the
// old file or the new one, never a mix. On error path is unchanged and no
// temporary file is left behind.
func Write(path string, write func(io.Writer) error) error {
	tmp, err := writeTemp(path, write)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// ErrExists is returned by CreateExclusive when the file is present.
var ErrExists = errors.New("file exists")

// CreateExclusive creates path with what write writes only if it does not
// exist yet. os.Link fails on an existing target, which makes the check and
// the creation one atomic step even across processes.
func CreateExclusive(path string, write func(io.Writer) error) error {
	tmp, err := writeTemp(path, write)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return ErrExists
		}
		return err
	}
	if err := os.Remove(tmp); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// writeTemp writes a complete, fsynced file next to final and returns its
// path. On error nothing is left behind.
func writeTemp(final string, write func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(final), TempPrefix+filepath.Base(final)+"-*")
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

// SyncDir makes a rename or link in dir durable. Filesystems that cannot
// fsync a directory are tolerated.
func SyncDir(dir string) error {
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
