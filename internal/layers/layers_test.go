package layers

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/frankenvit/frankenvit/"

// Layer of every package: a package may import only packages of a lower
// layer. A new package must be placed here, on purpose.
var Layer = map[string]int{
	// foundations: no frankenvit imports but their own layer's leaves
	"internal/durable": 0, "internal/gopanic": 0, "internal/testenv": 0, "internal/procstat": 0, "stats": 0, "table": 0, "dataset": 0,
	"internal/layers": 0,
	// kernels, weight-merge formulas, file formats and drawing
	// (vit/kernels/_asmgen writes the AVX-512 assembly; the go tool skips it)
	"vit/kernels": 1, "vit/kernels/_asmgen": 1, "internal/cpuprofile": 1, "checkpoint": 1, "plot": 1, "report": 1, "internal/synth": 1, "merge/methods": 1,
	// the model
	"vit": 2,
	// training and evaluation; splices, recipes and weight merges
	"trainer": 3, "merge": 3, "internal/vittest": 3,
	// what is measured or done to a trained model
	"prune": 4, "swarm": 4, "analysis": 4, "speed": 4, "datamerge": 4,
	// sweeps; models in the store
	"sweep": 5, "modelstore": 5,
	// the use cases
	"workflow": 6,
	// studies
	"study": 7,
	// the command line
	"cmd/frankenvit": 8,
}

// TestImportsGoDownward reads every non-test Go file's imports and checks
// each frankenvit import against the layers.
func TestImportsGoDownward(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		seen[pkg] = true
		from, ok := Layer[pkg]
		if !ok {
			t.Errorf("package %s has no layer: place it in layers_test.go", pkg)
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			to := strings.TrimPrefix(p, module)
			if l, ok := Layer[to]; !ok {
				t.Errorf("%s imports %s, which has no layer", pkg, to)
			} else if l >= from && to != pkg {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports go downward only", filepath.ToSlash(filepath.Join(pkg, filepath.Base(path))), from, to, l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var stale []string
	for pkg := range Layer {
		if !seen[pkg] && pkg != "internal/layers" {
			stale = append(stale, pkg)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("layers name packages that do not exist: %v", stale)
	}
	if len(seen) < 15 {
		t.Fatalf("found only %d packages under %s", len(seen), root)
	}
}
