package vit

import (
	"fmt"
	"math"
)

// ForwardEntropy builds the training graph of B unlabeled images whose loss
// is the batch-mean Shannon entropy of the classifier's softmax: the
// objective of AdaMerging, which adapts a merge to test images without their
// labels. tasks[b] is image b's task index in a multi-task model (its
// entropy is over that task's head rows only, as the class loss restricts
// itself to the label's task group); nil runs the softmax over every class.
// Slot heads do not run. Step.Loss and Step.ClassLoss are the mean entropy;
// Backward fills the parameters' Grad with its gradient.
func (m *Model) ForwardEntropy(x []float32, tasks []int32, B int, plans []Plan, ar *Arena) (*Step, error) {
	if tasks != nil {
		if len(tasks) != B {
			return nil, fmt.Errorf("%d task indices for %d images", len(tasks), B)
		}
		n := m.Config.NumTasks()
		for i, t := range tasks {
			if t < 0 || int(t) >= n {
				return nil, fmt.Errorf("image %d has task %d, model %s has tasks 0..%d", i, t, m.Name, n-1)
			}
		}
	}
	return m.forward(x, B, B, plans, 0, ar, func(h *headLossOp) {
		h.ent = &entropyLoss{ar: ar, tasks: tasks, scale: 1 / float32(B), group: m.Config.ClassesPerTask()}
	})
}

// entropyLoss is the loss tail scale * sum over rows of H(softmax(logits)),
// H(p) = -sum_j p_j log p_j. With tasks, row r's softmax runs over its task's
// group of logits (tasks[r]*group .. +group-1); the other logits get zero
// gradient. dH/dz_j = -p_j (log p_j + H).
type entropyLoss struct {
	ar      *Arena
	tasks   []int32
	scale   float32
	group   int
	logp, h []float32 // log-probabilities of each row's group, entropy of each row
}

// span is the first logit and the width of row r's softmax.
func (e *entropyLoss) span(r, classes int) (int, int) {
	if e.tasks == nil || e.group <= 0 || e.group >= classes {
		return r * classes, classes
	}
	t := int(e.tasks[r])
	if t < 0 || (t+1)*e.group > classes {
		panic(fmt.Sprintf("entropy: task %d of row %d outside the head's %d groups", t, r, classes/e.group))
	}
	return r*classes + t*e.group, e.group
}

func (e *entropyLoss) forward(logits []float32, rows, classes int) float32 {
	e.logp, e.h = e.ar.Zeros(rows*classes), e.ar.Take(rows)
	var sum float64
	for r := 0; r < rows; r++ {
		s, n := e.span(r, classes)
		z, lp := logits[s:s+n], e.logp[s:s+n]
		mx := z[0]
		for _, v := range z {
			mx = max(mx, v)
		}
		var se float64
		for _, v := range z {
			se += math.Exp(float64(v - mx))
		}
		lse := float64(mx) + math.Log(se)
		var h float64
		for j, v := range z {
			l := float64(v) - lse
			lp[j] = float32(l)
			h -= math.Exp(l) * l
		}
		e.h[r] = float32(h)
		sum += h
	}
	return e.scale * float32(sum)
}

func (e *entropyLoss) backward(gy float32, rows, classes int) []float32 {
	d := e.ar.Zeros(rows * classes)
	g := float64(gy * e.scale)
	for r := 0; r < rows; r++ {
		s, n := e.span(r, classes)
		h := float64(e.h[r])
		for j, l := range e.logp[s : s+n] {
			lj := float64(l)
			d[s+j] = float32(-g * math.Exp(lj) * (lj + h))
		}
	}
	return d
}
