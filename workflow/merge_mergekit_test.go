package workflow

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/testenv"
	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

func blobCount(t *testing.T, dir string) int {
	t.Helper()
	es, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	return len(es)
}

// TestMergekitDocumentationExample runs mergekit's TIES example (density
// and weight gradients, a filtered weight, normalize, int8_mask, dtype
// float16), stored in examples/mergekit/ties.yaml with only the model names
// changed, on a small population; then the merged model is a model like any
// other: store show prints the configuration, it evaluates in any order,
// prunes, splices and exports. A bad configuration names every problem
// and stores nothing.
func TestMergekitDocumentationExample(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	tinyPopulation(t, s, dir, "pop", 3, vit.Shuffle, false)

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(`merge_method: ties
base_model: pop-parent
models:
  - model: pop-0
    parameters: {density: [1, 1.5], weight: 1}
  - model: pop-9
parameters: {lamda: 1}
`), 0o644)
	before := blobCount(t, s.Dir)
	_, err := Merge(s, MergeRequest{Out: "bad", Method: "recipe:" + bad})
	if err == nil {
		t.Fatal("a bad mergekit config ran")
	}
	for _, want := range []string{"mergekit config " + bad, "line 5: density = 1.5 is out of range", `line 6: unknown model "pop-9"`, `line 7: unknown parameter "lamda"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if s.Exists("bad") || blobCount(t, s.Dir) != before {
		t.Error("a bad config stored something")
	}

	var log strings.Builder
	out, err := Merge(s, MergeRequest{Out: "pop-ties", Method: "recipe:../examples/mergekit/ties.yaml", Eval: true, Orders: 2, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if out.Method != "ties" || len(out.Sources) != 3 || !out.Merged[0].Evaluated {
		t.Fatalf("outcome %+v", out)
	}
	t.Logf("mergekit TIES example: test %.3f sequential, %.3f random:2 (sources %.3f %.3f %.3f)", out.Merged[0].TestSequential,
		out.Merged[0].TestRandom, out.Sources[0].TestSequential, out.Sources[1].TestSequential, out.Sources[2].TestSequential)
	if !strings.Contains(log.String(), "warning") || !strings.Contains(log.String(), "float32") {
		t.Errorf("no float16 warning: %q", log.String())
	}
	st, err := modelstore.Load(s, "pop-ties")
	if err != nil {
		t.Fatal(err)
	}
	rec := st.Records.Recipe.Merge
	if rec == nil || rec.Method != "ties" || rec.Base != "pop-parent" || !strings.Contains(rec.RecipeText, "density: [1, 0.7, 0.1]") {
		t.Fatalf("record %+v", rec)
	}
	var desc strings.Builder
	if err := rec.Describe().Render(&desc); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ties", "pop-parent", "density: [1, 0.7, 0.1]", "ties.yaml"} {
		if !strings.Contains(desc.String(), want) {
			t.Errorf("store show does not say %q:\n%s", want, desc.String())
		}
	}
	// A model like any other.
	for _, order := range []string{"reversed", "2,0,1", "random:2"} {
		if _, err := Eval(s, EvalRequest{Name: "pop-ties", Order: order, Split: "test"}); err != nil {
			t.Errorf("eval --order %s: %v", order, err)
		}
	}
	if _, err := Prune(s, PruneRequest{Name: "pop-ties", Out: "pop-ties-p", Remove: 1, Strategy: "last"}); err != nil {
		t.Errorf("prune: %v", err)
	}
	mix := filepath.Join(t.TempDir(), "mix.yaml")
	os.WriteFile(mix, []byte("stem: pop-ties\nslices:\n  - model: pop-ties\n    blocks: [2, 0]\n  - model: pop-1\n    blocks: [1]\n"), 0o644)
	if _, err := Merge(s, MergeRequest{Out: "pop-mix", Method: "recipe:" + mix}); err != nil {
		t.Errorf("splice with the merged model: %v", err)
	}
	if err := s.Export("pop-ties", filepath.Join(t.TempDir(), "t.safetensors")); err != nil {
		t.Errorf("export: %v", err)
	}

	// Beyond mergekit: a slot that is a weight merge of blocks of other
	// depths of other models (block 2 of pop-0 with block 0 of pop-1).
	slot := filepath.Join(t.TempDir(), "slot.yaml")
	os.WriteFile(slot, []byte(`stem: pop-0
slices:
  - model: pop-0
    blocks: [0, 1]
  - method: linear
    sources:
      - {model: pop-0, blocks: [2]}
      - {model: pop-1, blocks: [0]}
    parameters: {weight: 0.5}
`), 0o644)
	if _, err := Merge(s, MergeRequest{Out: "pop-slot", Method: "recipe:" + slot}); err != nil {
		t.Fatal(err)
	}
	got, man, err := loadModel(s, "pop-slot")
	if err != nil {
		t.Fatal(err)
	}
	p0, _, _ := loadModel(s, "pop-0")
	p1, _, _ := loadModel(s, "pop-1")
	if len(got.Blocks) != 3 || man.Blocks[2].Source != "pop-slot" || man.Blocks[0].Blob != p0Blob(t, s, 0) {
		t.Fatalf("plan %+v", man.Blocks)
	}
	gp, a, b := got.Blocks[2].Params(), p0.Blocks[2].Params(), p1.Blocks[0].Params()
	for j := range gp {
		for i, v := range gp[j].Data() {
			want := 0.5*a[j].Data()[i] + 0.5*b[j].Data()[i]
			if d := v - want; d > 1e-6 || d < -1e-6 {
				t.Fatalf("%s[%d] = %v, want the average %v", gp[j].Name, i, v, want)
			}
		}
	}
	if _, err := Eval(s, EvalRequest{Name: "pop-slot", Order: "reversed", Split: "test"}); err != nil {
		t.Errorf("eval of a merged-slot model: %v", err)
	}
	os.WriteFile(slot, []byte(`slices:
  - method: slerp
    sources:
      - {model: pop-0, blocks: [2, 7]}
      - {model: pop-1, blocks: [0]}
`), 0o644)
	_, err = Merge(s, MergeRequest{Out: "pop-slot2", Method: "recipe:" + slot})
	for _, want := range []string{"slerp needs a base", "pop-1 gives 1 blocks, pop-0 gives 2", "pop-0 has no block 7"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}

func p0Blob(t *testing.T, s interface {
	Get(string) (*checkpoint.Manifest, error)
}, k int) string {
	t.Helper()
	man, err := s.Get("pop-0")
	if err != nil {
		t.Fatal(err)
	}
	return man.Blocks[k].Blob
}

// TestMergeCheckPython recomputes whole merged models from the exported
// sources with an independent numpy script (workflow/testdata/merge_check.py)
// for linear, task_arithmetic, ties and slerp, and compares every tensor.
func TestMergeCheckPython(t *testing.T) {
	if out, err := exec.Command(testenv.Python, "-c", "import numpy").CombinedOutput(); err != nil {
		// python3-torch brings numpy; the CI installs it.
		testenv.Need(t, testenv.Torch, err)
		_ = out
	}
	s := openStore(t)
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: 3, Classes: 4, Variant: vit.Shuffle}
	storeRandomModel(t, s, "base", c, 9)
	for i, n := range []string{"a", "b", "c"} {
		storeRandomModel(t, s, n, c, uint64(i+1))
	}
	tmp := t.TempDir()
	export := func(name string) string {
		p := filepath.Join(tmp, name+".safetensors")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if err := s.Export(name, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		out, method string
		from        []string
		weights     []float64
		params      methods.Params
		spec        map[string]any
	}{
		{"m-linear", "linear", []string{"a", "b", "c"}, []float64{0.2, 0.3, 0.5}, nil, map[string]any{"normalize": 1}},
		{"m-ta", "task_arithmetic", []string{"a", "b", "c"}, []float64{1, 0.5, 0.25}, methods.Params{"lambda": 0.7}, map[string]any{"lambda": 0.7}},
		{"m-ties", "ties", []string{"a", "b", "c"}, []float64{0.3, 0.3, 0.4}, methods.Params{"density": 0.4, "lambda": 1.2}, map[string]any{"density": 0.4, "lambda": 1.2, "normalize": 1}},
		{"m-slerp", "slerp", []string{"a"}, nil, methods.Params{"t": 0.3}, map[string]any{"t": 0.3}},
	}
	for _, tc := range cases {
		req := MergeRequest{Out: tc.out, From: tc.from, Method: tc.method, Weights: tc.weights, Params: tc.params}
		if tc.method != "linear" {
			req.Base = "base"
		}
		if _, err := Merge(s, req); err != nil {
			t.Fatalf("%s: %v", tc.method, err)
		}
		spec := map[string]any{"method": tc.method, "merged": export(tc.out), "weights": tc.weights}
		var models []string
		for _, n := range tc.from {
			models = append(models, export(n))
		}
		spec["models"] = models
		if req.Base != "" {
			spec["base"] = export("base")
		}
		for k, v := range tc.spec {
			spec[k] = v
		}
		raw, _ := json.Marshal(spec)
		specFile := filepath.Join(tmp, tc.out+".json")
		os.WriteFile(specFile, raw, 0o644)
		out, err := exec.Command(testenv.Python, "testdata/merge_check.py", specFile).CombinedOutput()
		if err != nil {
			t.Errorf("%s: the numpy check fails: %v\n%s", tc.method, err, out)
			continue
		}
		t.Logf("%s", strings.TrimSpace(string(out)))
		// The check can fail: the same merge against other parameters.
		if tc.method == "ties" {
			spec["density"] = 0.5
			raw, _ := json.Marshal(spec)
			os.WriteFile(specFile, raw, 0o644)
			if out, err := exec.Command(testenv.Python, "testdata/merge_check.py", specFile).CombinedOutput(); err == nil {
				t.Errorf("the numpy check passes ties with another density:\n%s", out)
			}
		}
	}
}
