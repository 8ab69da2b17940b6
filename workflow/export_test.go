package workflow

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/testenv"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

func storeRandomModel(t *testing.T, s *checkpoint.Store, name string, c vit.Config, seed uint64) *vit.Model {
	t.Helper()
	m, err := vit.NewModel(name, c)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, p := range m.Params() { // make biases and norms non-trivial too
		for i := range p.Data() {
			p.Data()[i] += float32(0.05 * rng.NormFloat64())
		}
	}
	storeModel(t, s, m)
	return m
}

// TestExportLoadsInPyTorch exports a model and a Frankenstein model, loads
// the files in PyTorch by timm's names, and compares the logits.
func TestExportLoadsInPyTorch(t *testing.T) {
	testenv.NeedTorch(t)
	s := openStore(t)
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: 3, Classes: 4,
		Variant: vit.ShufflePosition, PosDim: 4}
	a := storeRandomModel(t, s, "a", c, 1)
	b := storeRandomModel(t, s, "b", c, 2)
	// A Frankenstein model: a's stem and head, blocks b[2], a[0], b[1].
	f, _ := vit.NewModel("f", c)
	f.Stem, f.Head, f.Blocks = a.Stem, a.Head, vit.Plan{b.Blocks[2], a.Blocks[0], b.Blocks[1]}
	sizeBefore, _ := s.Size()
	storeModel(t, s, f)
	sizeAfter, _ := s.Size()
	if grown := sizeAfter - sizeBefore; grown > 4096 {
		t.Errorf("the Frankenstein manifest grew the store by %d bytes: weights were copied", grown)
	}
	images := make([]float32, 2*c.ImageSize())
	for i := range images {
		images[i] = float32(math.Sin(float64(i)))
	}
	for _, name := range []string{"a", "f"} {
		m, _, err := loadModel(s, name)
		if err != nil {
			t.Fatal(err)
		}
		want := vit.NewRunner(m).Logits(images, 2, m.Sequential())
		file := filepath.Join(t.TempDir(), name+".safetensors")
		if err := s.Export(name, file); err != nil {
			t.Fatal(err)
		}
		in, _ := json.Marshal(images)
		cmd := exec.Command(testenv.Python, "testdata/load_export.py", file)
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v: %s", name, err, stderr.String())
		}
		var got struct{ Logits []float64 }
		if err := json.Unmarshal(out, &got); err != nil || len(got.Logits) != len(want) {
			t.Fatalf("%s: %v, %d logits", name, err, len(got.Logits))
		}
		for i := range want {
			if math.Abs(float64(want[i])-got.Logits[i]) > 1e-4 {
				t.Fatalf("%s: logit %d is %v in Go, %v from the exported file in PyTorch", name, i, want[i], got.Logits[i])
			}
		}
	}
}

// storeModel keeps m in the store as a complete model.
func storeModel(t *testing.T, s *checkpoint.Store, m *vit.Model) {
	t.Helper()
	man := &checkpoint.Manifest{FormatVersion: 1, Name: m.Name, CreatedAt: time.Now().UTC(), Status: "complete",
		Data: "mnist", Normalization: json.RawMessage(`{"mean":[0.13],"std":[0.31]}`)}
	err := s.WithSharedLock(func() error {
		if err := modelstore.PutWeights(s, m, man); err != nil {
			return err
		}
		return s.Create(man)
	})
	if err != nil {
		t.Fatal(err)
	}
}
