package analysis

import (
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/vit"
)

// batchSize is the number of images run through the blocks at once.
const batchSize = 256

// sweep is what one pass of the images through every order records. Plans
// are the K random orders followed by the sequential order; features and
// slot-head predictions are kept for the random orders only.
type sweep struct {
	depth, dim, n, random int
	plans                 [][]int
	labels                []int32

	feats [][][]float32 // [order][slot]: n x dim outputs of the block at that slot

	stemHit  int // the head applied right after the stem
	stemLoss float64
	lensHit  [][]int     // [plan][slot]: correct after the block at that slot
	lensLoss [][]float64 // [plan][slot]: summed cross-entropy there
	skipHit  [][]int     // [plan][slot]: correct at the end with that slot's block replaced by the identity
	skipLoss [][]float64

	// headConf[block][slot][predicted] counts the block's slot-head predictions;
	// nil for blocks without a slot head, and nil altogether if none has one.
	headConf  [][][]int
	headSlots int // columns of headConf: the most slots any head predicts
}

// collect runs the sweep. progress, if set, is told after every plan of
// every batch.
func collect(m *vit.Model, split *dataset.Split, norm dataset.Normalization, orders [][]int, feature Feature,
	progress func(done, total int)) *sweep {
	c := m.Config
	L, D, T, n := len(m.Blocks), c.Dim, c.Tokens(), split.N
	sw := &sweep{depth: L, dim: D, n: n, random: len(orders), labels: make([]int32, n)}
	sw.plans = append(append(sw.plans, orders...), sequential(L))
	sw.lensHit, sw.lensLoss = intMatrix(len(sw.plans), L), floatMatrix(len(sw.plans), L)
	sw.skipHit, sw.skipLoss = intMatrix(len(sw.plans), L), floatMatrix(len(sw.plans), L)
	sw.feats = make([][][]float32, len(orders))
	for k := range orders {
		sw.feats[k] = make([][]float32, L)
		for s := range sw.feats[k] {
			sw.feats[k][s] = make([]float32, n*D)
		}
	}
	for _, bl := range m.Blocks {
		sw.headSlots = max(sw.headSlots, bl.Slots)
	}
	if sw.headSlots > 0 {
		sw.headSlots = max(sw.headSlots, L)
		sw.headConf = make([][][]int, L)
		for b, bl := range m.Blocks {
			if bl.PosHead != nil {
				sw.headConf[b] = intMatrix(L, sw.headSlots)
			}
		}
	}

	r := vit.NewRunner(m)
	levels := make([][]float32, L+1) // levels[s]: the input of slot s
	var spare [2][]float32
	var head slotHead
	x := make([]float32, batchSize*split.ImageSize())
	idx := make([]int, 0, batchSize)
	batches := (n + batchSize - 1) / batchSize
	for start, batch := 0, 0; start < n; start, batch = start+batchSize, batch+1 {
		B := min(batchSize, n-start)
		idx = idx[:0]
		for i := 0; i < B; i++ {
			idx = append(idx, start+i)
		}
		labels := sw.labels[start : start+B]
		split.MustFill(x, labels, idx, norm)
		for s := range levels {
			levels[s] = grow(levels[s], B*T*D)
		}
		spare[0], spare[1] = grow(spare[0], B*T*D), grow(spare[1], B*T*D)
		r.Embed(levels[0], x, B)
		hit, loss := score(r.HeadLogits(levels[0], B), labels, c.Classes)
		sw.stemHit += hit
		sw.stemLoss += loss
		for p, plan := range sw.plans {
			for s, b := range plan {
				bl := m.Blocks[b]
				r.RunBlock(levels[s+1], levels[s], B, bl, s)
				hit, loss := score(r.HeadLogits(levels[s+1], B), labels, c.Classes)
				sw.lensHit[p][s] += hit
				sw.lensLoss[p][s] += loss
				if p >= len(orders) {
					continue
				}
				summarize(sw.feats[p][s][start*D:(start+B)*D], levels[s+1], B, T, D, feature)
				if bl.PosHead != nil {
					for _, pred := range head.predict(levels[s+1], bl, B, T, m.Config.Eps()) {
						sw.headConf[b][s][pred]++
					}
				}
			}
			// The same order with the block at slot s replaced by the identity.
			for s := range plan {
				cur := levels[s]
				for t := s + 1; t < L; t++ {
					r.RunBlock(spare[t%2], cur, B, m.Blocks[plan[t]], t)
					cur = spare[t%2]
				}
				hit, loss := score(r.HeadLogits(cur, B), labels, c.Classes)
				sw.skipHit[p][s] += hit
				sw.skipLoss[p][s] += loss
			}
			if progress != nil {
				progress(batch*len(sw.plans)+p+1, batches*len(sw.plans))
			}
		}
	}
	return sw
}

// summarize writes one feature vector per image of h [B*T, D] into dst [B, D].
func summarize(dst, h []float32, B, T, D int, feature Feature) {
	for b := 0; b < B; b++ {
		out := dst[b*D : (b+1)*D]
		if feature == ClassToken {
			copy(out, h[b*T*D:b*T*D+D])
			continue
		}
		clear(out)
		for t := 0; t < T; t++ {
			row := h[(b*T+t)*D : (b*T+t+1)*D]
			for j, v := range row {
				out[j] += v
			}
		}
		for j := range out {
			out[j] /= float32(T)
		}
	}
}

// score counts correct predictions and sums the cross-entropy of a batch.
func score(logits []float32, labels []int32, classes int) (hit int, loss float64) {
	for i, y := range labels {
		row := logits[i*classes : (i+1)*classes]
		if stats.Argmax(row) == int(y) {
			hit++
		}
		loss += stats.CrossEntropy(row, int(y))
	}
	return hit, loss
}

func sequential(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func intMatrix(r, c int) [][]int {
	out := make([][]int, r)
	for i := range out {
		out[i] = make([]int, c)
	}
	return out
}

func floatMatrix(r, c int) [][]float64 {
	out := make([][]float64, r)
	for i := range out {
		out[i] = make([]float64, c)
	}
	return out
}
