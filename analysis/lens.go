package analysis

import "github.com/frankenvit/frankenvit/stats"

// Lens is the logit lens: the model's final LayerNorm and classifier applied
// to the class token after each slot, as accuracy.
type Lens struct {
	// Stem is the accuracy of the head right after the stem, before any block.
	Stem float64 `json:"stem"`
	// Sequential[s] is the accuracy after slot s of the sequential order; its
	// last entry is the model's accuracy on these images.
	Sequential Vector `json:"sequential"`
	// Random[s] is the mean over the random orders of the accuracy after slot
	// s, RandomStd its sample standard deviation over the orders.
	Random    Vector `json:"random"`
	RandomStd Vector `json:"random_std"`
	// BlockSlot[b][s] is the mean accuracy after block b when it ran in slot s.
	BlockSlot Grid `json:"block_slot"`
}

func logitLens(sw *sweep) Lens {
	L, n := sw.depth, float64(sw.n)
	ln := Lens{Stem: float64(sw.stemHit) / n, Sequential: make(Vector, L), Random: make(Vector, L),
		RandomStd: make(Vector, L), BlockSlot: NewGrid(labels("block ", L), labels("slot ", L))}
	sum, count := floatMatrix(L, L), intMatrix(L, L)
	for s := 0; s < L; s++ {
		ln.Sequential[s] = float64(sw.lensHit[sw.random][s]) / n
		accs := make([]float64, sw.random)
		for k := 0; k < sw.random; k++ {
			accs[k] = float64(sw.lensHit[k][s]) / n
			b := sw.plans[k][s]
			sum[b][s] += accs[k]
			count[b][s]++
		}
		ln.Random[s], ln.RandomStd[s] = stats.MeanStd(accs)
	}
	fillMeans(ln.BlockSlot, sum, count)
	return ln
}

// fillMeans sets g[b][s] = sum/count where count > 0.
func fillMeans(g Grid, sum [][]float64, count [][]int) {
	for b := range sum {
		for s := range sum[b] {
			if count[b][s] > 0 {
				g.Values[b][s] = sum[b][s] / float64(count[b][s])
			}
		}
	}
}
