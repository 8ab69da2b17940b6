package vit

import "testing"

// TestRunnerSharedWorkspace: Logits (attention and MLP activations in one
// workspace) and LinearInputs (kept apart, as its visits read both) give the
// same logits, and a runner that switches between them gives what fresh
// runners give: the same inputs of every linear layer, bit for bit.
func TestRunnerSharedWorkspace(t *testing.T) {
	for _, v := range Variants {
		c := tinyConfig(v)
		m := randomModel(t, "m", c, 21)
		const B = 5
		x := randomImages(c, B, 22)
		plan := m.Sequential()
		collect := func(r *Runner) (logits []float32, inputs [][]float32) {
			logits = append([]float32(nil), r.LinearInputs(x, B, plan, func(in LinearInput) {
				inputs = append(inputs, append([]float32(nil), in.X[:in.Rows*in.In]...))
			})...)
			return logits, inputs
		}
		want, wantInputs := collect(NewRunner(m))
		r := NewRunner(m)
		shared := append([]float32(nil), r.Logits(x, B, plan)...)
		got, gotInputs := collect(r)
		again := r.Logits(x, B, plan)
		for i := range want {
			if shared[i] != want[i] || got[i] != want[i] || again[i] != want[i] {
				t.Fatalf("%s: logit %d: shared %v, after switching %v and %v, fresh %v", v, i, shared[i], got[i], again[i], want[i])
			}
		}
		if len(gotInputs) != len(wantInputs) {
			t.Fatalf("%s: %d visits, want %d", v, len(gotInputs), len(wantInputs))
		}
		for k := range wantInputs {
			for i := range wantInputs[k] {
				if gotInputs[k][i] != wantInputs[k][i] {
					t.Fatalf("%s: visit %d element %d: %v after shared runs, %v fresh", v, k, i, gotInputs[k][i], wantInputs[k][i])
				}
			}
		}
	}
}
