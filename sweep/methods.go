package sweep

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/datamerge"
	"github.com/frankenvit/frankenvit/merge/methods"
)

// MergeMethods is the sweep kind of `bench merge-methods`: every weight
// merge of merge/methods, with its defaults and over a small grid of its main
// parameter, measured on every task of a population.
const MergeMethods = "merge-methods"

// MethodConfig is one merge the merge-methods sweep measures: a method with
// its defaults (Param empty) or with one parameter set to Value.
type MethodConfig struct {
	Method string  `json:"method"`
	Param  string  `json:"param,omitempty"`
	Value  float64 `json:"value,omitempty"`
}

// Label names the configuration in tables: "ties", "ties density=0.5".
func (c MethodConfig) Label() string {
	if c.Param == "" {
		return c.Method
	}
	return fmt.Sprintf("%s %s=%s", c.Method, c.Param, strconv.FormatFloat(c.Value, 'g', -1, 64))
}

// methodGrid is each method's main parameter and the values the sweep tries
// beside the defaults. Methods that must be given the parameter (slerp's t)
// are run at the grid values only. The values are the ones merging papers
// report: FusionBench's task arithmetic uses lambda 0.3, TIES and DARE
// keep 20% or more of each task vector.
var methodGrid = map[string]struct {
	param  string
	values []float64
}{
	"task_arithmetic":  {"lambda", []float64{0.1, 0.3, 0.5, 0.7}},
	"ties":             {"density", []float64{0.2, 0.5, 0.8}},
	"dare_linear":      {"density", []float64{0.2, 0.5, 0.8}},
	"dare_ties":        {"density", []float64{0.2, 0.5, 0.8}},
	"breadcrumbs":      {"density", []float64{0.2, 0.5, 0.8}},
	"breadcrumbs_ties": {"density", []float64{0.2, 0.5, 0.8}},
	"della":            {"density", []float64{0.2, 0.5, 0.8}},
	"della_linear":     {"density", []float64{0.2, 0.5, 0.8}},
	"sce":              {"select_topk", []float64{0.1, 0.5}},
	"slerp":            {"t", []float64{0.25, 0.5, 0.75}},
	"nearswap":         {"t", []float64{0.0001, 0.001, 0.01}},
	// AdaMerging's coefficients move about lr per step from 0.3: the
	// paper's 1e-3 over 100 steps keeps them within 0.1 of it.
	"adamerging":        {"lr", []float64{0.01}},
	"adamerging-blocks": {"lr", []float64{0.01}},
}

// seededMethods draw random masks: the sweep runs them over every seed.
var seededMethods = map[string]bool{"dare_linear": true, "dare_ties": true, "della": true, "della_linear": true}

// Seeded reports whether the method draws random numbers.
func (c MethodConfig) Seeded() bool { return seededMethods[c.Method] }

// PairMethod reports whether the method merges exactly two models given as
// a base and one other (slerp, nearswap) or two models (nuslerp): the sweep
// gives it a population's first two members.
func PairMethod(method string) bool {
	return method == "slerp" || method == "nearswap" || method == "nuslerp"
}

// MethodConfigs lists the configurations of the named methods ("all" for
// every method of merge/methods), in the order given: the defaults first
// (unless the grid parameter is required), then the grid in increasing order.
func MethodConfigs(names []string) ([]MethodConfig, error) {
	if len(names) == 1 && names[0] == "all" {
		names = append(methods.Names(), datamerge.Methods...)
	}
	var out []MethodConfig
	var unknown []string
	seen := map[string]bool{}
	for _, name := range names {
		m, ok := methods.Lookup(name)
		_, learned := datamerge.Reads(name)
		if !ok && !learned {
			unknown = append(unknown, strconv.Quote(name))
			continue
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		g, hasGrid := methodGrid[name]
		required := false
		if hasGrid && ok {
			p, _ := m.Spec().Param(g.param)
			required = p.Required
		}
		if !required {
			out = append(out, MethodConfig{Method: name})
		}
		if hasGrid {
			vs := slices.Clone(g.values)
			slices.Sort(vs)
			for _, v := range vs {
				out = append(out, MethodConfig{Method: name, Param: g.param, Value: v})
			}
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown merge method(s) %s (known: %s, %s)", strings.Join(unknown, ", "), strings.Join(methods.Names(), ", "), strings.Join(datamerge.Methods, ", "))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no merge methods to measure")
	}
	return out, nil
}
