package trainer

import (
	"errors"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// A failing operator of the training graph (here a kernel panicking on a
// parameter or gradient of the wrong size) used to end the process through
// spago's log.Fatalf or a panic on a backward goroutine. Now the step returns
// the operator's error and changes no weight.

func TestStepperOperatorFailureIsAnError(t *testing.T) {
	for _, tc := range []struct {
		phase, op string
		B         int // 16: two shards, the second on its own goroutine
		breakIt   func(m *vit.Model) (undo func())
	}{
		// Broken before the stepper shares the weights with its shard models:
		// both shards fail.
		{"forward", "class head loss", 16, func(m *vit.Model) func() {
			value := m.Head.B.Value
			m.Head.B.Value = make([]float32, 1) // a bias too short
			return func() { m.Head.B.Value = value }
		}},
		// The weight gradient of the model, with one shard: the backward runs
		// on spago's goroutines.
		{"backward", "mlp (block tiny[1])", 8, func(m *vit.Model) func() {
			full := m.Blocks[1].Fc1W.Grad
			m.Blocks[1].Fc1W.Grad = full[:2] // a weight gradient too short
			return func() { m.Blocks[1].Fc1W.Grad = full }
		}},
	} {
		t.Run(tc.phase, func(t *testing.T) {
			m := tinyModel(t, vit.Shuffle, 1)
			x, labels := stepBatch(t, m, tc.B)
			var undo func()
			if tc.phase == "forward" {
				undo = tc.breakIt(m)
			}
			s := NewStepper(m, 0.05, 1, 1)
			if tc.phase == "backward" {
				undo = tc.breakIt(m)
			}
			before := snapshot(m.Params())
			_, err := s.Step(x, labels, tc.B, []vit.Plan{m.Sequential()}, 1e-2)
			undo()
			t.Logf("step error: %v", err)
			var oe *vit.OpError
			if !errors.As(err, &oe) || !errors.Is(err, vit.ErrOperator) {
				t.Fatalf("want the operator's error, got %v", err)
			}
			if oe.Op != tc.op || oe.Phase != tc.phase || !strings.Contains(err.Error(), tc.op) {
				t.Errorf("want operator %q failing in %s, got %q in %s: %v", tc.op, tc.phase, oe.Op, oe.Phase, err)
			}
			after := snapshot(m.Params())
			for i := range before {
				for j := range before[i] {
					if before[i][j] != after[i][j] {
						t.Fatalf("a failed step changed %s", m.Params()[i].Name)
					}
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("want one line, the shards failing alike: %q", err)
			}
			s = NewStepper(m, 0.05, 1, 1) // its shard models share the mended weights
			if _, err := s.Step(x, labels, tc.B, []vit.Plan{m.Sequential()}, 1e-2); err != nil {
				t.Errorf("the step after a failure failed: %v", err)
			}
		})
	}
}

// TestTrainStopsOnOperatorFailure: Train returns the operator's error instead of dying.
func TestTrainStopsOnOperatorFailure(t *testing.T) {
	data := stripes(64, 4)
	norm := dataset.ComputeNormalization(data)
	m := tinyModel(t, vit.Shuffle, 1)
	opt := tinyOptions()
	opt.Epochs = 3
	epochs := 0
	hooks := Hooks{OnEpoch: func(rec EpochRecord, best bool) error {
		epochs = rec.Epoch
		g := m.Blocks[2].Fc2W
		g.Grad = g.Grad[:1] // after epoch 1, every backward of block 2's MLP fails
		return nil
	}}
	_, err := Train(m, data, &dataset.Split{C: 1, H: 8, W: 8}, norm, opt, hooks)
	t.Logf("Train: %v", err)
	if !errors.Is(err, vit.ErrOperator) || !strings.Contains(err.Error(), "mlp (block tiny[2]) failed in backward") {
		t.Fatalf("want the failure of block 2's MLP in backward, got %v", err)
	}
	if epochs != 1 {
		t.Errorf("training went on for %d epochs after the failure", epochs-1)
	}
}
