package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/frankenvit/frankenvit/internal/durable"
)

var (
	// ErrExists is wrapped by Create when the model name is taken.
	ErrExists = errors.New("already exists")
	// ErrNotFound is wrapped when a model or blob is not in the store.
	ErrNotFound = errors.New("not found")
)

// DefaultDirName is the store used when neither --store nor
// FRANKENVIT_STORE says otherwise.
const DefaultDirName = "frankenvit-store"

// Store is a content-addressed model store in a directory (see the package
// documentation for the layout). Its methods are safe to call from several
// goroutines and processes at once.
type Store struct {
	Dir string
}

// DefaultDir is $FRANKENVIT_STORE, else ./frankenvit-store.
func DefaultDir() string {
	if dir := os.Getenv("FRANKENVIT_STORE"); dir != "" {
		return dir
	}
	return DefaultDirName
}

// Open opens the store in dir, creating its directories if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("store: no directory given")
	}
	for _, sub := range []string{filepath.Join("blobs", "sha256"), "models"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("store: open %s: %v", dir, err)
		}
	}
	return &Store{Dir: dir}, nil
}

func (s *Store) modelsDir() string { return filepath.Join(s.Dir, "models") }

func (s *Store) manifestPath(name string) string {
	return filepath.Join(s.modelsDir(), name+".json")
}

// Exists reports whether a model of that name is in the store.
func (s *Store) Exists(name string) bool {
	if ValidName(name) != nil {
		return false
	}
	_, err := os.Stat(s.manifestPath(name))
	return err == nil
}

// prepare fills in defaults, validates m and checks that every blob it
// references is present, all before anything is written.
func (s *Store) prepare(m *Manifest) ([]byte, error) {
	if m.FormatVersion == 0 {
		m.FormatVersion = ManifestFormatVersion
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	if m.Blocks == nil {
		m.Blocks = []PartRef{} // "blocks": [] rather than null
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	labels, refs := m.Parts()
	for i, ref := range refs {
		if !s.HasBlob(ref.Blob) {
			return nil, fmt.Errorf("store: model %s: %s blob %s is %w in %s", m.Name, labels[i], ref.Blob, ErrNotFound, s.Dir)
		}
	}
	data, err := encodeManifest(m)
	if err != nil {
		return nil, fmt.Errorf("store: model %s: encode manifest: %v", m.Name, err)
	}
	return data, nil
}

// Create stores a new model. It fails with an error wrapping ErrExists if
// the name is taken, even by a concurrent writer, and with an error naming
// the blob if a referenced blob is missing; then nothing is written. A zero
// FormatVersion or CreatedAt is filled in. Create holds the store's shared
// lock (see WithSharedLock).
func (s *Store) Create(m *Manifest) error {
	unlock, err := s.lockShared(false)
	if err != nil {
		return err
	}
	defer unlock()
	data, err := s.prepare(m)
	if err != nil {
		return err
	}
	err = durable.CreateExclusive(s.manifestPath(m.Name), writeBytes(data))
	if errors.Is(err, durable.ErrExists) {
		return fmt.Errorf("store: model %s %w in %s", m.Name, ErrExists, s.Dir)
	}
	if err != nil {
		return fmt.Errorf("store: model %s: write manifest: %v", m.Name, err)
	}
	return nil
}

// Replace atomically overwrites the manifest of an existing model, e.g. to
// record progress during training. Readers see the old or the new manifest,
// and a crash leaves one of them. Replace holds the store's shared lock
// (see WithSharedLock). The blobs only the old manifest referenced become
// garbage for GC.
func (s *Store) Replace(m *Manifest) error {
	unlock, err := s.lockShared(false)
	if err != nil {
		return err
	}
	defer unlock()
	data, err := s.prepare(m)
	if err != nil {
		return err
	}
	if !s.Exists(m.Name) {
		return fmt.Errorf("store: model %s: %w in %s (Create it first)", m.Name, ErrNotFound, s.Dir)
	}
	if err := durable.Write(s.manifestPath(m.Name), writeBytes(data)); err != nil {
		return fmt.Errorf("store: model %s: write manifest: %v", m.Name, err)
	}
	return nil
}

func writeBytes(data []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}

// Get reads and validates a model's manifest. A missing model gives an
// error wrapping ErrNotFound; a damaged one an error naming the model, the
// file and the problem.
func (s *Store) Get(name string) (*Manifest, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	m, p := s.readManifest(name)
	if p != nil {
		return nil, p.asError()
	}
	return m, nil
}

// readManifest reads a model's manifest (name already valid); what is
// wrong is a Problem with the part "manifest".
func (s *Store) readManifest(name string) (*Manifest, *Problem) {
	path := s.manifestPath(name)
	fail := func(problem, detail string, err error) (*Manifest, *Problem) {
		return nil, &Problem{Model: name, Part: "manifest", File: path, Problem: problem, Detail: detail, err: err}
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fail("not found", "no model "+name+" in "+s.Dir, ErrNotFound)
	}
	if err != nil {
		return fail("unreadable", err.Error(), err)
	}
	m, err := decodeManifest(data)
	if err != nil {
		return fail("unreadable", err.Error(), nil)
	}
	if m.Name != name {
		return fail("unreadable", fmt.Sprintf("the manifest names the model %q", m.Name), nil)
	}
	return m, nil
}

// ListError reports the manifests that List could not read.
type ListError struct {
	Broken map[string]error // model name -> what is wrong
}

func (e *ListError) Error() string {
	names := make([]string, 0, len(e.Broken))
	for name := range e.Broken {
		names = append(names, name)
	}
	sort.Strings(names)
	msgs := make([]string, len(names))
	for i, name := range names {
		msgs[i] = strings.TrimPrefix(e.Broken[name].Error(), "store: ")
	}
	return fmt.Sprintf("store: %d broken manifest(s): %s", len(names), strings.Join(msgs, "; "))
}

// List returns every readable manifest, sorted by name. A broken manifest
// does not hide the others: they are all returned, together with a
// *ListError naming the broken ones.
func (s *Store) List() ([]*Manifest, error) {
	entries, err := os.ReadDir(s.modelsDir())
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %v", s.Dir, err)
	}
	var out []*Manifest
	broken := map[string]error{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || durable.IsTemp(e.Name()) || e.IsDir() {
			continue
		}
		m, err := s.Get(name)
		if err != nil {
			broken[name] = err
			continue
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(broken) > 0 {
		return out, &ListError{Broken: broken}
	}
	return out, nil
}

// LoadParts reads and verifies the stem, every block of the plan and the
// head. Each block gets its own copy, even when the plan repeats a blob.
// It holds the store's shared lock while it reads; an error names the model
// and the part (and wraps the *BlobError).
func (s *Store) LoadParts(m *Manifest) (stem Tensors, blocks []Tensors, head Tensors, err error) {
	if err := m.Validate(); err != nil {
		return nil, nil, nil, err
	}
	unlock, err := s.lockShared(true)
	if err != nil {
		return nil, nil, nil, err
	}
	defer unlock()
	labels, refs := m.Parts()
	parts := make([]Tensors, len(refs))
	loaded := map[string]Tensors{}
	for i, ref := range refs {
		if ts, ok := loaded[ref.Blob]; ok {
			parts[i] = ts.Clone()
			continue
		}
		ts, err := s.GetBlob(ref.Blob)
		if err != nil {
			return nil, nil, nil, partError(m.Name, labels[i], ref.Blob, err)
		}
		loaded[ref.Blob] = ts
		parts[i] = ts
	}
	return parts[0], parts[1 : len(parts)-1], parts[len(parts)-1], nil
}

// Size is the bytes of all blobs and manifests in the store (temporary
// files excluded).
func (s *Store) Size() (int64, error) {
	var total int64
	for _, dir := range []string{filepath.Join(s.Dir, "blobs", "sha256"), s.modelsDir()} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && !durable.IsTemp(d.Name()) {
				info, err := d.Info()
				if err != nil {
					return err
				}
				total += info.Size()
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("store: size of %s: %v", s.Dir, err)
		}
	}
	return total, nil
}

// contextError puts context in front of a "store: ..." error without
// repeating the prefix, and keeps it unwrappable (errors.Is ErrNotFound).
type contextError struct {
	msg string
	err error
}

func (e *contextError) Error() string { return e.msg }
func (e *contextError) Unwrap() error { return e.err }

func withContext(context string, err error) error {
	return &contextError{msg: context + ": " + strings.TrimPrefix(err.Error(), "store: "), err: err}
}
