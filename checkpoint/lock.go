package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// The store-wide lock (see "Locking" in the package documentation).
//
// DIR/lock is the lock itself: writers and readers hold it shared, Remove
// and GC exclusive. DIR/lock.gate makes the lock fair to Remove and GC:
// an exclusive taker holds the gate exclusive while it waits for the lock,
// and a shared taker passes the gate (shared, released at once) before it
// takes the lock, so a steady stream of overlapping writers cannot starve
// a gc. Both are flock(2) locks, which the kernel drops when a process
// dies, so a killed writer never leaves the store locked.
const (
	lockFileName = "lock"
	gateFileName = "lock.gate"
)

// procLock is this process's shared hold on one store's lock. The flock is
// taken once and counted, so nested and concurrent shared holders in one
// process (WithSharedLock around PutBlob and Create, several goroutines)
// share one file descriptor and never wait for each other.
type procLock struct {
	mu    sync.Mutex
	count int
	file  *os.File // DIR/lock, flocked shared while count > 0
}

var (
	procLocksMu sync.Mutex
	procLocks   = map[string]*procLock{}
)

func (s *Store) procLock() *procLock {
	// One entry per directory however it is named, so that nested holders
	// using different paths to one store still share the hold.
	key := s.Dir
	if abs, err := filepath.Abs(s.Dir); err == nil {
		key = abs
	}
	if real, err := filepath.EvalSymlinks(key); err == nil {
		key = real
	}
	procLocksMu.Lock()
	defer procLocksMu.Unlock()
	pl := procLocks[key]
	if pl == nil {
		pl = &procLock{}
		procLocks[key] = pl
	}
	return pl
}

// openLockFile opens (creating if needed) one of the lock files. flock
// works on a descriptor opened for reading, so a store that this user may
// only read can still be locked.
func openLockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err == nil {
		return f, nil
	}
	if ro, roErr := os.Open(path); roErr == nil {
		return ro, nil
	}
	return nil, err
}

// lockedFile opens path and flocks it (blocking).
func lockedFile(path string, exclusive bool) (*os.File, error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	if err := flock(f, exclusive); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %v", path, err)
	}
	return f, nil
}

// lockShared takes the store's shared lock (or joins this process's hold
// on it) and returns the function that releases it; release is idempotent.
// With forReading set, a store whose lock file cannot be opened (a
// read-only store without one) is read unlocked rather than refused.
func (s *Store) lockShared(forReading bool) (release func(), err error) {
	pl := s.procLock()
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.count == 0 {
		gate, err := lockedFile(filepath.Join(s.Dir, gateFileName), false)
		if err != nil {
			if forReading && isAccessError(err) {
				return func() {}, nil
			}
			return nil, fmt.Errorf("store: %v", err)
		}
		f, err := lockedFile(filepath.Join(s.Dir, lockFileName), false)
		gate.Close() // past the gate: a waiting gc now queues behind us
		if err != nil {
			if forReading && isAccessError(err) {
				return func() {}, nil
			}
			return nil, fmt.Errorf("store: %v", err)
		}
		pl.file = f
	}
	pl.count++
	var once sync.Once
	return func() {
		once.Do(func() {
			pl.mu.Lock()
			defer pl.mu.Unlock()
			pl.count--
			if pl.count == 0 {
				pl.file.Close() // drops the flock
				pl.file = nil
			}
		})
	}, nil
}

// lockExclusive takes the store's exclusive lock: it waits until no writer
// or reader, in any process, holds the shared lock, and keeps new ones out
// until release. It must not be called by a goroutine that holds the
// shared lock (it would wait for itself).
func (s *Store) lockExclusive() (release func(), err error) {
	gate, err := lockedFile(filepath.Join(s.Dir, gateFileName), true)
	if err != nil {
		return nil, fmt.Errorf("store: %v", err)
	}
	f, err := lockedFile(filepath.Join(s.Dir, lockFileName), true)
	if err != nil {
		gate.Close()
		return nil, fmt.Errorf("store: %v", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			f.Close()
			gate.Close()
		})
	}, nil
}

func isAccessError(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) || isReadOnlyFS(err)
}

// LockShared takes the store's shared lock and returns the function that
// releases it. While it is held, Remove and GC (in any process) wait, so
// the blobs a writer has put stay in the store until its manifest
// references them. PutBlob, Create, Replace and the readers called while it
// is held join the hold instead of locking again. Do not call Remove or GC
// while holding it: they would wait for it forever.
func (s *Store) LockShared() (unlock func(), err error) {
	return s.lockShared(false)
}

// WithSharedLock runs fn while holding the store's shared lock (see
// LockShared). It is the way to save a model: put its blobs, then Create or
// Replace its manifest, all inside one WithSharedLock, so that a gc running
// in another process cannot delete a blob between the put and the manifest
// that references it:
//
//	err := s.WithSharedLock(func() error {
//		m.Stem.Blob, err = s.PutBlob(stem) // ... and every block and the head
//		...
//		return s.Replace(m)
//	})
func (s *Store) WithSharedLock(fn func() error) error {
	unlock, err := s.lockShared(false)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}
