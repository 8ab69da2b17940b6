package methods

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Params are named numeric parameters: per model (weight, density, ...) or
// for the whole merge (lambda, normalize, t, ...). Booleans are 0 or 1.
type Params map[string]float64

// Tensor is one tensor of every model being merged, with its parameters.
type Tensor struct {
	Name  string      // the tensor's name, e.g. "blocks.3.attn.qkv.weight" (for messages)
	Shape []int       // the tensor's shape; len(data) = product of Shape
	Base  []float32   // the base model's tensor; nil for methods without a base
	Data  [][]float32 // the models' tensors, in the configuration's order
	// Per holds each model's parameters (len(Data) entries); a parameter a
	// model does not set takes the Spec's default.
	Per []Params
	// Global holds the merge-wide parameters.
	Global Params
	// Rand is the seeded generator of random methods (DARE, DELLA).
	Rand *rand.Rand
}

// ParamSpec describes one parameter a method takes.
type ParamSpec struct {
	Name     string
	PerModel bool    // set per model (mergekit's tensor parameters) rather than merge-wide
	Required bool    // no default: a configuration must give it
	Default  float64 // used when not Required and not given
	Min, Max float64 // the allowed closed range
	Bool     bool    // 0 or 1 only
	Doc      string
}

// Problem is what is wrong with v as a value of the parameter, or "": it must
// be a finite number in [Min, Max] (a range open to infinity still takes
// only finite values, which the recipe beside every result can record).
func (p ParamSpec) Problem(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Sprintf("%s = %v is not a finite number", p.Name, v)
	case v < p.Min || v > p.Max:
		return fmt.Sprintf("%s = %v is out of range [%v, %v]", p.Name, v, p.Min, p.Max)
	}
	return ""
}

// Spec is what a configuration must satisfy for a method.
type Spec struct {
	Name      string // mergekit's name, e.g. "ties"
	NeedsBase bool   // a base model is required (task vectors are model - base)
	MinModels int    // fewest models merged (not counting the base)
	MaxModels int    // most models merged; 0 = no limit
	Params    []ParamSpec
	Doc       string
}

// Param finds a parameter of the spec by name.
func (s Spec) Param(name string) (ParamSpec, bool) {
	for _, p := range s.Params {
		if p.Name == name {
			return p, true
		}
	}
	return ParamSpec{}, false
}

// Method merges one tensor.
type Method interface {
	Spec() Spec
	// Merge returns the merged tensor (a new slice of the same length). The
	// caller has checked the tensor against Spec: model count, base present
	// when needed, parameters known and in range, equal lengths.
	Merge(t Tensor) ([]float32, error)
}

var registry = map[string]Method{}

// Register adds a method under its Spec().Name; it panics on a duplicate
// (a programming error, at init).
func Register(m Method) {
	name := m.Spec().Name
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("methods: %s registered twice", name))
	}
	registry[name] = m
}

// Lookup finds a method by its mergekit name.
func Lookup(name string) (Method, bool) {
	m, ok := registry[name]
	return m, ok
}

// Names lists the registered methods in alphabetical order.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Value is the parameter name for one model (model >= 0) or for the merge
// (model < 0): a per-model parameter is the model's own value, else the
// merge-wide one (mergekit lets the top-level parameters set every model's),
// else the spec's default; a merge-wide parameter is the merge's value or
// the default.
func (t Tensor) Value(s Spec, model int, name string) float64 {
	p, _ := s.Param(name)
	if p.PerModel && model >= 0 && model < len(t.Per) {
		if v, ok := t.Per[model][name]; ok {
			return v
		}
	}
	if v, ok := t.Global[name]; ok {
		return v
	}
	return p.Default
}
