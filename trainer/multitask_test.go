package trainer

import (
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/vit"
)

// TestTaskLogits: a label picks its task's group of logits; one task keeps the row.
func TestTaskLogits(t *testing.T) {
	row := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8}
	if g, y := taskLogits(row, 7, 3); !slices.Equal(g, []float32{6, 7, 8}) || y != 1 {
		t.Errorf("label 7 of 3 tasks of 3: %v, %d", g, y)
	}
	if g, y := taskLogits(row, 7, 9); len(g) != 9 || y != 7 {
		t.Errorf("one task: %v, %d", g, y)
	}
	// Argmax over the whole row (8) is wrong for a label of task 0, the
	// group's argmax (2) is right.
	if n := countCorrect(row, []int32{2}, 9, 3); n != 1 {
		t.Errorf("countCorrect within the task: %d, want 1", n)
	}
	if n := countCorrect(row, []int32{2}, 9, 9); n != 0 {
		t.Errorf("countCorrect over every class: %d, want 0", n)
	}
}

// TestEvaluatorScoresTaskHead: a two-task model is scored on each image's own
// task group, recomputed here from the runner's logits.
func TestEvaluatorScoresTaskHead(t *testing.T) {
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: 3,
		Classes: 8, Variant: vit.Baseline, Tasks: []string{"a", "b"}}
	m, err := vit.NewModel("mt", c)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(3)
	split := stripes(300, 4)
	for i := range split.Labels {
		if i%2 == 1 {
			split.Labels[i] += 4 // task b's labels
		}
	}
	norm := dataset.ComputeNormalization(split)
	ev := NewEvaluator(m, split, norm)
	acc, loss := ev.Accuracy(m.Sequential())
	x := make([]float32, split.N*split.ImageSize())
	labels := make([]int32, split.N)
	idx := make([]int, split.N)
	for i := range idx {
		idx[i] = i
	}
	split.Fill(x, labels, idx, norm, nil, nil)
	logits := vit.NewRunner(m).Logits(x, split.N, m.Sequential())
	var correct, whole int
	var lossSum float64
	for i, l := range labels {
		row := logits[i*8 : (i+1)*8]
		g := int(l) / 4
		if stats.Argmax(row[g*4:g*4+4]) == int(l)-g*4 {
			correct++
		}
		if stats.Argmax(row) == int(l) {
			whole++
		}
		lossSum += stats.CrossEntropy(row[g*4:g*4+4], int(l)-g*4)
	}
	if want := float64(correct) / float64(split.N); acc != want {
		t.Errorf("accuracy %v, want the per-task %v (over all rows: %v)", acc, want, float64(whole)/float64(split.N))
	}
	if want := lossSum / float64(split.N); abs(loss-want) > 1e-6 {
		t.Errorf("loss %v, want the per-task %v", loss, want)
	}
	if correct == whole {
		t.Logf("note: per-task and whole-row accuracy agree on this model (%d)", correct)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestTrainOnlyHead: with TrainOnly "head" one epoch changes head.weight and
// head.bias and leaves every other tensor, the final LayerNorm included,
// bit-identical (no update, no weight decay); without it they all move.
func TestTrainOnlyHead(t *testing.T) {
	data := stripes(96, 5)
	norm := dataset.ComputeNormalization(data)
	for _, only := range []string{TrainOnlyHead, ""} {
		m := tinyModel(t, vit.Baseline, 6)
		// A non-trivial final LayerNorm, so a decay or update of it would show.
		for _, p := range m.Params() {
			if strings.HasPrefix(p.Name, "norm.") {
				for i := range p.Data() {
					p.Data()[i] += 0.3
				}
			}
		}
		before := snapshot(m.Params())
		opt := tinyOptions()
		opt.Epochs, opt.TrainOnly, opt.WeightDecay = 1, only, 0.5
		if _, err := Train(m, data, &dataset.Split{C: 1, H: 8, W: 8}, norm, opt, Hooks{}); err != nil {
			t.Fatal(err)
		}
		for i, p := range m.Params() {
			changed := !slices.Equal(before[i], p.Data())
			if IsHeadParam(p) && !changed {
				t.Errorf("train-only %q: %s did not change", only, p.Name)
			}
			if !IsHeadParam(p) && changed && only == TrainOnlyHead {
				t.Errorf("train-only head: %s changed", p.Name)
			}
			if !IsHeadParam(p) && !changed && only == "" {
				t.Errorf("full training: %s did not change", p.Name)
			}
		}
	}
	if err := (Options{Epochs: 1, Batch: 1, LR: 1, ShufflePer: "batch", TrainOnly: "blocks"}).Validate(vit.Baseline); err == nil ||
		!strings.Contains(err.Error(), "--train-only") {
		t.Errorf("TrainOnly blocks: %v", err)
	}
}
