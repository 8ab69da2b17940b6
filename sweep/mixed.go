package sweep

import (
	"math/rand/v2"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// MixedOrderAccuracy evaluates m on split when image i runs its own plan,
// positions orders[i] into m.Blocks (all of one length), through
// trainer.Evaluator.MixedOrderAccuracy. It returns accuracy and mean
// cross-entropy; onBatch, if set, is told after each batch.
func MixedOrderAccuracy(m *vit.Model, split *dataset.Split, norm dataset.Normalization, orders [][]int,
	onBatch func(done, total int)) (acc, loss float64, err error) {
	ev := trainer.NewEvaluator(m, split, norm)
	ev.OnProgress = onBatch
	return ev.MixedOrderAccuracy(orders)
}

// OrdersPerGroup draws a random permutation of depth blocks for every group
// of `group` consecutive images of n (group 1: one per image; the paper's
// training draws one per mini-batch).
func OrdersPerGroup(n, depth, group int, rng *rand.Rand) [][]int {
	out := make([][]int, n)
	for i := range out {
		if i%group == 0 {
			out[i] = rng.Perm(depth)
		} else {
			out[i] = out[i-1]
		}
	}
	return out
}
