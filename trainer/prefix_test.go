package trainer

import (
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// TestPrefixSharingIsExact evaluates a sweep of plans with shared prefixes
// (pruned depths, permutations, repeats, another model's blocks) at once and
// one by one: the accuracies and losses must be identical, bit for bit.
func TestPrefixSharingIsExact(t *testing.T) {
	split := stripes(600, 9) // more than two evaluation batches, the last one short
	norm := dataset.ComputeNormalization(split)
	m := tinyModel(t, vit.ShufflePosition, 1) // slot-dependent blocks
	donor := tinyModel(t, vit.ShufflePosition, 2)
	b, d := m.Blocks, donor.Blocks
	plans := []vit.Plan{
		{b[0], b[1], b[2]}, {b[0], b[1]}, {b[0]}, {}, {b[0], b[2], b[1]}, {b[1], b[0], b[2]},
		{b[1], b[1], b[1]}, {b[0], d[1], b[2]}, {b[0], d[1]}, {b[0], b[1], b[2]},
	}
	e := NewEvaluator(m, split, norm)
	acc, loss := e.AccuracyOfPlans(plans)
	for i, p := range plans {
		a, l := NewEvaluator(m, split, norm).Accuracy(p)
		if a != acc[i] || l != loss[i] {
			t.Errorf("plan %s: shared prefixes give %v/%v, alone %v/%v", p, acc[i], loss[i], a, l)
		}
	}
	shared, unshared := BlockRuns(plans)
	if shared != 12 || unshared != 23 {
		t.Errorf("block runs %d shared, %d unshared; want 12 and 23", shared, unshared)
	}
}
