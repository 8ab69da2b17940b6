package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/frankenvit/frankenvit/internal/durable"
)

// Problem is one thing wrong with a model: its manifest, or the blob of one
// of its parts.
type Problem struct {
	Model   string `json:"model"`
	Part    string `json:"part"`           // "manifest", "stem", "block 3", "head"
	Blob    string `json:"blob,omitempty"` // the part's digest
	File    string `json:"file,omitempty"` // the manifest's path, for a manifest problem
	Problem string `json:"problem"`        // short: "missing", "hash mismatch", "unreadable", ...
	Detail  string `json:"detail,omitempty"`
	err     error
}

// String is one line naming the model and the part, e.g.
// "model b: block 3 (sha256:ab12...): hash mismatch: ...".
func (p *Problem) String() string {
	if p.Part == "manifest" && errors.Is(p.err, ErrNotFound) {
		return "model " + p.Model + ": " + p.Detail
	}
	what := p.Blob
	if what == "" {
		what = p.File
	}
	msg := "model " + p.Model + ": " + p.Part
	if what != "" {
		msg += " (" + what + ")"
	}
	msg += ": " + p.Problem
	if p.Detail != "" {
		msg += ": " + p.Detail
	}
	return msg
}

func (p *Problem) asError() error {
	return &contextError{msg: "store: " + p.String(), err: p.err}
}

// partError names the model and the part in front of a blob's error.
func partError(model, label, digest string, err error) error {
	var be *BlobError
	if errors.As(err, &be) {
		p := &Problem{Model: model, Part: label, Blob: digest, Problem: be.Problem, Detail: be.Detail, err: err}
		return p.asError()
	}
	return withContext(fmt.Sprintf("store: model %s: %s", model, label), err)
}

// ModelReport is the verdict on one model.
type ModelReport struct {
	Name     string     `json:"name"`
	Parts    int        `json:"parts"` // stem, blocks and head (0 if the manifest is unreadable)
	OK       bool       `json:"ok"`
	Problems []*Problem `json:"problems,omitempty"`
}

// Garbage is a blob that no manifest references. It harms nothing; GC
// deletes it.
type Garbage struct {
	Blob    string `json:"blob"`
	Bytes   int64  `json:"bytes"`
	Problem string `json:"problem,omitempty"` // also damaged: "hash mismatch", ...
}

// Report is what Check found.
type Report struct {
	Store   string        `json:"store"`
	Models  []ModelReport `json:"models"`
	Blobs   int           `json:"blobs_checked"`     // distinct blob files read and hashed
	Garbage []Garbage     `json:"garbage,omitempty"` // only when the whole store was checked
	OK      bool          `json:"ok"`                // no model has a problem (garbage is not one)
}

// Problems lists every problem of every model, in model order.
func (r *Report) Problems() []*Problem {
	var out []*Problem
	for _, m := range r.Models {
		out = append(out, m.Problems...)
	}
	return out
}

// Err is nil when every checked model is intact, else a *VerifyError.
func (r *Report) Err() error {
	if ps := r.Problems(); len(ps) > 0 {
		return &VerifyError{Problems: ps}
	}
	return nil
}

// VerifyError lists the problems Check found; its message is one line.
type VerifyError struct {
	Problems []*Problem
}

// maxListed bounds the problems spelled out in a VerifyError's message.
const maxListed = 5

func (e *VerifyError) Error() string {
	if len(e.Problems) == 1 {
		return "store: " + e.Problems[0].String()
	}
	msgs := make([]string, 0, maxListed+1)
	for i, p := range e.Problems {
		if i == maxListed {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(e.Problems)-maxListed))
			break
		}
		msgs = append(msgs, p.String())
	}
	return fmt.Sprintf("store: %d problems: %s", len(e.Problems), strings.Join(msgs, "; "))
}

// Unwrap gives the causes, so errors.Is(err, ErrNotFound) works.
func (e *VerifyError) Unwrap() []error {
	var out []error
	for _, p := range e.Problems {
		if p.err != nil {
			out = append(out, p.err)
		}
	}
	return out
}

// Check verifies models: every manifest is read and validated, and every
// blob it references is read, checked against its hash and decoded. Each
// distinct blob is read once however many models share it. With no names
// it checks every model in the store, and also hashes every blob that no
// manifest references and reports it as Garbage (not as a problem). A
// named model that does not exist is a problem of that model.
//
// The returned error is only for a store that cannot be examined at all;
// what is wrong with models is in the Report (see Report.Err). Check holds
// the shared lock, so rm and gc wait until it is done.
func (s *Store) Check(names ...string) (*Report, error) {
	unlock, err := s.lockShared(true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	all := len(names) == 0
	if all {
		if names, err = s.manifestNames(); err != nil {
			return nil, err
		}
	}
	r := &Report{Store: s.Dir, Models: []ModelReport{}, OK: true}
	checked := map[string]*BlobError{} // digest -> nil when intact
	checkBlob := func(digest string) *BlobError {
		if be, ok := checked[digest]; ok {
			return be
		}
		var be *BlobError
		if _, err := s.GetBlob(digest); err != nil && !errors.As(err, &be) {
			be = &BlobError{Digest: digest, Problem: "unreadable", Detail: err.Error(), Err: err}
		}
		checked[digest] = be
		r.Blobs++
		return be
	}
	maybeReferenced := map[string]bool{} // digests named in broken manifests
	for _, name := range names {
		mr := ModelReport{Name: name}
		var m *Manifest
		if err := ValidName(name); err != nil {
			mr.Problems = append(mr.Problems, &Problem{Model: name, Part: "manifest", Problem: "invalid name",
				Detail: strings.TrimPrefix(err.Error(), "store: "), err: err})
		} else {
			var p *Problem
			if m, p = s.readManifest(name); p != nil {
				mr.Problems = append(mr.Problems, p)
				for _, d := range digestsIn(s.manifestPath(name)) {
					maybeReferenced[d] = true
				}
			}
		}
		if m != nil {
			labels, refs := m.Parts()
			mr.Parts = len(refs)
			for i, ref := range refs {
				if be := checkBlob(ref.Blob); be != nil {
					mr.Problems = append(mr.Problems, &Problem{Model: name, Part: labels[i], Blob: ref.Blob,
						Problem: be.Problem, Detail: be.Detail, err: be})
				}
			}
		}
		mr.OK = len(mr.Problems) == 0
		r.OK = r.OK && mr.OK
		r.Models = append(r.Models, mr)
	}
	if !all {
		return r, nil
	}
	digests, err := s.blobDigests()
	if err != nil {
		return nil, err
	}
	for _, d := range digests {
		if _, referenced := checked[d]; referenced || maybeReferenced[d] {
			continue
		}
		g := Garbage{Blob: d}
		if be := checkBlob(d); be != nil {
			g.Problem = be.Problem
		}
		if info, err := os.Stat(s.blobPath(d)); err == nil {
			g.Bytes = info.Size()
		}
		r.Garbage = append(r.Garbage, g)
	}
	return r, nil
}

// Verify checks one model: its manifest and every part it references (see
// Check). The error names the model and each broken part; for a model
// that does not exist it wraps ErrNotFound.
func (s *Store) Verify(name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	r, err := s.Check(name)
	if err != nil {
		return err
	}
	return r.Err()
}

// manifestNames lists the models that have a manifest file, readable or
// not, sorted.
func (s *Store) manifestNames() ([]string, error) {
	entries, err := os.ReadDir(s.modelsDir())
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %v", s.Dir, err)
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || durable.IsTemp(e.Name()) || e.IsDir() {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// blobDigests lists the digests of the blob files in the store, sorted.
// Temporary files and files not named like a blob are skipped.
func (s *Store) blobDigests() ([]string, error) {
	dir := filepath.Join(s.Dir, "blobs", "sha256")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("store: list blobs in %s: %v", s.Dir, err)
	}
	var out []string
	for _, e := range entries {
		d := digestPrefix + e.Name()
		if durable.IsTemp(e.Name()) || !e.Type().IsRegular() || ValidDigest(d) != nil {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

var digestPattern = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// digestsIn finds every digest written in a file, e.g. a damaged manifest,
// so that its blobs are not reported as garbage.
func digestsIn(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range digestPattern.FindAll(data, -1) {
		out = append(out, string(d))
	}
	return out
}
