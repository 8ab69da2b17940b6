package kernels

import (
	"fmt"
	"math"
)

// SoftmaxCrossEntropyForward computes, per row r of logits ([rows,
// classes]), probs = softmax(logits) (numerically stable) and losses[r] =
// -log(probs[r, targets[r]]) (computed as logsumexp - logit, so it stays
// finite when the probability underflows).
func SoftmaxCrossEntropyForward(probs, losses, logits []float32, targets []int32, rows, classes int) {
	n := rows * classes
	checkLen("SoftmaxCrossEntropyForward", n, "probs", probs)
	checkLen("SoftmaxCrossEntropyForward", n, "logits", logits)
	checkLen("SoftmaxCrossEntropyForward", rows, "losses", losses)
	if len(targets) < rows {
		panic(fmt.Sprintf("kernels: SoftmaxCrossEntropyForward: len(targets)=%d < rows %d", len(targets), rows))
	}
	for r := 0; r < rows; r++ {
		x := logits[r*classes : (r+1)*classes]
		p := probs[r*classes : (r+1)*classes]
		t := int(targets[r])
		if t < 0 || t >= classes {
			panic(fmt.Sprintf("kernels: SoftmaxCrossEntropyForward: target %d of row %d outside [0,%d)", t, r, classes))
		}
		mx := float32(math.Inf(-1))
		for _, v := range x {
			if v > mx {
				mx = v
			}
		}
		var sum float64
		for i, v := range x {
			e := math.Exp(float64(v - mx))
			p[i] = float32(e)
			sum += e
		}
		inv := 1 / sum
		for i := range p {
			p[i] = float32(float64(p[i]) * inv)
		}
		losses[r] = float32(math.Log(sum) - float64(x[t]-mx))
	}
}

// SoftmaxCrossEntropyBackward accumulates dlogits += scale*(probs -
// onehot(targets)) (use scale = 1/rows for a mean loss).
func SoftmaxCrossEntropyBackward(dlogits, probs []float32, targets []int32, rows, classes int, scale float32) {
	n := rows * classes
	checkLen("SoftmaxCrossEntropyBackward", n, "dlogits", dlogits)
	checkLen("SoftmaxCrossEntropyBackward", n, "probs", probs)
	if len(targets) < rows {
		panic(fmt.Sprintf("kernels: SoftmaxCrossEntropyBackward: len(targets)=%d < rows %d", len(targets), rows))
	}
	for r := 0; r < rows; r++ {
		d := dlogits[r*classes : (r+1)*classes]
		p := probs[r*classes : (r+1)*classes]
		t := int(targets[r])
		if t < 0 || t >= classes {
			panic(fmt.Sprintf("kernels: SoftmaxCrossEntropyBackward: target %d of row %d outside [0,%d)", t, r, classes))
		}
		for i, v := range p {
			g := v
			if i == t {
				g -= 1
			}
			d[i] += scale * g
		}
	}
}
