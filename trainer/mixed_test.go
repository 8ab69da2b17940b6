package trainer

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// TestMixedOrderSharedOrderEqualsAccuracy: with one order for every image,
// the mixed-order evaluation is Accuracy of that plan, bit for bit (three
// batches, the last partial, on parallel workers), and OnProgress counts
// every batch once.
func TestMixedOrderSharedOrderEqualsAccuracy(t *testing.T) {
	for _, v := range []vit.Variant{vit.Baseline, vit.ShufflePosition} {
		m := tinyModel(t, v, 4)
		split := stripes(2*EvalBatch+37, 5)
		norm := dataset.ComputeNormalization(split)
		order := []int{2, 0, 1}
		orders := make([][]int, split.N)
		for i := range orders {
			orders[i] = order
		}
		e := NewEvaluator(m, split, norm)
		var progress []int
		e.OnProgress = func(done, total int) {
			if total != 3 {
				t.Errorf("progress total %d, want 3 batches", total)
			}
			progress = append(progress, done)
		}
		acc, loss, err := e.MixedOrderAccuracy(orders)
		if err != nil {
			t.Fatal(err)
		}
		if len(progress) != 3 || progress[0] != 1 || progress[2] != 3 {
			t.Errorf("progress %v, want 1 2 3", progress)
		}
		plan, _ := m.PlanOf(order)
		wantAcc, wantLoss := NewEvaluator(m, split, norm).Accuracy(plan)
		if acc != wantAcc || loss != wantLoss {
			t.Errorf("%s: one order for all: %v %v, Accuracy %v %v", v, acc, loss, wantAcc, wantLoss)
		}
	}
}

// TestMixedOrderPerImage: every image its own order is every image
// evaluated alone with its plan; bad orders are refused.
func TestMixedOrderPerImage(t *testing.T) {
	m := tinyModel(t, vit.Shuffle, 6)
	split := stripes(EvalBatch+20, 7)
	norm := dataset.ComputeNormalization(split)
	rng := rand.New(rand.NewPCG(8, 9))
	orders := make([][]int, split.N)
	for i := range orders {
		orders[i] = rng.Perm(3)
	}
	acc, loss, err := NewEvaluator(m, split, norm).MixedOrderAccuracy(orders)
	if err != nil {
		t.Fatal(err)
	}
	var correct, lossSum float64
	for i := 0; i < split.N; i++ {
		plan, _ := m.PlanOf(orders[i])
		a, l := NewEvaluator(m, split.Subset([]int{i}), norm).Accuracy(plan)
		correct += a
		lossSum += l
	}
	if acc != correct/float64(split.N) || math.Abs(loss-lossSum/float64(split.N)) > 1e-5 {
		t.Errorf("per image: %v %v, one at a time %v %v", acc, loss, correct/float64(split.N), lossSum/float64(split.N))
	}
	e := NewEvaluator(m, split, norm)
	if _, _, err := e.MixedOrderAccuracy(orders[:3]); err == nil {
		t.Error("too few orders accepted")
	}
	orders[7] = []int{0, 9, 1}
	if _, _, err := e.MixedOrderAccuracy(orders); err == nil {
		t.Error("a missing block was accepted")
	}
	orders[7] = []int{0, 1}
	if _, _, err := e.MixedOrderAccuracy(orders); err == nil {
		t.Error("orders of two lengths were accepted")
	}
}
