package vit

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"testing"
)

// torchPython is Debian's interpreter, the one python3-torch installs into.
const torchPython = "/usr/bin/python3"

func requireTorch(t *testing.T) {
	t.Helper()
	if err := exec.Command(torchPython, "-c", "import torch").Run(); err != nil {
		t.Skip("needs Debian package python3-torch (apt-get install python3-torch): /usr/bin/python3 cannot import torch")
	}
}

func tensorsOf(params []*Param) map[string][]float32 {
	out := map[string][]float32{}
	for _, p := range params {
		out[p.Name] = p.Data()
	}
	return out
}

// torchCase is one forward pass for the reference: m's stem and head, the plan's blocks.
type torchCase struct {
	m    *Model
	plan Plan
	x    []float32
}

type torchResult struct {
	Logits     []float64   `json:"logits"`
	SlotLogits [][]float64 `json:"slot_logits"`
}

// torchLogits runs vit/testdata/torch_reference.py on every case in one process.
func torchLogits(t *testing.T, cases []torchCase) []torchResult {
	t.Helper()
	var in []map[string]any
	for _, c := range cases {
		blocks := make([]map[string][]float32, len(c.plan))
		for i, b := range c.plan {
			blocks[i] = tensorsOf(b.params)
		}
		in = append(in, map[string]any{"config": c.m.Config, "stem": tensorsOf(c.m.Stem.params), "blocks": blocks,
			"head": tensorsOf(c.m.Head.params), "images": c.x})
	}
	raw, err := json.Marshal(map[string]any{"cases": in})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(torchPython, "testdata/torch_reference.py")
	cmd.Stdin = bytes.NewReader(raw)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("torch reference: %v: %s", err, stderr.String())
	}
	var res []torchResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(cases) {
		t.Fatalf("torch reference gave %d results for %d cases: %v", len(res), len(cases), err)
	}
	return res
}

func maxAbsDiff(t *testing.T, what string, got []float32, want []float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, reference has %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(float64(got[i])-want[i]))
	}
	return worst
}

// TestTorchParity compares the tape-free and the training forward pass with
// PyTorch on the same weights and inputs, for every variant and for
// permuted, pruned, repeated and Frankenstein plans.
func TestTorchParity(t *testing.T) {
	requireTorch(t)
	const B = 3
	type named struct {
		variant Variant
		name    string
		labels  []int32
		torchCase
	}
	var cases []named
	for _, v := range Variants {
		c := tinyConfig(v)
		m := randomModel(t, "a", c, 31)
		donor := randomModel(t, "b", c, 32)
		x := randomImages(c, B, 33)
		labels := randomLabels(c, B, 34)
		for name, plan := range map[string]Plan{
			"sequential":   m.Sequential(),
			"permuted":     mustPlan(t, m, 2, 0, 1),
			"pruned":       mustPlan(t, m, 2, 1),
			"repeated":     mustPlan(t, m, 1, 1, 0),
			"frankenstein": {donor.Blocks[2], m.Blocks[0], donor.Blocks[1]},
		} {
			cases = append(cases, named{v, name, labels, torchCase{m, plan, x}})
		}
	}
	// The default MNIST-sized model too.
	d := randomModel(t, "d", DefaultConfig(), 41)
	cases = append(cases, named{Baseline, "default size", randomLabels(d.Config, 4, 43), torchCase{d, d.Sequential(), randomImages(d.Config, 4, 42)}})
	tcs := make([]torchCase, len(cases))
	for i, c := range cases {
		tcs[i] = c.torchCase
	}
	want := torchLogits(t, tcs)
	for i, c := range cases {
		B := len(c.labels)
		got := NewRunner(c.m).Logits(c.x, B, c.plan)
		if d := maxAbsDiff(t, "logits", got, want[i].Logits); d > 1e-4 {
			t.Errorf("%s/%s: tape-free logits differ from PyTorch by %.3g", c.variant, c.name, d)
		}
		st, err := c.m.Forward(c.x, c.labels, B, []Plan{c.plan}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(t, "logits", st.Logits(), want[i].Logits); d > 1e-4 {
			t.Errorf("%s/%s: training-graph logits differ from PyTorch by %.3g", c.variant, c.name, d)
		}
		if c.variant.HasPositionHead() {
			if len(want[i].SlotLogits) != len(c.plan) {
				t.Fatalf("%s/%s: reference ran %d slot heads", c.variant, c.name, len(want[i].SlotLogits))
			}
			for k := range want[i].SlotLogits {
				if d := maxAbsDiff(t, "slot logits", st.SlotLogits(k), want[i].SlotLogits[k]); d > 1e-4 {
					t.Errorf("%s/%s: slot %d head logits differ from PyTorch by %.3g", c.variant, c.name, k, d)
				}
			}
		}
	}
}
