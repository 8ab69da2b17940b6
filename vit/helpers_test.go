package vit

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frankenvit/frankenvit/internal/testenv"
)

// tinyConfig is a model small enough for finite differences but with every
// size distinct, so a transposed index shows up as an error.
func tinyConfig(v Variant) Config {
	c := Config{ImageHeight: 8, ImageWidth: 12, Channels: 2, Patch: 4, Dim: 12, Heads: 3, MLP: 20, Depth: 3,
		Classes: 5, Variant: v}
	if v.HasPositionProjection() {
		c.PosDim = 4
	}
	return c
}

// randomModel draws every parameter, including LayerNorm affines, biases and
// the zero-initialised slot table, so no term of the forward pass hides.
func randomModel(t testing.TB, name string, c Config, seed uint64) *Model {
	t.Helper()
	m, err := NewModel(name, c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	for _, p := range m.Params() {
		for i := range p.Data() {
			v := rng.NormFloat64()
			switch {
			case strings.HasSuffix(p.Name, "norm.weight") || strings.HasSuffix(p.Name, "norm1.weight") || strings.HasSuffix(p.Name, "norm2.weight"):
				v = 1 + 0.2*v
			case len(p.Shape) >= 2 && p.Name != "pos_embed" && p.Name != "cls_token" && p.Name != "layer_pos_embed":
				v *= 0.3
			default:
				v *= 0.2
			}
			p.Data()[i] = float32(v)
		}
	}
	return m
}

func randomImages(c Config, B int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, B*c.ImageSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func randomLabels(c Config, B int, seed uint64) []int32 {
	rng := rand.New(rand.NewPCG(seed, 8))
	l := make([]int32, B)
	for i := range l {
		l[i] = int32(rng.IntN(c.Classes))
	}
	return l
}

func mustPlan(t testing.TB, m *Model, idx ...int) Plan {
	t.Helper()
	p, err := m.PlanOf(idx)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// shuffledPlans draws one random order of m's blocks for the batch, or with
// perSample one for each of its B samples.
func shuffledPlans(t testing.TB, m *Model, B int, perSample bool, rng *rand.Rand) []Plan {
	t.Helper()
	n := 1
	if perSample {
		n = B
	}
	plans := make([]Plan, n)
	for i := range plans {
		plans[i] = mustPlan(t, m, rng.Perm(m.Config.Depth)...)
	}
	return plans
}

// runReference pipes in, as JSON, through a Python reference script of
// testdata and decodes its JSON answer into out.
func runReference(t *testing.T, script string, timeout time.Duration, in, out any) {
	t.Helper()
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Python, filepath.Join("testdata", script))
	cmd.Stdin = bytes.NewReader(raw)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	answer, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", script, err, stderr.String())
	}
	if err := json.Unmarshal(answer, out); err != nil {
		t.Fatalf("%s: %v", script, err)
	}
}
