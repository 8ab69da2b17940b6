package trainer

import "fmt"

// MixedOrderAccuracy evaluates the model when image i of the split runs its
// own plan, positions orders[i] into the model's blocks (all of one length):
// orders drawn per batch or per sample, which one plan per pass cannot
// express. At every slot the images of a batch are grouped by the block
// they run, each group goes through its block in one call, and the results
// are put back in place: a block works on each image separately, so this is
// the per-image result. Batches run in parallel like the rest of the
// evaluator, and losses are summed per batch and then over batches in batch
// order, so with one order for every image the result equals Accuracy of
// that plan bit for bit. It returns accuracy and mean cross-entropy;
// OnProgress, if set, is told after each batch.
func (e *Evaluator) MixedOrderAccuracy(orders [][]int) (acc, loss float64, err error) {
	m, n := e.Model, e.Split.N
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
	correct := make([]int, e.batches())
	losses := make([]float64, e.batches())
	e.forBatches(true, func(w *evalWorker, batch, B int) {
		logits := e.mixedLogits(w, orders[batch*e.batch():batch*e.batch()+B], depth, B)
		correct[batch], losses[batch] = e.score(w, logits, B)
	})
	total := 0
	for b := range correct {
		total += correct[b]
		loss += losses[b]
	}
	return float64(total) / float64(n), loss / float64(n), nil
}

// mixedBuffers are a worker's buffers for MixedOrderAccuracy.
type mixedBuffers struct {
	h, next, in, out []float32
	groups           [][]int // images of the batch per block at one slot
}

// mixedLogits runs the worker's batch, image i through orders[i], and
// returns the logits.
func (e *Evaluator) mixedLogits(w *evalWorker, orders [][]int, depth, B int) []float32 {
	m, c := e.Model, e.Model.Config
	row := c.Tokens() * c.Dim
	mb := &w.mixed
	mb.h, mb.next = grow(mb.h, B*row), grow(mb.next, B*row)
	mb.in, mb.out = grow(mb.in, B*row), grow(mb.out, B*row)
	for len(mb.groups) < len(m.Blocks) {
		mb.groups = append(mb.groups, nil)
	}
	groups := mb.groups[:len(m.Blocks)]
	h, next := mb.h, mb.next
	w.runner.Embed(h, w.x, B)
	for slot := 0; slot < depth; slot++ {
		for k := range groups {
			groups[k] = groups[k][:0]
		}
		for i := 0; i < B; i++ {
			k := orders[i][slot]
			groups[k] = append(groups[k], i)
		}
		for k, members := range groups {
			if len(members) == 0 {
				continue
			}
			g := len(members)
			if g == B { // the whole batch runs one block: no copies
				w.runner.RunBlock(next, h, B, m.Blocks[k], slot)
				continue
			}
			for j, i := range members {
				copy(mb.in[j*row:(j+1)*row], h[i*row:(i+1)*row])
			}
			w.runner.RunBlock(mb.out[:g*row], mb.in[:g*row], g, m.Blocks[k], slot)
			for j, i := range members {
				copy(next[i*row:(i+1)*row], mb.out[j*row:(j+1)*row])
			}
		}
		h, next = next, h
	}
	return w.runner.HeadLogits(h, B)
}
