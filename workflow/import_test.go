package workflow

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/vit"
)

// TestImport re-imports an export with and without its metadata and checks
// the logits; a file whose shapes contradict its config is refused whole.
func TestImport(t *testing.T) {
	s := openStore(t)
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: 3, Classes: 4,
		Variant: vit.ShufflePredict}
	a := storeRandomModel(t, s, "a", c, 1)
	file := filepath.Join(t.TempDir(), "a.safetensors")
	if err := s.Export("a", file); err != nil {
		t.Fatal(err)
	}
	images := make([]float32, 3*c.ImageSize())
	for i := range images {
		images[i] = float32(i%7) - 3
	}
	want := slices.Clone(vit.NewRunner(a).Logits(images, 3, a.Sequential()))
	same := func(name string) {
		t.Helper()
		m, _, err := loadModel(s, name)
		if err != nil {
			t.Fatal(err)
		}
		if got := vit.NewRunner(m).Logits(images, 3, m.Sequential()); !slices.Equal(got, want) {
			t.Errorf("%s: imported logits differ", name)
		}
	}
	if _, err := Import(s, ImportRequest{File: file, Name: "b"}); err != nil {
		t.Fatal(err)
	}
	same("b")

	// A bare timm file: no metadata at all; the shapes give the config, flags the rest.
	ts, _, err := checkpoint.ReadSafetensorsFile(file)
	if err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(t.TempDir(), "bare.safetensors")
	writeSafetensors(t, bare, ts, nil)
	_, err = Import(s, ImportRequest{File: bare, Name: "c"})
	if err == nil || !strings.Contains(err.Error(), "--heads") {
		t.Errorf("a bare file without --heads: %v", err)
	}
	if _, err := Import(s, ImportRequest{File: bare, Name: "c", Heads: 2, Mean: []float32{0.13}, Std: []float32{0.31}}); err != nil {
		t.Fatal(err)
	}
	same("c")
	if man, _ := s.Get("c"); man.Variant != string(vit.ShufflePredict) {
		t.Errorf("inferred variant %q, want shuffle-predict", man.Variant)
	}

	// Shapes that contradict the declared config: refused, naming the tensors, nothing stored.
	before := snapshotDir(t, s.Dir)
	ts["blocks.1.mlp.fc1.weight"] = checkpoint.Tensor{Shape: []int{32, 16}, Data: make([]float32, 32*16)}
	_, meta, _ := checkpoint.ReadSafetensorsFile(file)
	broken := filepath.Join(t.TempDir(), "broken.safetensors")
	writeSafetensors(t, broken, ts, meta)
	_, err = Import(s, ImportRequest{File: broken, Name: "d"})
	if err == nil || !strings.Contains(err.Error(), "block 1: mlp.fc1.weight has shape [32 16], want [24 16]") {
		t.Errorf("mismatched shapes: %v", err)
	}
	// A normalisation that does not fit (the flags' or the metadata's).
	for _, c := range []struct {
		mean, std []float32
		want      string
	}{
		{[]float32{0.13}, []float32{0}, "channel 0 has std 0"},
		{[]float32{0.13, 0.2}, []float32{0.3, 0.3}, "2 mean(s) and 2 std(s) for images of 1 channel(s)"},
		{[]float32{float32(math.NaN())}, []float32{0.3}, "channel 0 has mean NaN"},
	} {
		_, err := Import(s, ImportRequest{File: bare, Name: "e", Heads: 2, Mean: c.mean, Std: c.std})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("import with mean %v std %v: %v, want %q", c.mean, c.std, err, c.want)
		}
	}
	badMeta := map[string]string{}
	for k, v := range meta {
		badMeta[k] = v
	}
	badMeta[checkpoint.MetaNormalization] = `{"mean":[0.1],"std":[-1]}`
	withBadNorm := filepath.Join(t.TempDir(), "badnorm.safetensors")
	tsGood, _, _ := checkpoint.ReadSafetensorsFile(file)
	writeSafetensors(t, withBadNorm, tsGood, badMeta)
	if _, err := Import(s, ImportRequest{File: withBadNorm, Name: "e"}); err == nil || !strings.Contains(err.Error(), "channel 0 has std -1") {
		t.Errorf("import of a file whose normalization metadata has std -1: %v", err)
	}
	if _, err := Import(s, ImportRequest{File: file, Name: "a"}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("importing over an existing model: %v", err)
	}
	if !bytes.Equal(before, snapshotDir(t, s.Dir)) {
		t.Error("a refused import changed the store")
	}
}

func writeSafetensors(t *testing.T, path string, ts checkpoint.Tensors, meta map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	if err := checkpoint.WriteSafetensors(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
