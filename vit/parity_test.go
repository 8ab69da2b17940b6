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

// torchLogits runs vit/testdata/torch_reference.py on m's weights in plan order.
func torchLogits(t *testing.T, m *Model, plan Plan, x []float32) (logits []float64, slotLogits [][]float64) {
	t.Helper()
	blocks := make([]map[string][]float32, len(plan))
	for i, b := range plan {
		blocks[i] = tensorsOf(b.params)
	}
	in, err := json.Marshal(map[string]any{"config": m.Config, "stem": tensorsOf(m.Stem.params), "blocks": blocks,
		"head": tensorsOf(m.Head.params), "images": x})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(torchPython, "testdata/torch_reference.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("torch reference: %v: %s", err, stderr.String())
	}
	var res struct {
		Logits     []float64   `json:"logits"`
		SlotLogits [][]float64 `json:"slot_logits"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res.Logits, res.SlotLogits
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
	for _, v := range Variants {
		c := tinyConfig(v)
		m := randomModel(t, "a", c, 31)
		donor := randomModel(t, "b", c, 32)
		x := randomImages(c, B, 33)
		labels := randomLabels(c, B, 34)
		plans := map[string]Plan{
			"sequential":  m.Sequential(),
			"permuted":    mustPlan(t, m, 2, 0, 1),
			"pruned":      mustPlan(t, m, 2, 1),
			"repeated":    mustPlan(t, m, 1, 1, 0),
			"frankenstein": {donor.Blocks[2], m.Blocks[0], donor.Blocks[1]},
		}
		for name, plan := range plans {
			want, wantSlots := torchLogits(t, m, plan, x)
			got := NewRunner(m).Logits(x, B, plan)
			if d := maxAbsDiff(t, "logits", got, want); d > 1e-4 {
				t.Errorf("%s/%s: tape-free logits differ from PyTorch by %.3g", v, name, d)
			}
			st, err := m.Forward(x, labels, B, []Plan{plan}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(t, "logits", st.Logits(), want); d > 1e-4 {
				t.Errorf("%s/%s: training-graph logits differ from PyTorch by %.3g", v, name, d)
			}
			if v.HasPositionHead() {
				for i := range wantSlots {
					if d := maxAbsDiff(t, "slot logits", st.SlotLogits(i), wantSlots[i]); d > 1e-4 {
						t.Errorf("%s/%s: slot %d head logits differ from PyTorch by %.3g", v, name, i, d)
					}
				}
			}
		}
	}
}

// TestTorchParityDefaultSize runs the default MNIST-sized model.
func TestTorchParityDefaultSize(t *testing.T) {
	requireTorch(t)
	c := DefaultConfig()
	m := randomModel(t, "d", c, 41)
	x := randomImages(c, 4, 42)
	want, _ := torchLogits(t, m, m.Sequential(), x)
	if d := maxAbsDiff(t, "logits", NewRunner(m).Logits(x, 4, m.Sequential()), want); d > 1e-4 {
		t.Errorf("default model logits differ from PyTorch by %.3g", d)
	}
}
