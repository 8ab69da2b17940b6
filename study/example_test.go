package study_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/study"
)

// Parse reads a study strictly: a misspelt key is an error, not a default.
func ExampleParse() {
	f, err := study.Parse(study.Quickstart, "quickstart.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d populations, %d merges, %d sweeps, %d analyses\n", f.Name, len(f.Populations), len(f.Merges),
		len(f.Sweeps), len(f.Analyses))

	_, err = study.Parse([]byte("name: typo\npopulation:\n  - {name: p, variant: shuffle, size: 2}\n"), "typo.yaml")
	fmt.Println(err)
	// Output:
	// quickstart: 2 populations, 1 merges, 3 sweeps, 1 analyses
	// study typo.yaml: yaml: unmarshal errors:
	//   line 2: field population not found in type study.File
}

// Check resolves a study against a store and its data sets into the plan
// it will run, without training or writing anything; every problem is named
// in one error. The data here is a folder of a few 8x8 PNG images.
func ExampleCheck() {
	dir, _ := os.MkdirTemp("", "study")
	defer os.RemoveAll(dir)
	writeImages(filepath.Join(dir, "data"))
	store, _ := checkpoint.Open(filepath.Join(dir, "store"))

	text := []byte(`name: small
data: folder:` + filepath.Join(dir, "data") + `
model: {depth: 3, dim: 16, heads: 2, mlp: 24, patch: 4}
populations:
  - {name: base, variant: baseline, size: 2}
  - {name: shuf, variant: shuffle, size: 2}
merges:
  - {name: frank, method: random, from: [shuf], count: 3}
sweeps:
  - {kind: orders, models: [base, shuf]}
  - {kind: depth, models: [shuf], strategies: "last,influence"}
analyses:
  - {models: [shuf]}
`)
	f, err := study.Parse(text, "small.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := study.Check(f, "small.yaml", text, store)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range plan.Populations {
		fmt.Printf("population %s: %d members\n", p.Prefix, p.Size)
	}
	for _, m := range plan.Merges {
		fmt.Printf("merge %s: %s of %v, %d models\n", m.Out, m.Method, m.From, m.Count)
	}
	for _, s := range plan.Sweeps {
		fmt.Println("sweep", s.ID)
	}
	for _, a := range plan.Analyses {
		fmt.Printf("analysis %d of %s\n", a.Entry, a.As)
	}

	broken := []byte("name: broken\ndata: folder:" + filepath.Join(dir, "data") + "\npopulations:\n  - {name: p, variant: sideways, size: 0}\n")
	f, _ = study.Parse(broken, "broken.yaml")
	_, err = study.Check(f, "broken.yaml", broken, store)
	fmt.Println(err)
	// Output:
	// population base: 2 members
	// population shuf: 2 members
	// merge frank: random of [shuf], 3 models
	// sweep 1-orders
	// sweep 2-depth
	// analysis 1 of shuf
	// study broken.yaml: 2 problem(s), nothing was run: population 1 (p): size must be from 1 to 10000, got 0; population 1 (p): unknown variant "sideways" (want one of baseline, shuffle, shuffle-position, shuffle-predict, layerdrop)
}

// writeImages writes DIR/{train,test}/{zero,one}/*.png: 8x8 grey images,
// dark for zero and light for one.
func writeImages(dir string) {
	for split, n := range map[string]int{"train": 6, "test": 3} {
		for c, class := range []string{"zero", "one"} {
			folder := filepath.Join(dir, split, class)
			os.MkdirAll(folder, 0o755)
			for i := range n {
				img := image.NewGray(image.Rect(0, 0, 8, 8))
				for j := range img.Pix {
					img.Pix[j] = uint8(40 + 150*c + (i*j)%50)
				}
				var b bytes.Buffer
				png.Encode(&b, img)
				os.WriteFile(filepath.Join(folder, fmt.Sprintf("%d.png", i)), b.Bytes(), 0o644)
			}
		}
	}
}
