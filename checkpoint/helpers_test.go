package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/durable"
)

// randomTensor fills a tensor of the given shape with seeded values.
func randomTensor(r *rand.Rand, shape ...int) Tensor {
	t := Tensor{Shape: shape, Data: make([]float32, Tensor{Shape: shape}.NumElements())}
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

// Small parts with the names the model code uses; dim 4, 2x2 patches.
func stemPart(seed int64) Tensors {
	r := rand.New(rand.NewSource(seed))
	return Tensors{
		"patch_embed.proj.weight": randomTensor(r, 4, 1, 2, 2),
		"patch_embed.proj.bias":   randomTensor(r, 4),
		"cls_token":               randomTensor(r, 1, 1, 4),
		"pos_embed":               randomTensor(r, 1, 5, 4),
	}
}

func blockPart(seed int64) Tensors {
	r := rand.New(rand.NewSource(seed))
	return Tensors{
		"norm1.weight": randomTensor(r, 4), "norm1.bias": randomTensor(r, 4),
		"attn.qkv.weight": randomTensor(r, 12, 4), "attn.qkv.bias": randomTensor(r, 12),
		"attn.proj.weight": randomTensor(r, 4, 4), "attn.proj.bias": randomTensor(r, 4),
		"norm2.weight": randomTensor(r, 4), "norm2.bias": randomTensor(r, 4),
		"mlp.fc1.weight": randomTensor(r, 8, 4), "mlp.fc1.bias": randomTensor(r, 8),
		"mlp.fc2.weight": randomTensor(r, 4, 8), "mlp.fc2.bias": randomTensor(r, 4),
	}
}

func headPart(seed int64) Tensors {
	r := rand.New(rand.NewSource(seed))
	return Tensors{
		"norm.weight": randomTensor(r, 4), "norm.bias": randomTensor(r, 4),
		"head.weight": randomTensor(r, 10, 4), "head.bias": randomTensor(r, 10),
	}
}

// newTestStore opens a store in a fresh temporary directory.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// storeModel puts a model with depth blocks (seeded by seed) and returns its
// manifest, not yet created.
func storeModel(t testing.TB, s *Store, name string, seed int64, depth int) *Manifest {
	t.Helper()
	m := &Manifest{FormatVersion: 1, Name: name, Status: "complete", Variant: "baseline",
		Config: json.RawMessage(`{"dim":4,"depth":` + fmt.Sprint(depth) + `}`), Data: "mnist",
		Normalization: json.RawMessage(`{"mean":[0.1307],"std":[0.3081]}`), Seed: uint64(seed),
		Metrics: map[string]float64{"val_accuracy": 0.5}}
	var err error
	if m.Stem.Blob, err = s.PutBlob(stemPart(seed)); err != nil {
		t.Fatal(err)
	}
	m.Stem.Source = name
	for i := 0; i < depth; i++ {
		d, err := s.PutBlob(blockPart(seed*100 + int64(i)))
		if err != nil {
			t.Fatal(err)
		}
		m.Blocks = append(m.Blocks, PartRef{Blob: d, Source: name, Index: i})
	}
	if m.Head.Blob, err = s.PutBlob(headPart(seed)); err != nil {
		t.Fatal(err)
	}
	m.Head.Source = name
	return m
}

// createModel stores and creates a model.
func createModel(t testing.TB, s *Store, name string, seed int64, depth int) *Manifest {
	t.Helper()
	m := storeModel(t, s, name, seed, depth)
	if err := s.Create(m); err != nil {
		t.Fatal(err)
	}
	return m
}

// sameTensors compares bit for bit, so NaN payloads and -0 count.
func sameTensors(a, b Tensors) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d tensors vs %d", len(a), len(b))
	}
	for name, ta := range a {
		tb, ok := b[name]
		if !ok {
			return fmt.Errorf("tensor %q missing", name)
		}
		if fmt.Sprint(ta.Shape) != fmt.Sprint(tb.Shape) {
			return fmt.Errorf("tensor %q: shape %v vs %v", name, ta.Shape, tb.Shape)
		}
		if len(ta.Data) != len(tb.Data) {
			return fmt.Errorf("tensor %q: %d values vs %d", name, len(ta.Data), len(tb.Data))
		}
		for i := range ta.Data {
			if math.Float32bits(ta.Data[i]) != math.Float32bits(tb.Data[i]) {
				return fmt.Errorf("tensor %q[%d]: %v vs %v", name, i, ta.Data[i], tb.Data[i])
			}
		}
	}
	return nil
}

// assertNoTemp fails if any temporary file is left anywhere under dir.
func assertNoTemp(t testing.TB, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), durable.TempPrefix) {
			t.Errorf("temporary file left behind: %s", path)
		}
		return nil
	})
}

// rawSafetensors assembles a file from a header string and data bytes,
// without any padding or checks, to build malformed inputs.
func rawSafetensors(header string, data []byte) []byte {
	out := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(out, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
