package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/frankenvit/frankenvit/internal/durable"
)

// Resume states: a training in progress keeps what it needs to continue
// (weights, optimizer moments, position) in DIR/state/<name>.safetensors,
// replaced atomically at every epoch end and removed when the model is
// complete. They are not models: nothing references them and they are
// plain (uncompressed) safetensors, rewritten whole each time.
//
// A state carries a checksum in its metadata (MetaStateChecksum: SHA-256 of
// every tensor's name, shape and bytes and of every other metadata entry),
// written by SaveState and verified by LoadState, so a state that was
// truncated or had a byte flipped is refused as ErrCorruptState instead of
// being resumed from.

// MetaStateChecksum is the metadata key of a resume state's checksum; it is
// reserved (SaveState refuses metadata that sets it).
const MetaStateChecksum = "frankenvit_state_sha256"

// ErrCorruptState is wrapped by LoadState's error when a state exists but
// cannot be trusted: unreadable, truncated, without a checksum or failing it.
var ErrCorruptState = errors.New("corrupt resume state")

type corruptStateError struct{ name, path, why string }

func (e *corruptStateError) Error() string {
	return fmt.Sprintf("store: the resume state of %s (%s) is corrupt: %s", e.name, e.path, e.why)
}

func (e *corruptStateError) Is(target error) bool { return target == ErrCorruptState }

func (s *Store) statePath(name string) string {
	return filepath.Join(s.Dir, "state", name+".safetensors")
}

// SaveState atomically replaces the resume state of a model.
func (s *Store) SaveState(name string, ts Tensors, meta map[string]string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if _, ok := meta[MetaStateChecksum]; ok {
		return fmt.Errorf("store: resume state of %s: metadata key %s is reserved for the checksum", name, MetaStateChecksum)
	}
	sealed := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		sealed[k] = v
	}
	sealed[MetaStateChecksum] = stateChecksum(ts, meta)
	path := s.statePath(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("store: %v", err)
	}
	if err := durable.Write(path, func(w io.Writer) error { return WriteSafetensors(w, ts, sealed) }); err != nil {
		return fmt.Errorf("store: saving the resume state of %s: %v", name, err)
	}
	return nil
}

// LoadState reads a model's resume state and verifies its checksum; the
// metadata it returns is SaveState's, without the checksum. The error wraps
// ErrNotFound when there is none, and ErrCorruptState when the file is
// unreadable as safetensors, has no checksum, or fails it.
func (s *Store) LoadState(name string) (Tensors, map[string]string, error) {
	if err := ValidName(name); err != nil {
		return nil, nil, err
	}
	path := s.statePath(name)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("store: no resume state for %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: %v", err)
	}
	corrupt := func(why string) error { return &corruptStateError{name: name, path: path, why: why} }
	ts, meta, err := ReadSafetensors(data)
	if err != nil {
		return nil, nil, corrupt(strings.TrimPrefix(err.Error(), "checkpoint: "))
	}
	stored, ok := meta[MetaStateChecksum]
	if !ok {
		return nil, nil, corrupt("it has no checksum (" + MetaStateChecksum + ")")
	}
	delete(meta, MetaStateChecksum)
	if sum := stateChecksum(ts, meta); sum != stored {
		return nil, nil, corrupt(fmt.Sprintf("checksum mismatch (stored %.12s, computed %.12s): the file changed after it was written", stored, sum))
	}
	return ts, meta, nil
}

// stateChecksum is the hex SHA-256 of the tensors (in name order: name,
// shape, float32 bits little-endian) and the metadata (in key order), every
// string and list length-prefixed so that no two states hash alike by
// shifting bytes between fields.
func stateChecksum(ts Tensors, meta map[string]string) string {
	h := sha256.New()
	var word [8]byte
	putInt := func(n int) {
		binary.LittleEndian.PutUint64(word[:], uint64(n))
		h.Write(word[:])
	}
	putString := func(s string) {
		putInt(len(s))
		io.WriteString(h, s)
	}
	names := sortedNames(ts)
	putInt(len(names))
	buf := make([]byte, 0, 1<<16)
	for _, n := range names {
		t := ts[n]
		putString(n)
		putInt(len(t.Shape))
		for _, d := range t.Shape {
			putInt(d)
		}
		putInt(len(t.Data))
		for _, v := range t.Data {
			if len(buf)+4 > cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		h.Write(buf)
		buf = buf[:0]
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	putInt(len(keys))
	for _, k := range keys {
		putString(k)
		putString(meta[k])
	}
	return hex.EncodeToString(h.Sum(nil))
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
