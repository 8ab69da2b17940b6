// Package vittest builds the tiny random models the unit tests of several
// packages share (sweeps, data-driven merges), so each test does not keep
// its own copy.
package vittest

import (
	"math/rand/v2"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// TinyModel is an 8x8 single-channel model of width 16 (2 heads, MLP 24, 4
// classes, slot embeddings of width 4 for shuffle-position) of the given
// depth and variant, initialised from seed and then shaken by N(0, 0.3²)
// noise on every parameter, so that merges of two such models differ
// visibly.
func TinyModel(t testing.TB, name string, depth int, v vit.Variant, seed uint64) *vit.Model {
	t.Helper()
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: depth,
		Classes: 4, Variant: v}
	if v.HasPositionProjection() {
		c.PosDim = 4
	}
	m, err := vit.NewModel(name, c)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, p := range m.Params() {
		for i := range p.Data() {
			p.Data()[i] += float32(0.3 * rng.NormFloat64())
		}
	}
	return m
}
