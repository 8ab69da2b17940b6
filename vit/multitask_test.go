package vit

import (
	"math"
	"testing"

	"github.com/nlpodyssey/spago/mat"
)

// multiTaskConfig is tinyConfig with three task heads of 4 classes each.
func multiTaskConfig(v Variant) Config {
	c := tinyConfig(v)
	c.Classes, c.Tasks = 12, []string{"a", "b", "c"}
	return c
}

// TestMultiTaskHeadLossGradients checks the grouped cross-entropy of the
// class head against finite differences, and the whole training graph of a
// multi-task model.
func TestMultiTaskHeadLossGradients(t *testing.T) {
	const B = 4
	t.Run("class head loss", func(t *testing.T) {
		m := randomModel(t, "m", multiTaskConfig(Baseline), 31)
		h := inputTokens(m.Config, B, 32)
		loss := func() mat.Tensor {
			return run(nil, &headLossOp{h: h, head: m.Head, cfg: m.Config, B: B,
				ce: crossEntropy{targets: []int32{1, 5, 11, 8}, scale: 1.0 / B, group: m.Config.ClassesPerTask()}})
		}
		zeroGrads(m.Params())
		gradCheck(t, loss, append([]variable{inputVar("h", h)}, paramVars(m.Head.params)...), 12)
	})
	t.Run("model", func(t *testing.T) {
		c := multiTaskConfig(Shuffle)
		m := randomModel(t, "m", c, 33)
		x, labels := randomImages(c, B, 34), []int32{0, 7, 11, 4}
		plans := []Plan{mustPlan(t, m, 2, 0, 1)}
		checkTrainingGradient(t, m, x, labels, B, plans)
	})
}

// TestMultiTaskHeadLossIsPerTask recomputes the loss of every sample as the
// cross-entropy over its task's logits alone (float64, from the step's
// logits) and checks that the head rows of the tasks no sample of the batch
// belongs to get exactly zero gradient, as do the other groups' logits.
func TestMultiTaskHeadLossIsPerTask(t *testing.T) {
	const B = 3
	c := multiTaskConfig(Baseline)
	C := c.ClassesPerTask()
	m := randomModel(t, "m", c, 41)
	x := randomImages(c, B, 42)
	labels := []int32{1, 2, 9} // tasks 0, 0, 2: task 1's rows get no gradient
	st, err := m.Forward(x, labels, B, []Plan{m.Sequential()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	logits := st.Logits()
	var want float64
	for b := 0; b < B; b++ {
		g := int(labels[b]) / C
		row := logits[b*c.Classes+g*C : b*c.Classes+g*C+C]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - mx)
		}
		want += math.Log(sum) - (float64(row[int(labels[b])-g*C]) - mx)
	}
	want /= B
	if got := float64(st.ClassLoss()); math.Abs(got-want) > 1e-5 {
		t.Fatalf("loss %.7f, want the per-task cross-entropy %.7f", got, want)
	}
	// The whole-row softmax would give another loss: the test can tell them apart.
	zeroGrads(m.Params())
	if err := st.Backward(); err != nil {
		t.Fatal(err)
	}
	w, bias := m.Head.W.Grad, m.Head.B.Grad
	for r := 0; r < c.Classes; r++ {
		untouched := r/C == 1
		var nz bool
		for j := 0; j < c.Dim; j++ {
			nz = nz || w[r*c.Dim+j] != 0
		}
		nz = nz || bias[r] != 0
		if untouched && nz {
			t.Errorf("head row %d (task 1, no sample) has a non-zero gradient", r)
		}
		if !untouched && !nz {
			t.Errorf("head row %d (a task of the batch) has no gradient", r)
		}
	}
}

// TestSingleTaskLossUnchanged: with one task the grouped path is not taken
// and the loss is the softmax over every class.
func TestSingleTaskLossUnchanged(t *testing.T) {
	c := tinyConfig(Baseline)
	ce := crossEntropy{targets: []int32{3}, scale: 1, group: c.ClassesPerTask()}
	if ce.grouped(c.Classes) {
		t.Fatal("a single-task model's loss is grouped")
	}
	logits := []float32{0.5, -1, 2, 0.25, 1}
	got := float64(ce.forward(logits, 1, 5))
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v))
	}
	if want := math.Log(sum) - 0.25; math.Abs(got-want) > 1e-6 {
		t.Fatalf("loss %g, want %g", got, want)
	}
}
