package trainer

import "github.com/frankenvit/frankenvit/vit"

// Evaluating many plans at once shares their common prefixes: the plans are
// arranged in a trie of blocks, and for each batch of images the trie is
// walked depth first, so the hidden state after a shared prefix is computed
// once and kept only while plans below it run. The cache is bounded: one
// batch of activations per depth of the deepest plan, per evaluation worker.
// Batches have the size
// Accuracy uses, so the results are bit-identical to evaluating every plan
// on its own.

// planTrie is one node: the block that leads to it, its children in order of
// first appearance, and the plans that end here.
type planTrie struct {
	block    *vit.Block
	children []*planTrie
	index    map[*vit.Block]*planTrie
	ends     []int
}

func buildTrie(plans []vit.Plan) (root *planTrie, depth int) {
	root = &planTrie{}
	for i, p := range plans {
		n := root
		for _, b := range p {
			if n.index == nil {
				n.index = map[*vit.Block]*planTrie{}
			}
			c, ok := n.index[b]
			if !ok {
				c = &planTrie{block: b}
				n.index[b] = c
				n.children = append(n.children, c)
			}
			n = c
		}
		n.ends = append(n.ends, i)
		depth = max(depth, len(p))
	}
	return root, depth
}

// BlockRuns counts the block evaluations per batch with and without prefix
// sharing, for reporting what the cache saves.
func BlockRuns(plans []vit.Plan) (shared, unshared int) {
	root, _ := buildTrie(plans)
	var count func(n *planTrie) int
	count = func(n *planTrie) int {
		total := len(n.children)
		for _, c := range n.children {
			total += count(c)
		}
		return total
	}
	for _, p := range plans {
		unshared += len(p)
	}
	return count(root), unshared
}

// AccuracyOfPlans measures every plan on the split, sharing prefixes; it
// returns accuracy and mean cross-entropy per plan, equal to what Accuracy
// gives for each plan alone.
func (e *Evaluator) AccuracyOfPlans(plans []vit.Plan) (acc, loss []float64) {
	acc, loss = make([]float64, len(plans)), make([]float64, len(plans))
	n := e.Split.N
	if n == 0 {
		return acc, loss
	}
	root, depth := buildTrie(plans)
	hidden := e.Model.Config.Tokens() * e.Model.Config.Dim
	batches := e.batches()
	correct := make([][]int, batches)
	losses := make([][]float64, batches)
	e.forBatches(true, func(w *evalWorker, batch, B int) {
		correct[batch], losses[batch] = make([]int, len(plans)), make([]float64, len(plans))
		w.levels = append(w.levels, make([][]float32, max(0, depth+1-len(w.levels)))...)
		for d := 0; d <= depth; d++ {
			w.levels[d] = grow(w.levels[d], B*hidden)
		}
		w.runner.Embed(w.levels[0], w.x, B)
		var visit func(t *planTrie, d int)
		visit = func(t *planTrie, d int) {
			for _, p := range t.ends {
				correct[batch][p], losses[batch][p] = e.score(w, w.runner.HeadLogits(w.levels[d], B), B)
			}
			for _, c := range t.children {
				w.runner.RunBlock(w.levels[d+1], w.levels[d], B, c.block, d)
				visit(c, d+1)
			}
		}
		visit(root, 0)
	})
	total := make([]int, len(plans))
	for batch := range correct {
		for p := range plans {
			total[p] += correct[batch][p]
			loss[p] += losses[batch][p]
		}
	}
	for p := range plans {
		acc[p] = float64(total[p]) / float64(n)
		loss[p] /= float64(n)
	}
	return acc, loss
}
