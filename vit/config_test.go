package vit

import (
	"strings"
	"testing"
)

// Real models up to ViT-H pass Validate; garbage sizes (a typo, a corrupt
// manifest) are refused with the size named, before anything is allocated.
func TestValidateLimits(t *testing.T) {
	vitH := Config{ImageHeight: 224, ImageWidth: 224, Channels: 3, Patch: 14, Dim: 1280, Heads: 16, MLP: 5120,
		Depth: 32, Classes: 1000, Variant: Baseline}
	for name, c := range map[string]Config{"default": DefaultConfig(), "vit-h/14": vitH} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	mutate := func(f func(*Config)) Config {
		c := DefaultConfig()
		f(&c)
		return c
	}
	for want, c := range map[string]Config{
		"dim 4000000000 is over the limit":                         mutate(func(c *Config) { c.Dim, c.Heads = 4_000_000_000, 1 }),
		"mlp 3000000000 is over the limit":                         mutate(func(c *Config) { c.MLP = 3_000_000_000 }),
		"depth 100000 is over the limit":                           mutate(func(c *Config) { c.Depth = 100_000 }),
		"pos dim 70000 is over the limit":                          mutate(func(c *Config) { c.PosDim = 70_000 }),
		"values, over the limit":                                   mutate(func(c *Config) { c.ImageHeight, c.ImageWidth, c.Channels = 65536, 65536, 3 }),
		"tokens (patch 1 on 512x512)":                              mutate(func(c *Config) { c.ImageHeight, c.ImageWidth, c.Patch = 512, 512, 1 }),
		"beyond any model: 1.55e+11 weights (dim 65536, MLP 65536": mutate(func(c *Config) { c.Dim, c.MLP, c.Heads = 65536, 65536, 1 }),
		"weights (dim 16384, MLP 128, depth":                       mutate(func(c *Config) { c.Dim, c.Depth, c.Heads = 16384, 4096, 1 }),
	} {
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: got %v, want an error with %q", c, err, want)
		}
		if err == nil {
			continue // NewModel would try to allocate it
		}
		if _, err := NewModel("m", c); err == nil {
			t.Errorf("NewModel accepted %+v", c)
		}
	}
}

// Weights counts what NewModel allocates, for every variant (the limit on it
// stands for the memory a model will take).
func TestWeightsCountsTheModel(t *testing.T) {
	odd := Config{ImageHeight: 32, ImageWidth: 16, Channels: 3, Patch: 8, Dim: 24, Heads: 2, MLP: 40, Depth: 3, Classes: 6,
		PosDim: 5, Tasks: []string{"a", "b"}}
	for _, c := range []Config{DefaultConfig(), odd} {
		for _, v := range Variants {
			c.Variant = v
			if c.PosDim == 0 {
				c.PosDim = DefaultPosDim
			}
			m, err := NewModel("m", c)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.Weights(), float64(m.NumParams()); got != want {
				t.Errorf("%s %dx%d: Weights() = %v, the model has %v", v, c.ImageHeight, c.ImageWidth, got, want)
			}
		}
	}
}
