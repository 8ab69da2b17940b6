package analysis

import (
	"math"

	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/vit/kernels"
)

// SlotPrediction is how well the slot a block ran in can be read from its
// output: by the block's own position head (shuffle-predict) or by a linear
// probe. Both are reported the same way.
type SlotPrediction struct {
	Method string `json:"method"` // "position head" or "linear probe"
	// Accuracy is the fraction of (image, order) samples whose slot was
	// predicted right, over every block and slot.
	Accuracy float64 `json:"accuracy"`
	// BlockSlot[b][s] is the accuracy for block b when it ran in slot s.
	BlockSlot Grid `json:"block_slot"`
	// Confusion[s][p] counts samples of true slot s predicted as slot p,
	// summed over the blocks.
	Confusion Grid `json:"confusion"`
	// BlockAccuracy[b] is block b's accuracy over all its slots,
	// SlotAccuracy[s] the accuracy at slot s over all blocks.
	BlockAccuracy Vector `json:"block_accuracy"`
	SlotAccuracy  Vector `json:"slot_accuracy"`
	// Samples is the number of predictions scored.
	Samples int `json:"samples"`
}

// slotPrediction builds a SlotPrediction from per-block confusion counts
// conf[block][slot][predicted] (nil for blocks that are not scored).
func slotPrediction(method string, conf [][][]int, depth, predCols int) *SlotPrediction {
	sp := &SlotPrediction{Method: method, BlockSlot: NewGrid(labels("block ", depth), labels("slot ", depth)),
		Confusion: NewGrid(labels("slot ", depth), labels("predicted ", predCols))}
	for s := 0; s < depth; s++ {
		for p := 0; p < predCols; p++ {
			sp.Confusion.Values[s][p] = 0
		}
	}
	hits := 0
	blockHit, blockTotal := make([]int, depth), make([]int, depth)
	slotHit, slotTotal := make([]int, depth), make([]int, depth)
	for b, perSlot := range conf {
		if perSlot == nil {
			continue
		}
		for s, row := range perSlot {
			total := 0
			for p, c := range row {
				total += c
				sp.Confusion.Values[s][p] += float64(c)
			}
			if total > 0 {
				sp.BlockSlot.Values[b][s] = float64(row[s]) / float64(total)
			}
			hits += row[s]
			sp.Samples += total
			blockHit[b], blockTotal[b] = blockHit[b]+row[s], blockTotal[b]+total
			slotHit[s], slotTotal[s] = slotHit[s]+row[s], slotTotal[s]+total
		}
	}
	if sp.Samples > 0 {
		sp.Accuracy = float64(hits) / float64(sp.Samples)
	}
	sp.BlockAccuracy, sp.SlotAccuracy = ratios(blockHit, blockTotal), ratios(slotHit, slotTotal)
	return sp
}

// positionHeads scores the slot heads of a shuffle-predict model over the
// random orders of the sweep; nil when no block has a head.
func positionHeads(sw *sweep) *SlotPrediction {
	if sw.headConf == nil {
		return nil
	}
	return slotPrediction("position head", sw.headConf, sw.depth, sw.headSlots)
}

// slotHead runs a block's position head, fc(LN(mean over tokens of h)), as
// the training graph does, and keeps its buffers between calls.
type slotHead struct {
	avg, ln, mean, rstd, logits []float32
	pred                        []int
}

// predict returns the slot predicted for each of the B images of h [B*T, D].
func (sh *slotHead) predict(h []float32, bl *vit.Block, B, T int, eps float32) []int {
	D, L := bl.Dim, bl.Slots
	sh.avg, sh.ln = grow(sh.avg, B*D), grow(sh.ln, B*D)
	sh.mean, sh.rstd, sh.logits = grow(sh.mean, B), grow(sh.rstd, B), grow(sh.logits, B*L)
	summarize(sh.avg, h, B, T, D, TokenMean)
	ph := bl.PosHead
	kernels.LayerNormForward(sh.ln, sh.mean, sh.rstd, sh.avg, ph.NormW.Data(), ph.NormB.Data(), B, D, eps)
	kernels.LinearForward(sh.logits, sh.ln, ph.FcW.Data(), ph.FcB.Data(), B, D, L)
	sh.pred = sh.pred[:0]
	for b := 0; b < B; b++ {
		sh.pred = append(sh.pred, stats.Argmax(sh.logits[b*L:(b+1)*L]))
	}
	return sh.pred
}

// ratios is hit/total per entry, NaN where total is 0.
func ratios(hit, total []int) Vector {
	out := make(Vector, len(hit))
	for i := range hit {
		out[i] = math.NaN()
		if total[i] > 0 {
			out[i] = float64(hit[i]) / float64(total[i])
		}
	}
	return out
}
