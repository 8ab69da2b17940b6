package sweep

import (
	"fmt"
	"math/rand/v2"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// MixedOrderAccuracy evaluates m on split when image i runs its own plan,
// positions orders[i] into m.Blocks (all of one length). At every slot the
// images of a batch are grouped by the block they run, each group goes
// through its block in one call, and the results are put back in place: a
// block works on each image separately, so this is the per-image result.
// It returns accuracy and mean cross-entropy; onBatch, if set, is told after
// each batch.
func MixedOrderAccuracy(m *vit.Model, split *dataset.Split, norm dataset.Normalization, orders [][]int,
	onBatch func(done, total int)) (acc, loss float64, err error) {
	n := split.N
	if len(orders) != n {
		return 0, 0, fmt.Errorf("%d orders for %d images", len(orders), n)
	}
	if n == 0 {
		return 0, 0, nil
	}
	depth := len(orders[0])
	for i, o := range orders {
		if len(o) != depth {
			return 0, 0, fmt.Errorf("image %d runs %d blocks, image 0 runs %d: per-image orders must have one length", i, len(o), depth)
		}
		for _, k := range o {
			if k < 0 || k >= len(m.Blocks) {
				return 0, 0, fmt.Errorf("image %d: block %d does not exist in %s", i, k, m.Name)
			}
		}
	}
	c := m.Config
	row := c.Tokens() * c.Dim
	runner := vit.NewRunner(m)
	B := trainer.EvalBatch
	x := make([]float32, B*split.ImageSize())
	labels := make([]int32, B)
	h, next := make([]float32, B*row), make([]float32, B*row)
	in, out := make([]float32, B*row), make([]float32, B*row)
	idx := make([]int, 0, B)
	groups := make([][]int, len(m.Blocks))
	correct := 0
	batches := (n + B - 1) / B
	for start, batch := 0, 1; start < n; start, batch = start+B, batch+1 {
		nb := min(B, n-start)
		idx = idx[:0]
		for i := 0; i < nb; i++ {
			idx = append(idx, start+i)
		}
		split.Fill(x, labels, idx, norm, nil, nil)
		runner.Embed(h[:nb*row], x[:nb*split.ImageSize()], nb)
		for slot := 0; slot < depth; slot++ {
			for k := range groups {
				groups[k] = groups[k][:0]
			}
			for i := 0; i < nb; i++ {
				k := orders[start+i][slot]
				groups[k] = append(groups[k], i)
			}
			for k, members := range groups {
				if len(members) == 0 {
					continue
				}
				g := len(members)
				if g == nb { // the whole batch runs one block: no copies
					runner.RunBlock(next[:nb*row], h[:nb*row], nb, m.Blocks[k], slot)
					continue
				}
				for j, i := range members {
					copy(in[j*row:(j+1)*row], h[i*row:(i+1)*row])
				}
				runner.RunBlock(out[:g*row], in[:g*row], g, m.Blocks[k], slot)
				for j, i := range members {
					copy(next[i*row:(i+1)*row], out[j*row:(j+1)*row])
				}
			}
			h, next = next, h
		}
		logits := runner.HeadLogits(h[:nb*row], nb)
		batchLoss := 0.0 // summed per batch, then over batches, as trainer.Evaluator does
		for i := 0; i < nb; i++ {
			r := logits[i*c.Classes : (i+1)*c.Classes]
			if stats.Argmax(r) == int(labels[i]) {
				correct++
			}
			batchLoss += stats.CrossEntropy(r, int(labels[i]))
		}
		loss += batchLoss
		if onBatch != nil {
			onBatch(batch, batches)
		}
	}
	return float64(correct) / float64(n), loss / float64(n), nil
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
