package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/frankenvit/frankenvit/internal/durable"
)

// Freed is what Remove or GC deleted.
type Freed struct {
	Blobs     []string `json:"blobs"`      // digests of the deleted blobs
	BlobBytes int64    `json:"blob_bytes"` // their stored size
	TempFiles int      `json:"temp_files"` // leftover temporary files deleted (GC only)
	TempBytes int64    `json:"temp_bytes"`
}

// Bytes is everything freed.
func (f *Freed) Bytes() int64 { return f.BlobBytes + f.TempBytes }

// Remove deletes a model: its manifest, then every blob that no remaining
// manifest references. Blobs shared with other models stay, so removing the
// donor of a Frankenstein model leaves that model whole.
//
// Remove holds the exclusive lock, so it waits for writers and readers that
// hold the shared lock, and none can start until it is done; it must not be
// called while holding the shared lock. If another manifest cannot be read,
// which blobs are still in use is unknown: Remove then changes nothing and
// says which model is broken (remove that one first, or repair it). A
// crash part way leaves only garbage blobs, which GC deletes.
func (s *Store) Remove(name string) (*Freed, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	unlock, err := s.lockExclusive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Lstat(s.manifestPath(name)); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: model %s: %w in %s", name, ErrNotFound, s.Dir)
	}
	refs, err := s.references(name)
	if err != nil {
		return nil, fmt.Errorf("store: rm %s: nothing removed: %v", name, err)
	}
	if err := os.Remove(s.manifestPath(name)); err != nil {
		return nil, fmt.Errorf("store: rm %s: %v", name, err)
	}
	if err := durable.SyncDir(s.modelsDir()); err != nil {
		return nil, fmt.Errorf("store: rm %s: %v", name, err)
	}
	freed := &Freed{Blobs: []string{}}
	if err := s.sweepBlobs(refs, freed); err != nil {
		return freed, fmt.Errorf("store: rm %s: the manifest is gone, but deleting its blobs failed: %v", name, err)
	}
	return freed, nil
}

// GC deletes every blob that no manifest references and every leftover
// temporary file (".tmp-*" in blobs/sha256 and models: what a killed
// writer leaves behind). It holds the exclusive lock, and every writer of
// this package writes only while holding the shared lock, so no temporary
// file belongs to a live writer and no unreferenced blob is about to be
// referenced: GC deletes them all, whatever their age. (Writers that do not
// take the lock, such as frankenvit builds older than the lock, must not run
// during a gc.) Like Remove, GC changes nothing when a manifest cannot be
// read, and must not be called while holding the shared lock.
func (s *Store) GC() (*Freed, error) {
	unlock, err := s.lockExclusive()
	if err != nil {
		return nil, err
	}
	defer unlock()
	refs, err := s.references("")
	if err != nil {
		return nil, fmt.Errorf("store: gc: nothing deleted: %v", err)
	}
	freed := &Freed{Blobs: []string{}}
	if err := s.sweepBlobs(refs, freed); err != nil {
		return freed, fmt.Errorf("store: gc: %v", err)
	}
	for _, dir := range []string{filepath.Join(s.Dir, "blobs", "sha256"), s.modelsDir()} {
		if err := sweepTemp(dir, freed); err != nil {
			return freed, fmt.Errorf("store: gc: %v", err)
		}
	}
	return freed, nil
}

// references is the set of blobs referenced by every manifest except
// skip's. A manifest that cannot be read is an error naming its model(s).
func (s *Store) references(skip string) (map[string]bool, error) {
	names, err := s.manifestNames()
	if err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	var broken []string
	for _, name := range names {
		if name == skip {
			continue
		}
		var m *Manifest
		var p *Problem
		if err := ValidName(name); err != nil {
			p = &Problem{Model: name, Part: "manifest", Problem: "invalid name"}
		} else {
			m, p = s.readManifest(name)
		}
		if p != nil {
			if errors.Is(p.err, ErrNotFound) {
				continue // removed since the listing (cannot happen under the lock, but harmless)
			}
			broken = append(broken, p.String())
			continue
		}
		_, parts := m.Parts()
		for _, ref := range parts {
			refs[ref.Blob] = true
		}
	}
	if len(broken) > 0 {
		return nil, fmt.Errorf("which blobs are in use is unknown while a manifest cannot be read (repair it, or rm that model): %s",
			strings.Join(broken, "; "))
	}
	return refs, nil
}

// sweepBlobs deletes the blobs not in refs.
func (s *Store) sweepBlobs(refs map[string]bool, freed *Freed) error {
	digests, err := s.blobDigests()
	if err != nil {
		return err
	}
	for _, d := range digests {
		if refs[d] {
			continue
		}
		path := s.blobPath(d)
		info, err := os.Lstat(path)
		if err != nil {
			continue
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("delete blob %s: %v", d, err)
		}
		freed.Blobs = append(freed.Blobs, d)
		freed.BlobBytes += info.Size()
	}
	sort.Strings(freed.Blobs)
	if len(freed.Blobs) > 0 {
		return durable.SyncDir(filepath.Join(s.Dir, "blobs", "sha256"))
	}
	return nil
}

// sweepTemp deletes the temporary files in dir.
func sweepTemp(dir string, freed *Freed) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), durable.TempPrefix) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("delete %s: %v", filepath.Join(dir, e.Name()), err)
		}
		freed.TempFiles++
		freed.TempBytes += info.Size()
	}
	return nil
}
