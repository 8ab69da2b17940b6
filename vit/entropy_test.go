package vit

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/mat"
)

// TestEntropyLossGradient compares the entropy tail's gradient with respect
// to the logits with central finite differences (float64 recomputation of
// the loss), for the plain softmax and the per-task groups; logits outside an
// image's group must neither move the loss nor get a gradient.
func TestEntropyLossGradient(t *testing.T) {
	const rows, classes, group = 4, 12, 4
	rng := rand.New(rand.NewPCG(41, 1))
	logits := make([]float32, rows*classes)
	for i := range logits {
		logits[i] = float32(2 * rng.NormFloat64())
	}
	for _, tc := range []struct {
		name  string
		tasks []int32
	}{{"whole row", nil}, {"task groups", []int32{0, 2, 1, 2}}} {
		t.Run(tc.name, func(t *testing.T) {
			const gy, scale = 1.3, 0.25
			e := &entropyLoss{tasks: tc.tasks, scale: scale, group: group}
			e.forward(logits, rows, classes)
			d := e.backward(gy, rows, classes)
			loss := func(z []float32) float64 {
				e := &entropyLoss{tasks: tc.tasks, scale: scale, group: group}
				return float64(e.forward(z, rows, classes))
			}
			z := append([]float32(nil), logits...)
			const h = 1e-2
			for i := range z {
				orig := z[i]
				z[i] = orig + h
				up := loss(z)
				z[i] = orig - h
				down := loss(z)
				z[i] = orig
				num := gy * (up - down) / (2 * h)
				if math.Abs(num-float64(d[i])) > 1e-3+1e-2*math.Abs(num) {
					t.Errorf("logit %d: analytic %.6g, finite difference %.6g", i, d[i], num)
				}
				if tc.tasks != nil && i%classes/group != int(tc.tasks[i/classes]) && (d[i] != 0 || up != down) {
					t.Errorf("logit %d outside its row's task group: gradient %g, loss moves %g", i, d[i], up-down)
				}
			}
		})
	}
}

// TestEntropyLossValue checks the mean entropy against a float64
// recomputation: uniform logits give log(classes), and a peaked row nearly 0.
func TestEntropyLossValue(t *testing.T) {
	e := &entropyLoss{scale: 0.5}
	logits := []float32{1, 1, 1, 1, 40, 0, 0, 0}
	got := float64(e.forward(logits, 2, 4))
	if want := math.Log(4) / 2; math.Abs(got-want) > 1e-5 {
		t.Errorf("mean entropy %.7g, want %.7g", got, want)
	}
}

// TestForwardEntropyGradients checks the whole graph under the entropy loss
// (single-task and multi-task) against finite differences.
func TestForwardEntropyGradients(t *testing.T) {
	const B = 4
	for _, tc := range []struct {
		name  string
		cfg   Config
		tasks []int32
	}{{"single task", tinyConfig(Baseline), nil}, {"multi-task", multiTaskConfig(Baseline), []int32{2, 0, 1, 2}}} {
		t.Run(tc.name, func(t *testing.T) {
			m := randomModel(t, "m", tc.cfg, 51)
			x := randomImages(tc.cfg, B, 52)
			plans := []Plan{m.Sequential()}
			loss := func() mat.Tensor {
				st, err := m.ForwardEntropy(x, tc.tasks, B, plans, nil)
				if err != nil {
					t.Fatal(err)
				}
				return st.loss
			}
			zeroGrads(m.Params())
			gradCheck(t, loss, paramVars(m.Params()), 2)
		})
	}
	t.Run("bad task", func(t *testing.T) {
		m := randomModel(t, "m", multiTaskConfig(Baseline), 51)
		x := randomImages(m.Config, 2, 52)
		if _, err := m.ForwardEntropy(x, []int32{0, 3}, 2, []Plan{m.Sequential()}, nil); err == nil {
			t.Error("task 3 of a 3-task model accepted")
		}
		if _, err := m.ForwardEntropy(x, []int32{0}, 2, []Plan{m.Sequential()}, nil); err == nil {
			t.Error("one task index for two images accepted")
		}
	})
}
