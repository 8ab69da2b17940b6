package merge

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/merge/methods"
	"gopkg.in/yaml.v3"
)

// MergekitConfig is a mergekit merge configuration (its YAML, as mergekit's
// documentation writes it) read by frankenvit. A block is mergekit's layer.
//
//	merge_method: ties
//	base_model: pop-parent
//	models:
//	  - model: pop-0
//	    parameters: {density: [1, 0.7, 0.1], weight: 1.0}   # a gradient over the depth
//	  - model: pop-1
//	    parameters:
//	      weight:
//	        - filter: mlp      # the first entry whose filter matches the tensor
//	          value: 0.5
//	        - value: 0         # no filter: every other tensor
//	parameters: {normalize: true}
//	dtype: float32
//
// or slices: [{sources: [{model, layer_range: [start, end], parameters}], parameters}]
// instead of models. Lines are kept for messages.
type MergekitConfig struct {
	Method     string
	MethodLine int
	Base       string
	BaseLine   int
	Models     []MergekitModel // the models: form (nil with slices)
	Slices     []MergekitSlice // the slices: form (nil with models)
	Params     map[string]*Setting
	DType      string
	// Warnings are the keys accepted but without effect here (dtype
	// float16/bfloat16, tokenizer settings, ...), one line each.
	Warnings []string
}

// MergekitModel is one entry of models:.
type MergekitModel struct {
	Model  string
	Line   int
	Params map[string]*Setting
}

// MergekitSlice is one entry of slices:.
type MergekitSlice struct {
	Sources []MergekitSource
	Params  map[string]*Setting
	Line    int
}

// MergekitSource is one source of a slice: blocks Start..End-1 of Model.
type MergekitSource struct {
	Model      string
	Start, End int
	Params     map[string]*Setting
	Line       int
}

// Setting is a parameter's value as mergekit writes it: a number, a list
// of numbers interpolated linearly across the blocks of a slice (mergekit's
// gradient), or a list of {filter, value} entries, the first whose filter
// matches the tensor giving the value (no filter: every tensor).
type Setting struct {
	Line   int
	Values []float64 // a number (one value) or a gradient
	Conds  []Cond    // filtered values; nil for a plain value
}

// Cond is one {filter, value} entry of a setting.
type Cond struct {
	Filter string // "" or "*": every tensor
	Values []float64
	Line   int
}

// gradient evaluates a number or a gradient at t in [0, 1] as mergekit
// does: the list's positions are spread evenly over 0..1 and t falls
// between two of them.
func gradient(vs []float64, t float64) float64 {
	if len(vs) == 1 {
		return vs[0]
	}
	scaled := t * float64(len(vs)-1)
	i0 := int(scaled)
	i1 := min(len(vs)-1, i0+1)
	frac := scaled - float64(i0)
	return (1-frac)*vs[i0] + frac*vs[i1]
}

// Eval is the setting's value for one tensor at depth fraction t, and
// false when it has filters and none matches the tensor.
func (s *Setting) Eval(ref TensorRef, t float64) (float64, bool) {
	if s.Conds == nil {
		return gradient(s.Values, t), true
	}
	for _, c := range s.Conds {
		if FilterMatches(c.Filter, ref) {
			return gradient(c.Values, t), true
		}
	}
	return 0, false
}

// FilterMatches says whether a mergekit filter selects a tensor: "" and "*"
// select every tensor; "attn" (mergekit's "self_attn" too) a block's
// attention, "mlp" its MLP, "stem" the patch, class and position
// embeddings, "head" the final LayerNorm and the classifier; any other text
// is matched, as mergekit does, as a part of the tensor's timm name ("norm":
// every LayerNorm, "qkv", "fc1", "blocks.3.", ...).
func FilterMatches(filter string, ref TensorRef) bool {
	switch filter {
	case "", "*":
		return true
	case "attn", "self_attn":
		return ref.SubLayer() == "attn"
	case "mlp":
		return ref.SubLayer() == "mlp"
	case "stem":
		return ref.Part == "stem"
	case "head":
		return ref.Part == "head"
	}
	return strings.Contains(ref.Name, filter)
}

// IsMergekit says whether a YAML document is a mergekit configuration (it
// has merge_method at the top) rather than a frankenvit recipe.
func IsMergekit(data []byte) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return false
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "merge_method" {
			return true
		}
	}
	return false
}

// mergekitIgnored are mergekit's keys for language models, accepted with a
// warning.
var mergekitIgnored = map[string]string{
	"tokenizer_source": "a tokenizer setting",
	"tokenizer":        "a tokenizer setting",
	"chat_template":    "a chat template",
}

// ParseMergekit reads a mergekit configuration and reports every problem of
// its form at once, each with its line: YAML syntax, unknown keys, an
// unknown method, parameters the method does not take or given at the wrong
// level, values out of range, malformed ranges, models and slices both or
// neither. Whether the models exist and fit is Plan's business. With
// problems of form (but valid YAML) the config read so far is returned
// beside the error.
func ParseMergekit(data []byte) (*MergekitConfig, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ProblemsError{Problems: []string{"YAML syntax error: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	p := &recipeParser{}
	c := &MergekitConfig{}
	if doc.Kind == 0 || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		p.add(nil, "a mergekit configuration must be a mapping with merge_method and models or slices")
		return c, &ProblemsError{Problems: p.problems}
	}
	top := doc.Content[0]
	var params, models, slicesNode *yaml.Node
	seen := p.fields(top, p.twice(keyTwice), func(key, val *yaml.Node) {
		switch key.Value {
		case "merge_method":
			c.Method, c.MethodLine = p.modelName(val, "merge_method"), val.Line
		case "base_model":
			c.Base, c.BaseLine = p.modelName(val, "base_model"), val.Line
		case "models":
			models = val
		case "slices":
			slicesNode = val
		case "parameters":
			params = val
		case "dtype", "out_dtype":
			c.DType = p.dtype(c, key, val)
		case "modules":
			p.add(key, "modules is mergekit's syntax for models of several modules; a ViT has one: use models or slices")
		default:
			if what, ok := mergekitIgnored[key.Value]; ok {
				c.Warnings = append(c.Warnings, fmt.Sprintf("line %d: %s is %s for language models: ignored", key.Line, key.Value, what))
				return
			}
			p.add(key, "unknown key %q (mergekit's keys: merge_method, base_model, models, slices, parameters, dtype, tokenizer_source, tokenizer, chat_template)", key.Value)
		}
	})
	var spec methods.Spec
	known := false
	if _, ok := seen["merge_method"]; !ok {
		p.add(nil, "no merge_method (one of %s)", strings.Join(methods.Names(), ", "))
	} else if c.Method != "" {
		m, ok := methods.Lookup(c.Method)
		ds, data := dataMethods[c.Method]
		switch {
		case ok:
			spec, known = m.Spec(), true
		case data:
			spec, known = ds, true
		default:
			p.add(&yaml.Node{Line: c.MethodLine}, "unknown merge_method %q (known: %s; passthrough is a frankenvit recipe)", c.Method, strings.Join(methods.Names(), ", "))
		}
	}
	pp := paramParser{p: p, spec: spec, known: known}
	c.Params = pp.params(params, "parameters", false)
	switch {
	case models != nil && slicesNode != nil:
		p.add(slicesNode, "give models or slices, not both (models is the short form of one slice of every block)")
	case models == nil && slicesNode == nil:
		p.add(nil, "no models and no slices: say what to merge")
	}
	if models != nil {
		if models.Kind != yaml.SequenceNode || len(models.Content) == 0 {
			p.add(models, "models must be a non-empty list of {model: NAME, parameters: {...}}, got %s", kindName(models))
		} else {
			for _, item := range models.Content {
				c.Models = append(c.Models, p.mergekitModel(item, pp))
			}
		}
	}
	if slicesNode != nil {
		if slicesNode.Kind != yaml.SequenceNode || len(slicesNode.Content) == 0 {
			p.add(slicesNode, "slices must be a non-empty list of {sources: [...]}, got %s", kindName(slicesNode))
		} else {
			for _, item := range slicesNode.Content {
				c.Slices = append(c.Slices, p.mergekitSlice(item, pp))
			}
		}
	}
	if len(p.problems) > 0 {
		return c, &ProblemsError{Problems: byLine(p.problems)}
	}
	return c, nil
}

// keyTwice reports a key given twice in a mergekit configuration.
const keyTwice = "key %q given twice (the first is on line %d)"

func (p *recipeParser) dtype(c *MergekitConfig, key, val *yaml.Node) string {
	if val.Kind != yaml.ScalarNode {
		p.add(val, "%s must be a type name, got %s", key.Value, kindName(val))
		return ""
	}
	switch val.Value {
	case "float32", "fp32":
	case "float16", "fp16", "bfloat16", "bf16":
		c.Warnings = append(c.Warnings, fmt.Sprintf("line %d: %s %s: frankenvit merges and stores in float32", val.Line, key.Value, val.Value))
	default:
		p.add(val, "%s %q is not a type frankenvit reads (float32; float16 and bfloat16 are merged in float32)", key.Value, val.Value)
	}
	return val.Value
}

func (p *recipeParser) mergekitModel(n *yaml.Node, pp paramParser) MergekitModel {
	m := MergekitModel{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.add(n, "an entry of models must be a mapping like {model: NAME, parameters: {...}}, got %s", kindName(n))
		return m
	}
	seen := p.fields(n, p.twice(keyTwice), func(key, val *yaml.Node) {
		switch key.Value {
		case "model":
			m.Model = p.modelName(val, "model")
		case "parameters":
			m.Params = pp.params(val, "parameters", true)
		default:
			p.add(key, "unknown key %q in an entry of models (it has model and parameters)", key.Value)
		}
	})
	if _, ok := seen["model"]; !ok {
		p.add(n, "the entry names no model")
	}
	return m
}

func (p *recipeParser) mergekitSlice(n *yaml.Node, pp paramParser) MergekitSlice {
	s := MergekitSlice{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.add(n, "a slice must be a mapping like {sources: [{model: NAME, layer_range: [0, 6]}]}, got %s", kindName(n))
		return s
	}
	var sources *yaml.Node
	p.fields(n, p.twice(keyTwice), func(key, val *yaml.Node) {
		switch key.Value {
		case "sources":
			sources = val
		case "parameters":
			s.Params = pp.params(val, "parameters", false)
		case "base_model", "residual_weight":
			p.add(key, "%s in a slice is not supported: give base_model at the top", key.Value)
		default:
			p.add(key, "unknown key %q in a slice (it has sources and parameters)", key.Value)
		}
	})
	if sources == nil || sources.Kind != yaml.SequenceNode || len(sources.Content) == 0 {
		where := n
		if sources != nil {
			where = sources
		}
		p.add(where, "the slice needs sources: a non-empty list of {model: NAME, layer_range: [start, end]}")
		return s
	}
	for _, it := range sources.Content {
		src := MergekitSource{Line: it.Line, Start: -1}
		if it.Kind != yaml.MappingNode {
			p.add(it, "a source must be a mapping like {model: NAME, layer_range: [0, 6]}, got %s", kindName(it))
			continue
		}
		seenS := p.fields(it, p.twice(keyTwice), func(key, val *yaml.Node) {
			switch key.Value {
			case "model":
				src.Model = p.modelName(val, "model")
			case "layer_range":
				if r := p.layerRange(val); len(r) > 0 {
					src.Start, src.End = r[0], r[len(r)-1]+1
				}
			case "parameters":
				src.Params = pp.params(val, "parameters", true)
			default:
				p.add(key, "unknown key %q in a source (it has model, layer_range and parameters)", key.Value)
			}
		})
		if _, ok := seenS["model"]; !ok {
			p.add(it, "the source names no model")
		}
		if _, ok := seenS["layer_range"]; !ok {
			p.add(it, "the source gives no layer_range: [start, end]")
		}
		s.Sources = append(s.Sources, src)
	}
	return s
}

// paramParser reads parameters: mappings and checks them against a method.
type paramParser struct {
	p     *recipeParser
	spec  methods.Spec
	known bool // spec is the method's (an unknown method checks nothing more)
}

// params reads a parameters: mapping; perModel is true under a model or a
// source, where only the method's per-model parameters belong.
func (pp paramParser) params(n *yaml.Node, field string, perModel bool) map[string]*Setting {
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	p := pp.p
	if n.Kind != yaml.MappingNode {
		p.add(n, "%s must be a mapping of names to values, got %s", field, kindName(n))
		return nil
	}
	out := map[string]*Setting{}
	names := make([]string, len(pp.spec.Params))
	for i, ps := range pp.spec.Params {
		names[i] = ps.Name
	}
	takes := "takes no parameters"
	if len(names) > 0 {
		takes = "takes " + strings.Join(names, ", ")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if _, dup := out[key.Value]; dup {
			p.add(key, "parameter %q given twice", key.Value)
			continue
		}
		s := pp.setting(val, key.Value)
		if s == nil {
			continue
		}
		out[key.Value] = s
		if !pp.known {
			continue
		}
		ps, ok := pp.spec.Param(key.Value)
		switch {
		case !ok:
			p.add(key, "unknown parameter %q: %s %s", key.Value, pp.spec.Name, takes)
			continue
		case perModel && !ps.PerModel:
			p.add(key, "%s is a merge-wide parameter of %s: give it under the top-level parameters, not a model's", key.Value, pp.spec.Name)
			continue
		}
		pp.checkRange(ps, s)
	}
	return out
}

// checkRange checks every number of a setting: the interpolated values lie
// between two of them, so they are in range too.
func (pp paramParser) checkRange(ps methods.ParamSpec, s *Setting) {
	check := func(line int, vs []float64) {
		for _, v := range vs {
			problem := ps.Problem(v)
			switch {
			case ps.Bool && v != 0 && v != 1:
				pp.p.add(&yaml.Node{Line: line}, "%s is a switch, true or false (1 or 0), got %v", ps.Name, v)
			case problem != "":
				pp.p.add(&yaml.Node{Line: line}, "%s", problem)
			default:
				continue
			}
			return
		}
		if ps.Bool && len(vs) > 1 && slices.Min(vs) != slices.Max(vs) {
			pp.p.add(&yaml.Node{Line: line}, "%s is a switch: a gradient %v would give values between 0 and 1", ps.Name, vs)
		}
	}
	if s.Conds == nil {
		check(s.Line, s.Values)
	}
	for _, c := range s.Conds {
		check(c.Line, c.Values)
	}
}

// setting reads a number, a gradient, a {filter, value} mapping or a list
// of them.
func (pp paramParser) setting(n *yaml.Node, name string) *Setting {
	p := pp.p
	switch n.Kind {
	case yaml.ScalarNode:
		v, ok := p.number(n, name)
		if !ok {
			return nil
		}
		return &Setting{Line: n.Line, Values: []float64{v}}
	case yaml.MappingNode:
		c, ok := pp.cond(n, name)
		if !ok {
			return nil
		}
		return &Setting{Line: n.Line, Conds: []Cond{c}}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.add(n, "%s is an empty list", name)
			return nil
		}
		if len(n.Content) > maxRecipeBlocks {
			p.add(n, "%s lists more than %d values", name, maxRecipeBlocks)
			return nil
		}
		s := &Setting{Line: n.Line}
		if n.Content[0].Kind == yaml.MappingNode {
			s.Conds = []Cond{}
			for _, it := range n.Content {
				if it.Kind != yaml.MappingNode {
					p.add(it, "%s mixes {filter, value} entries with %s: give a list of one kind", name, kindName(it))
					return nil
				}
				c, ok := pp.cond(it, name)
				if !ok {
					return nil
				}
				s.Conds = append(s.Conds, c)
			}
			return s
		}
		vs, ok := p.numbers(n, name)
		if !ok {
			return nil
		}
		s.Values = vs
		return s
	}
	p.add(n, "%s must be a number, a list of numbers or a list of {filter, value}, got %s", name, kindName(n))
	return nil
}

func (pp paramParser) cond(n *yaml.Node, name string) (Cond, bool) {
	p := pp.p
	c := Cond{Line: n.Line}
	var value *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		switch key.Value {
		case "filter":
			if val.Kind != yaml.ScalarNode || val.Tag == "!!null" {
				p.add(val, "%s: a filter must be a text like attn, mlp, norm, stem or head, got %s", name, kindName(val))
				return c, false
			}
			c.Filter = val.Value
		case "value":
			value = val
		default:
			p.add(key, "%s: unknown key %q in a filtered value (it has filter and value)", name, key.Value)
			return c, false
		}
	}
	if value == nil {
		p.add(n, "%s: the entry gives no value", name)
		return c, false
	}
	switch value.Kind {
	case yaml.ScalarNode:
		v, ok := p.number(value, name)
		if !ok {
			return c, false
		}
		c.Values = []float64{v}
	case yaml.SequenceNode:
		if len(value.Content) == 0 || len(value.Content) > maxRecipeBlocks {
			p.add(value, "%s: a gradient needs 1..%d numbers, got %d", name, maxRecipeBlocks, len(value.Content))
			return c, false
		}
		vs, ok := p.numbers(value, name)
		if !ok {
			return c, false
		}
		c.Values = vs
	default:
		p.add(value, "%s: a filtered value must be a number or a list of numbers, got %s", name, kindName(value))
		return c, false
	}
	return c, true
}

func (p *recipeParser) numbers(n *yaml.Node, name string) ([]float64, bool) {
	out := make([]float64, 0, len(n.Content))
	for _, it := range n.Content {
		v, ok := p.number(it, name)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// number reads a YAML number or boolean (true = 1, false = 0).
func (p *recipeParser) number(n *yaml.Node, name string) (float64, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.Tag {
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				if b {
					return 1, true
				}
				return 0, true
			}
		case "!!int", "!!float":
			var v float64
			if err := n.Decode(&v); err == nil && !math.IsNaN(v) {
				return v, true
			}
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !math.IsNaN(f) {
				return f, true
			}
		}
	}
	p.add(n, "%s must be a number or true/false, got %s", name, kindName(n))
	return 0, false
}

// ParamsFor evaluates parameters: mappings at one tensor, as mergekit reads
// them: each level is asked in order (a source's own, the slice's, the
// top level's) and the first whose setting gives a value wins.
func paramsAt(ref TensorRef, t float64, levels ...map[string]*Setting) methods.Params {
	out := methods.Params{}
	for _, lv := range levels {
		for _, k := range slices.Sorted(maps.Keys(lv)) {
			if _, done := out[k]; done {
				continue
			}
			if v, ok := lv[k].Eval(ref, t); ok {
				out[k] = v
			}
		}
	}
	return out
}

// dataMethods are the merges that look at data (package datamerge, which
// merge cannot import): a mergekit configuration may name them, with their
// merge-wide parameters; the caller runs them.
var dataMethods = map[string]methods.Spec{}

// RegisterDataMethod lets mergekit configurations name a data-driven merge.
func RegisterDataMethod(spec methods.Spec) { dataMethods[spec.Name] = spec }

// IsDataMethod reports whether name is a registered data-driven merge.
func IsDataMethod(name string) bool { _, ok := dataMethods[name]; return ok }
