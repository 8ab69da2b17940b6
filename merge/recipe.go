package merge

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Recipe is a splice written down by hand, in the spirit of mergekit's
// slices:
//
//	stem: pop-0            # patch, class and position embeddings (default: the first slice's model)
//	head: pop-0            # final LayerNorm and classifier (default: the stem's model)
//	slices:
//	  - model: pop-0
//	    layer_range: [0, 3]   # blocks 0, 1, 2 (half-open, as in mergekit)
//	  - model: pop-1
//	    blocks: [3, 5, 4]     # or a list: any order, repeats allowed
//
// The plan is the slices' blocks in order. Lines are kept for messages.
type Recipe struct {
	Stem     string
	Head     string
	StemLine int // 0 when defaulted
	HeadLine int
	Slices   []Slice
}

// Slice is one entry of a recipe: blocks of one model, in order; or, with
// a Method, slots that are weight merges of blocks of several models (at
// any depth of each):
//
//   - method: linear
//     sources:
//   - {model: A, blocks: [2]}
//   - {model: B, blocks: [4]}
//     base: {model: P, blocks: [2]}    # methods that need a base
//     parameters: {weight: 0.5}        # numbers, gradients over the slice's slots, filters
//
// Every source gives the same number of blocks; slot k merges the k-th
// block of every source.
type Slice struct {
	Model  string
	Blocks []int
	Line   int
	// A merged slice: the method, its sources and base, its parameters.
	Method  string
	Sources []SliceSource
	Base    *SliceSource
	Params  map[string]*Setting
}

// SliceSource is one model's blocks in a merged slice, with its own
// (per-model) parameters.
type SliceSource struct {
	Model  string
	Blocks []int
	Params map[string]*Setting
	Line   int
}

// maxRecipeBlocks bounds what a recipe may ask for, so a typo like
// layer_range: [0, 1000000000] is an error, not an allocation.
const maxRecipeBlocks = 10000

// ParseRecipe reads a recipe and reports every problem of its form at once
// (YAML syntax, unknown or repeated fields, wrong types, bad ranges, a
// second stem, no blocks). Whether the models exist and fit is Resolve's
// business. With problems of form (but valid YAML) the recipe read so far
// is returned beside the error; after a YAML syntax error it is nil.
func ParseRecipe(data []byte) (*Recipe, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ProblemsError{Problems: []string{"YAML syntax error: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	p := &recipeParser{}
	r := p.parse(&doc)
	if len(p.problems) > 0 {
		// The partial recipe is returned too, so that Resolve can add the
		// problems with models to the problems of form.
		return r, &ProblemsError{Problems: byLine(p.problems)}
	}
	return r, nil
}

// byLine orders problems by the line they name (those without one first),
// keeping the order of problems on one line.
func byLine(ps []string) []string {
	line := func(p string) int {
		var n int
		if _, err := fmt.Sscanf(p, "line %d", &n); err != nil {
			return 0
		}
		return n
	}
	sort.SliceStable(ps, func(i, j int) bool { return line(ps[i]) < line(ps[j]) })
	return ps
}

type recipeParser struct{ problems []string }

func (p *recipeParser) add(n *yaml.Node, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		msg = fmt.Sprintf("line %d: %s", n.Line, msg)
	}
	p.problems = append(p.problems, msg)
}

// fields walks a mapping's key/value pairs in order and calls each for
// every key the first time it stands there; a key given again is passed to
// twice (with the key's first place) and skipped. It returns the keys
// seen, by name.
func (p *recipeParser) fields(n *yaml.Node, twice func(key, first *yaml.Node), each func(key, val *yaml.Node)) map[string]*yaml.Node {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if first, dup := seen[key.Value]; dup {
			twice(key, first)
			continue
		}
		seen[key.Value] = key
		each(key, val)
	}
	return seen
}

// twice reports a key given twice with format, which takes the key and
// the line of its first place.
func (p *recipeParser) twice(format string) func(key, first *yaml.Node) {
	return func(key, first *yaml.Node) { p.add(key, format, key.Value, first.Line) }
}

func (p *recipeParser) parse(doc *yaml.Node) *Recipe {
	r := &Recipe{}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.add(nil, "the recipe is empty: it needs a list of slices (and may name a stem and a head)")
		return r
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		p.add(top, "the recipe must be a mapping with the fields stem, head and slices, got %s", kindName(top))
		return r
	}
	var slices *yaml.Node
	twice := func(key, first *yaml.Node) {
		if key.Value == "stem" || key.Value == "head" {
			p.add(key, "a second %s (the first is on line %d): a model has one %s", key.Value, first.Line, key.Value)
		} else {
			p.add(key, "field %q given twice (the first is on line %d)", key.Value, first.Line)
		}
	}
	p.fields(top, twice, func(key, val *yaml.Node) {
		switch key.Value {
		case "stem":
			r.Stem, r.StemLine = p.modelName(val, "stem"), val.Line
		case "head":
			r.Head, r.HeadLine = p.modelName(val, "head"), val.Line
		case "slices":
			slices = val
		default:
			p.add(key, "unknown field %q (a recipe has stem, head and slices)", key.Value)
		}
	})
	if slices == nil {
		p.add(nil, "no slices: the plan would be empty (add slices: [{model: NAME, layer_range: [0, N]}])")
		return r
	}
	if slices.Kind != yaml.SequenceNode {
		p.add(slices, "slices must be a list, got %s", kindName(slices))
		return r
	}
	if len(slices.Content) == 0 {
		p.add(slices, "slices is empty: the plan would have no blocks")
	}
	total := 0
	for _, item := range slices.Content {
		s := p.slice(item)
		total += s.slots()
		if total > maxRecipeBlocks {
			p.add(item, "the plan has more than %d blocks", maxRecipeBlocks)
			break
		}
		r.Slices = append(r.Slices, s)
	}
	if r.Stem == "" && r.StemLine == 0 && len(r.Slices) > 0 {
		r.Stem = r.Slices[0].Model // mergekit takes the embeddings from the first slice
		if r.Slices[0].Method != "" && len(r.Slices[0].Sources) > 0 {
			r.Stem = r.Slices[0].Sources[0].Model
		}
	}
	if r.Head == "" && r.HeadLine == 0 {
		r.Head = r.Stem
	}
	return r
}

// modelName reads a scalar model name; a list is "two stems" and the like.
func (p *recipeParser) modelName(n *yaml.Node, field string) string {
	switch {
	case n.Kind == yaml.SequenceNode:
		p.add(n, "%s must name one model, got a list of %d: a model has one %s", field, len(n.Content), field)
	case n.Kind != yaml.ScalarNode || n.Tag == "!!null" || strings.TrimSpace(n.Value) == "":
		p.add(n, "%s must be a model name, got %s", field, kindName(n))
	default:
		return n.Value
	}
	return ""
}

func (p *recipeParser) slice(n *yaml.Node) Slice {
	s := Slice{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.add(n, "a slice must be a mapping like {model: NAME, layer_range: [0, 3]}, got %s", kindName(n))
		return s
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k == "method" || k == "sources" {
			return p.mergedSlice(n)
		}
	}
	var at blocksAt
	seen := p.fields(n, p.twice(sliceFieldTwice), func(key, val *yaml.Node) {
		if at.field(p, key, val) {
			return
		}
		switch key.Value {
		case "stem", "head":
			p.add(key, "%s belongs at the top of the recipe, not in a slice", key.Value)
		default:
			p.add(key, "unknown field %q in a slice (a slice has model and blocks or layer_range)", key.Value)
		}
	})
	if _, ok := seen["model"]; !ok {
		p.add(n, "the slice names no model")
	}
	s.Model, s.Blocks = at.model, at.read(p, n, "slice")
	return s
}

// sliceFieldTwice reports a field given twice in a slice of a recipe.
const sliceFieldTwice = "field %q given twice in one slice (the first is on line %d)"

// sourceFieldTwice is the same for a source of a merged slice.
const sourceFieldTwice = "field %q given twice in one source (the first is on line %d)"

// blocksAt gathers the fields that say which blocks of which model a slice
// or a source of a recipe takes: model, and blocks or layer_range.
type blocksAt struct {
	model       string
	blocks, rng *yaml.Node
}

// field takes key if it is one of these fields, and says whether it was.
func (b *blocksAt) field(p *recipeParser, key, val *yaml.Node) bool {
	switch key.Value {
	case "model":
		b.model = p.modelName(val, "model")
	case "blocks":
		b.blocks = val
	case "layer_range":
		b.rng = val
	default:
		return false
	}
	return true
}

// read reads the blocks of the slice or source n (what), given as blocks
// or as layer_range, one of them.
func (b *blocksAt) read(p *recipeParser, n *yaml.Node, what string) []int {
	switch {
	case b.blocks != nil && b.rng != nil:
		p.add(n, "the %s gives both blocks and layer_range: give one", what)
	case b.blocks != nil:
		return p.blockList(b.blocks)
	case b.rng != nil:
		return p.layerRange(b.rng)
	default:
		p.add(n, "the %s gives no blocks: add blocks: [i, j, ...] or layer_range: [start, end]", what)
	}
	return nil
}

// blockList reads one index or a list of indices.
func (p *recipeParser) blockList(n *yaml.Node) []int {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
		if len(items) == 0 {
			p.add(n, "blocks is an empty list")
		}
	}
	if len(items) > maxRecipeBlocks {
		p.add(n, "blocks lists more than %d entries", maxRecipeBlocks)
		return nil
	}
	var out []int
	for _, it := range items {
		if k, ok := p.index(it, "a block index"); ok {
			out = append(out, k)
		}
	}
	return out
}

// layerRange reads [start, end), mergekit's convention.
func (p *recipeParser) layerRange(n *yaml.Node) []int {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
		p.add(n, "layer_range must be two numbers [start, end] (end excluded), got %s", kindName(n))
		return nil
	}
	a, okA := p.index(n.Content[0], "the start of layer_range")
	b, okB := p.index(n.Content[1], "the end of layer_range")
	if !okA || !okB {
		return nil
	}
	switch {
	case b <= a:
		p.add(n, "layer_range [%d, %d] is empty: the end is excluded, so [%d, %d] means block %d alone", a, b, a, a+1, a)
		return nil
	case b-a > maxRecipeBlocks:
		p.add(n, "layer_range [%d, %d] has more than %d blocks", a, b, maxRecipeBlocks)
		return nil
	}
	out := make([]int, 0, b-a)
	for k := a; k < b; k++ {
		out = append(out, k)
	}
	return out
}

func (p *recipeParser) index(n *yaml.Node, what string) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.add(n, "%s must be a non-negative integer, got %s", what, kindName(n))
		return 0, false
	}
	k, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil || k < 0 || k > maxRecipeBlocks {
		p.add(n, "%s must be an integer in 0..%d, got %s", what, maxRecipeBlocks, n.Value)
		return 0, false
	}
	return int(k), true
}

// kindName describes a node for messages: "a list", "a mapping", "\"x\"".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return fmt.Sprintf("a list of %d", len(n.Content))
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	}
	return "nothing"
}

// Models lists the model names the recipe mentions, each once, in order.
func (r *Recipe) Models() []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range append([]string{r.Stem, r.Head}, r.sliceModels()...) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func (r *Recipe) sliceModels() []string {
	var out []string
	for _, s := range r.Slices {
		if s.Method == "" {
			out = append(out, s.Model)
			continue
		}
		for _, src := range s.Sources {
			out = append(out, src.Model)
		}
		if s.Base != nil {
			out = append(out, s.Base.Model)
		}
	}
	return out
}

// Splice is the recipe's plan, without any check against models.
func (r *Recipe) Splice() Splice {
	s := Splice{Stem: r.Stem, Head: r.Head}
	for _, sl := range r.Slices {
		if sl.Method != "" {
			// A merged slot stands in the plan as its first source's
			// block (which it must fit) until MergedSlots replaces it.
			if len(sl.Sources) > 0 {
				for _, k := range sl.Sources[0].Blocks {
					s.Blocks = append(s.Blocks, Ref{Model: sl.Sources[0].Model, Index: k})
				}
			}
			continue
		}
		for _, k := range sl.Blocks {
			s.Blocks = append(s.Blocks, Ref{Model: sl.Model, Index: k})
		}
	}
	return s
}

// Resolve checks the recipe against the models it names — every model
// exists, every index is in range, widths, heads and MLP widths agree with
// the stem, slot embeddings fit — and returns the splice. All problems are
// reported at once, each with its line.
func (r *Recipe) Resolve(p *Pool) (Splice, error) {
	s := r.Splice()
	var lines []int
	for _, sl := range r.Slices {
		for range sl.slots() {
			lines = append(lines, sl.Line)
		}
	}
	where := func(slot int) string { return fmt.Sprintf("line %d (slot %d)", lines[slot], slot) }
	at := func(what string, line int) string {
		if line == 0 {
			return what + " (defaulted)"
		}
		return fmt.Sprintf("line %d: %s", line, what)
	}
	var problems []string
	for _, q := range s.problems(p, where, at("stem", r.StemLine), at("head", r.HeadLine)) {
		// A missing or malformed name is a problem of form, reported by ParseRecipe.
		if !strings.Contains(q, `unknown model ""`) && !(len(s.Blocks) == 0 && strings.Contains(q, "the plan is empty")) {
			problems = append(problems, q)
		}
	}
	problems = append(problems, r.mergedProblems(p)...)
	if len(s.Blocks) == 0 && len(r.Slices) == 0 {
		problems = append(problems, "the plan is empty: a model needs at least one block")
	}
	return s, problemsOrNil("", dedupe(problems))
}

// dedupe drops repeated messages (a slice of ten blocks of an unknown model
// is one problem, not ten).
func dedupe(ps []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range ps {
		key := p
		if i := strings.Index(p, " (slot "); i >= 0 {
			if j := strings.Index(p[i:], ")"); j >= 0 {
				key = p[:i] + p[i+j+1:]
			}
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	return out
}
