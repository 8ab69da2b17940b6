package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/frankenvit/frankenvit/internal/durable"
)

// Resume states: a training in progress keeps what it needs to continue
// (weights, optimizer moments, position) in DIR/state/<name>.safetensors,
// replaced atomically at every epoch end and removed when the model is
// complete. They are not models: nothing references them and they are
// plain (uncompressed) safetensors, rewritten whole each time.

func (s *Store) statePath(name string) string {
	return filepath.Join(s.Dir, "state", name+".safetensors")
}

// SaveState atomically replaces the resume state of a model.
func (s *Store) SaveState(name string, ts Tensors, meta map[string]string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	path := s.statePath(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("store: %v", err)
	}
	if err := durable.Write(path, func(w io.Writer) error { return WriteSafetensors(w, ts, meta) }); err != nil {
		return fmt.Errorf("store: saving the resume state of %s: %v", name, err)
	}
	return nil
}

// LoadState reads a model's resume state; the error wraps ErrNotFound when
// there is none.
func (s *Store) LoadState(name string) (Tensors, map[string]string, error) {
	data, err := os.ReadFile(s.statePath(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("store: no resume state for %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: %v", err)
	}
	ts, meta, err := ReadSafetensors(data)
	if err != nil {
		return nil, nil, fmt.Errorf("store: resume state of %s: %v", name, err)
	}
	return ts, meta, nil
}

// RemoveState deletes a model's resume state, if any.
func (s *Store) RemoveState(name string) error {
	if err := os.Remove(s.statePath(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: %v", err)
	}
	return nil
}

// Records are small JSON documents kept beside the models, such as a
// population's summary: DIR/records/<kind>/<name>.json, written atomically.

func (s *Store) recordPath(kind, name string) string {
	return filepath.Join(s.Dir, "records", kind, name+".json")
}

// PutRecord atomically writes v as the record kind/name.
func (s *Store) PutRecord(kind, name string, v any) error {
	if err := ValidName(kind); err != nil {
		return err
	}
	if err := ValidName(name); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("store: record %s/%s: %v", kind, name, err)
	}
	path := s.recordPath(kind, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("store: %v", err)
	}
	return durable.Write(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(append(data, '\n')))
		return err
	})
}

// GetRecord reads the record kind/name into v; the error wraps ErrNotFound
// when there is none.
func (s *Store) GetRecord(kind, name string, v any) error {
	data, err := os.ReadFile(s.recordPath(kind, name))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: no %s record %s: %w", kind, name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("store: %s record %s: %v", kind, name, err)
	}
	return nil
}

// LockName takes an exclusive lock called name (DIR/locks/<name>.lock),
// waiting until no other holder, in this process or another, has it. The
// kernel drops it when the process dies, so a killed holder never blocks
// the others. Population members use it so that one process trains the
// shared parent while the others wait for it.
func (s *Store) LockName(name string) (unlock func(), err error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	dir := filepath.Join(s.Dir, "locks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: %v", err)
	}
	f, err := lockedFile(filepath.Join(dir, name+".lock"), true)
	if err != nil {
		return nil, fmt.Errorf("store: %v", err)
	}
	return func() { f.Close() }, nil
}
