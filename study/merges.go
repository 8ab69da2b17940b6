package study

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/durable"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/workflow"
)

// A study keeps, for each merge entry, merge-NAME.json in its output folder:
// what the merge stored and measured, what built it (the entry's options
// and the weights of its sources) and which models of the store it wrote.
// A rerun reuses the merge only if nothing it was built from changed and
// its models are all in the store. Otherwise it rebuilds it: it first marks
// the record pending (naming every model it is about to remove or write),
// then removes the old models, builds the new ones and writes the record.
// A crash anywhere in between leaves a pending record, and the next run
// removes whatever of those models is left and builds them again, so
// neither the old merge nor half of the new one is ever reported. Models of
// the store that the record does not name are never removed: a merge whose
// names are taken by them is refused.

// mergeKey is what a merge entry's models and numbers depend on.
type mergeKey struct {
	Method   string              `json:"method"`
	From     []string            `json:"from"`
	Count    int                 `json:"count"`
	Seed     uint64              `json:"seed"`
	AnyBlock bool                `json:"any_block"`
	Stem     string              `json:"stem"`
	Search   merge.SearchOptions `json:"search"`
	Eval     bool                `json:"eval"`
	Data     string              `json:"data"`
	Limit    int                 `json:"limit"`
	Orders   int                 `json:"orders"`
	Recipe   string              `json:"recipe,omitempty"` // sha256 of a recipe file's text
	// Sources maps every source model to a digest of its weights (the
	// blobs of its stem, blocks and head, in order).
	Sources map[string]string `json:"sources"`
}

// mergeRecord is merge-NAME.json: a workflow.MergeOutcome (the fields the
// report shows) with what built it and the models it wrote. A record
// without built_from was written before frankenvit recorded it.
type mergeRecord struct {
	BuiltFrom *mergeKey `json:"built_from,omitempty"`
	Models    []string  `json:"models,omitempty"`
	// Pending: a build or rebuild of Models began and has not finished.
	Pending bool `json:"pending,omitempty"`
	*workflow.MergeOutcome
}

// keyOf is the key of a merge request against the store as it is now.
func keyOf(s *checkpoint.Store, req workflow.MergeRequest) (*mergeKey, error) {
	k := &mergeKey{Method: req.Method, From: req.From, Count: req.Count, Seed: req.Seed, AnyBlock: req.AnyBlock,
		Stem: req.Stem, Search: req.Search, Eval: req.Eval, Data: req.Data, Limit: req.Limit, Orders: req.Orders}
	var sources []string
	if method, file, _ := strings.Cut(req.Method, ":"); method == "recipe" {
		text, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("recipe %s: %v", file, errors.Unwrap(err))
		}
		sum := sha256.Sum256(text)
		k.Recipe = hex.EncodeToString(sum[:])
		r, err := merge.ParseRecipe(text)
		if r == nil {
			return nil, fmt.Errorf("recipe %s: %v", file, err)
		}
		sources = r.Models()
	} else {
		var err error
		if sources, err = workflow.ExpandFrom(s, req.From); err != nil {
			return nil, err
		}
	}
	var err error
	k.Sources, err = weightDigests(s, sources)
	return k, err
}

// weightDigests maps each named model that is in the store to a digest of
// its weights; a model that is not is left out.
func weightDigests(s *checkpoint.Store, names []string) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range names {
		if !s.Exists(n) {
			continue
		}
		man, err := s.Get(n)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		for _, p := range append(append([]checkpoint.PartRef{man.Stem}, man.Blocks...), man.Head) {
			fmt.Fprintln(h, p.Blob)
		}
		out[n] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
}

// readMergeRecord reads merge-NAME.json: nil if there is none, or if it
// does not decode (then the study cannot tell which models it built).
func readMergeRecord(path string) (*mergeRecord, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var r mergeRecord
	if json.Unmarshal(raw, &r) != nil {
		return nil, nil
	}
	return &r, nil
}

func writeMergeRecord(path string, r *mergeRecord) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(path, append(raw, '\n'))
}

// owned are the models a record says the study wrote (or was writing).
func (r *mergeRecord) owned() map[string]bool {
	out := map[string]bool{}
	if r == nil {
		return out
	}
	for _, n := range r.Models {
		out[n] = true
	}
	if r.MergeOutcome != nil {
		for _, m := range r.Merged {
			out[m.Name] = true
		}
	}
	return out
}

// mergeNames are the models a merge request stores: OUT, or OUT-0 ..
// OUT-(K-1) for a count K > 1.
func mergeNames(req workflow.MergeRequest) []string {
	if req.Count <= 1 {
		return []string{req.Out}
	}
	names := make([]string, req.Count)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", req.Out, i)
	}
	return names
}

// runMerge builds a merge, or reuses the one the study built before if
// nothing it depends on changed; a changed one is rebuilt (see above). The
// outcome is kept in record so a rerun can show it again.
func runMerge(s *checkpoint.Store, req workflow.MergeRequest, record string, log io.Writer) (*workflow.MergeOutcome, error) {
	key, err := keyOf(s, req)
	if err != nil {
		return nil, err
	}
	names := mergeNames(req)
	old, err := readMergeRecord(record)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, n := range names {
		if !s.Exists(n) {
			missing = append(missing, n)
		}
	}
	if old != nil && !old.Pending && old.MergeOutcome != nil && old.BuiltFrom != nil && sameJSON(old.BuiltFrom, key) &&
		slices.Equal(old.Models, names) && len(missing) == 0 {
		fmt.Fprintf(log, "merge %s: already in the store\n", req.Out)
		return old.MergeOutcome, nil
	}
	owned := old.owned()
	var foreign, stale []string
	for _, n := range names {
		if s.Exists(n) && !owned[n] {
			foreign = append(foreign, n)
		}
	}
	if len(foreign) > 0 {
		return nil, fmt.Errorf("model %s is in the store but this study did not build it (%s does not name it): remove it or rename the merge",
			strings.Join(foreign, ", "), record)
	}
	for n := range owned {
		if s.Exists(n) {
			stale = append(stale, n)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		fmt.Fprintf(log, "merge %s: %s: rebuilding it (removing %s)\n", req.Out, whatChanged(old, key, names, missing),
			strings.Join(stale, ", "))
	} else {
		fmt.Fprintf(log, "merge %s (%s from %v)\n", req.Out, req.Method, req.From)
	}
	// From here until the final record, the record names every model that
	// may be left half removed or half written.
	pending := &mergeRecord{BuiltFrom: key, Pending: true, Models: slices.Clone(names)}
	for n := range owned {
		if !slices.Contains(pending.Models, n) {
			pending.Models = append(pending.Models, n)
		}
	}
	if err := writeMergeRecord(record, pending); err != nil {
		return nil, err
	}
	for _, n := range stale {
		if _, err := s.Remove(n); err != nil {
			return nil, fmt.Errorf("removing the old %s: %w", n, err)
		}
	}
	// The group record of an earlier count K > 1 would still list the
	// removed OUT-0 .. OUT-(K-1) when the new count is 1.
	wasGroup := false
	for n := range owned {
		wasGroup = wasGroup || n != req.Out
	}
	var group workflow.PopulationSummary
	hadGroup := wasGroup && s.GetRecord("populations", req.Out, &group) == nil
	o, err := workflow.Merge(s, req)
	if err != nil {
		return nil, err
	}
	if hadGroup && len(names) == 1 {
		group.Members = []workflow.MemberSummary{{Name: req.Out, Role: "member", Seed: req.Seed, Status: "complete",
			ValAccuracy: o.Merged[0].ValAccuracy, TestSequential: o.Merged[0].TestSequential,
			TestRandom: o.Merged[0].TestRandom, TestRandomStd: o.Merged[0].TestRandomStd}}
		if err := s.PutRecord("populations", req.Out, group); err != nil {
			return nil, err
		}
	}
	return o, writeMergeRecord(record, &mergeRecord{BuiltFrom: key, Models: names, MergeOutcome: o})
}

// whatChanged says, in a few words, why a merge the study built before is
// rebuilt: the entry's options or sources that differ, old -> new.
func whatChanged(old *mergeRecord, key *mergeKey, names, missing []string) string {
	switch {
	case old == nil:
		return "no record of its build"
	case old.Pending:
		return "an earlier build did not finish"
	case old.BuiltFrom == nil || old.MergeOutcome == nil:
		return "its record does not say what built it (an older frankenvit wrote it)"
	}
	var changes []string
	a, b := fields(old.BuiltFrom), fields(key)
	for _, f := range sortedFields(a, b) {
		if f == "sources" || bytes.Equal(a[f], b[f]) {
			continue
		}
		changes = append(changes, fmt.Sprintf("%s %s -> %s", f, shown(a[f]), shown(b[f])))
	}
	for _, n := range sortedFields(old.BuiltFrom.Sources, key.Sources) {
		x, inOld := old.BuiltFrom.Sources[n]
		y, inNew := key.Sources[n]
		switch {
		case !inOld:
			changes = append(changes, "new source "+n)
		case !inNew:
			changes = append(changes, "source "+n+" dropped")
		case x != y:
			changes = append(changes, "the weights of source "+n+" changed")
		}
	}
	if len(changes) > 0 {
		return "its entry changed since it was built (" + strings.Join(changes, ", ") + ")"
	}
	if !slices.Equal(old.Models, names) {
		return fmt.Sprintf("it was built as %s", strings.Join(old.Models, ", "))
	}
	return strings.Join(missing, ", ") + " left the store"
}

// fields is a key's JSON object, field by field.
func fields(k *mergeKey) map[string]json.RawMessage {
	raw, _ := json.Marshal(k)
	var out map[string]json.RawMessage
	_ = json.Unmarshal(raw, &out)
	return out
}

func sortedFields[V any](maps ...map[string]V) []string {
	var out []string
	for _, m := range maps {
		for k := range m {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// shown is a JSON value as a user reads it: strings unquoted, "none" for a
// missing one.
func shown(v json.RawMessage) string {
	if v == nil {
		return "none"
	}
	return table.JSONCell(v)
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
