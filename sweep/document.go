package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/internal/durable"
)

// Sweep kinds.
const (
	Orders = "orders"
	Depth  = "depth"
	Merge  = "merge"
)

// Sample is one measured plan.
type Sample struct {
	Unit    int    `json:"unit"`  // the unit of work it belongs to
	Index   int    `json:"index"` // its place among the unit's samples
	Group   string `json:"group"` // the name given: a model, or a population prefix
	Model   string `json:"model"`
	Variant string `json:"variant"`
	// Kind is, in an orders sweep, sequential, reversed, random, per-batch or
	// per-sample; in a depth sweep the pruning strategy, or "reference" for a
	// model trained at reduced depth.
	Kind    string `json:"kind"`
	Removed int    `json:"removed"`           // depth: blocks removed
	Sources int    `json:"sources,omitempty"` // merge: source models mixed
	Splice  string `json:"splice,omitempty"`  // merge: the Frankenstein model drawn
	Seed    uint64 `json:"seed,omitempty"`    // random orders or removals, repeats
	Plan    []int  `json:"plan,omitempty"`    // block positions run (fixed orders and pruned plans)
	// merge-methods: the method (or reference role), its grid parameter
	// and value, the task measured and the seed of the merge's random masks.
	Method    string  `json:"method,omitempty"`
	Param     string  `json:"param,omitempty"`
	Value     float64 `json:"value,omitempty"`
	Task      string  `json:"task,omitempty"`
	MergeSeed uint64  `json:"merge_seed,omitempty"`
	Acc       float64 `json:"accuracy"`
	Loss      float64 `json:"loss"`
}

// MaxDraws bounds --repeats, --seeds and --draws: each counts evaluations
// of every point, and a count past it is a typo, refused before any work.
const MaxDraws = 10_000

// Options fix what a sweep measures; every shard of one sweep has the same.
type Options struct {
	Names      []string `json:"names"`             // as given: models or population prefixes
	Data       string   `json:"data,omitempty"`    // "" = each model's own
	Split      string   `json:"split"`             // the split accuracy is measured on
	Limit      int      `json:"limit,omitempty"`   // first images of the split only
	Seed       uint64   `json:"seed"`              // of every random draw
	Orders     int      `json:"orders,omitempty"`  // orders: K of random:K
	Repeats    int      `json:"repeats,omitempty"` // orders: repeats of per-batch and per-sample evaluation
	OrderBatch int      `json:"order_batch,omitempty"`
	Strategies []string `json:"strategies,omitempty"` // depth
	Seeds      int      `json:"seeds,omitempty"`      // depth: random removals per depth; merge-methods: seeds of the random methods
	ValLimit   int      `json:"val_limit,omitempty"`  // depth: first validation images data-driven pruning measures on
	References []string `json:"references,omitempty"` // depth: models trained at reduced depth
	Draws      int      `json:"draws,omitempty"`      // merge: random Frankenstein models per number of sources
	AnyBlock   bool     `json:"any_block,omitempty"`  // merge: a slot may take any block of its source
	Methods    []string `json:"methods,omitempty"`    // merge-methods: the methods measured, or all
}

// Shard is the part i of n of a sweep's units.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ParseShard reads "i/n" with 0 <= i < n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("bad --shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// Has reports whether unit u belongs to the shard.
func (s Shard) Has(u int) bool { return s.Count <= 1 || u%s.Count == s.Index }

// Document is the result of a sweep or of one shard of it.
type Document struct {
	Sweep   string   `json:"sweep"`
	Options Options  `json:"options"`
	Shard   *Shard   `json:"shard,omitempty"` // nil for a whole sweep
	Units   int      `json:"units"`           // units in the whole sweep
	Samples []Sample `json:"samples"`
	Summary []Row    `json:"summary"` // per group, kind and depth (of this document's samples)
	// MethodSummary is a merge-methods sweep's summary, per group, order,
	// configuration and task.
	MethodSummary []MethodRow `json:"method_summary,omitempty"`
	// Failed names the merge-methods configurations that could not merge
	// (e.g. a density keeping no element of a small tensor), with the reason:
	// the sweep measures the others.
	Failed []string `json:"failed,omitempty"`
}

// Sort puts the samples in unit order.
func (d *Document) Sort() {
	sort.SliceStable(d.Samples, func(a, b int) bool {
		x, y := d.Samples[a], d.Samples[b]
		if x.Unit != y.Unit {
			return x.Unit < y.Unit
		}
		return x.Index < y.Index
	})
}

// WriteFile writes the document as indented JSON, atomically.
func (d *Document) WriteFile(path string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return err
	}
	return durable.WriteFile(path, b.Bytes())
}

// ReadDocument reads a sweep document written by WriteFile.
func ReadDocument(path string) (*Document, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeDocument(raw, path)
}

// DecodeDocument parses a sweep document; name is used in errors.
func DecodeDocument(raw []byte, path string) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: not a sweep result: %v", path, err)
	}
	if d.Sweep != Orders && d.Sweep != Depth && d.Sweep != Merge && d.Sweep != MergeMethods {
		return nil, fmt.Errorf("%s: not a sweep result: sweep is %q, want orders, depth, merge or merge-methods", path, d.Sweep)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: not a sweep result: more after the document", path)
	}
	if d.Shard != nil && (d.Shard.Count < 1 || d.Shard.Index < 0 || d.Shard.Index >= d.Shard.Count) {
		return nil, fmt.Errorf("%s: bad shard %d/%d", path, d.Shard.Index, d.Shard.Count)
	}
	if d.Units < 0 {
		return nil, fmt.Errorf("%s: a sweep of %d units", path, d.Units)
	}
	for i, s := range d.Samples {
		if s.Unit < 0 || s.Unit >= d.Units {
			return nil, fmt.Errorf("%s: a sample of unit %d in a sweep of %d units", path, s.Unit, d.Units)
		}
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("%s: sample %d (unit %d, model %q): %v", path, i, s.Unit, s.Model, err)
		}
	}
	return &d, nil
}

// MaxBlocks bounds the blocks a sample may run, remove or mix sources of:
// far more than any model here has, and few enough that a table or figure
// with a column or point per number of blocks stays small.
const MaxBlocks = 4096

// check refuses what no sweep writes and what the summaries cannot show: a
// count of blocks or sources below 0 or above MaxBlocks, a block position
// below 0, an accuracy outside [0, 1].
func (s Sample) check() error {
	switch {
	case s.Removed < 0 || s.Removed > MaxBlocks:
		return fmt.Errorf("%d blocks removed (want 0..%d)", s.Removed, MaxBlocks)
	case s.Sources < 0 || s.Sources > MaxBlocks:
		return fmt.Errorf("%d sources (want 0..%d)", s.Sources, MaxBlocks)
	case len(s.Plan) > MaxBlocks:
		return fmt.Errorf("a plan of %d blocks (want at most %d)", len(s.Plan), MaxBlocks)
	case !(s.Acc >= 0 && s.Acc <= 1):
		return fmt.Errorf("accuracy %v (want 0..1)", s.Acc)
	}
	for _, k := range s.Plan {
		if k < 0 {
			return fmt.Errorf("block position %d in its plan", k)
		}
	}
	return nil
}

// MergeShards joins the documents of every shard of one sweep into the document
// of the whole sweep, without its Summary, which depends on the grouping
// asked for (see Summarize). A whole sweep alone comes back as it is, to be
// summarised or drawn again. MergeShards refuses documents of different sweeps or
// options, a missing or repeated shard, and a whole sweep among shards.
func MergeShards(docs []*Document, names []string) (*Document, error) {
	if len(docs) == 0 {
		return nil, errors.New("no sweep results to merge")
	}
	first := docs[0]
	if len(docs) == 1 && first.Shard == nil { // a whole sweep alone: summarise it again
		out := *first
		out.Summary, out.MethodSummary = nil, nil
		return &out, nil
	}
	opts, _ := json.Marshal(first.Options)
	var count int
	seen := map[int]string{}
	out := &Document{Sweep: first.Sweep, Options: first.Options, Units: first.Units}
	for i, d := range docs {
		name := names[i]
		if d.Shard == nil {
			return nil, fmt.Errorf("%s is a whole sweep, not a shard: it cannot be merged with others", name)
		}
		if d.Sweep != first.Sweep {
			return nil, fmt.Errorf("%s is a %s sweep, %s a %s sweep", name, d.Sweep, names[0], first.Sweep)
		}
		if o, _ := json.Marshal(d.Options); !bytes.Equal(o, opts) || d.Units != first.Units {
			return nil, fmt.Errorf("%s was run with other options than %s: %s vs %s", name, names[0], o, opts)
		}
		if i == 0 {
			count = d.Shard.Count
		}
		if d.Shard.Count != count {
			return nil, fmt.Errorf("%s is shard %d/%d, %s one of %d shards", name, d.Shard.Index, d.Shard.Count, names[0], count)
		}
		if prev, dup := seen[d.Shard.Index]; dup {
			return nil, fmt.Errorf("%s and %s are both shard %d/%d", prev, name, d.Shard.Index, count)
		}
		seen[d.Shard.Index] = name
		for _, s := range d.Samples {
			if !d.Shard.Has(s.Unit) {
				return nil, fmt.Errorf("%s: sample of unit %d does not belong to shard %d/%d", name, s.Unit, d.Shard.Index, count)
			}
		}
		out.Samples = append(out.Samples, d.Samples...)
		out.Failed = append(out.Failed, d.Failed...)
	}
	var missing []string
	for i := 0; i < count; i++ {
		if _, ok := seen[i]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, count))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("shards %s are missing", strings.Join(missing, ", "))
	}
	out.Sort()
	return out, nil
}
