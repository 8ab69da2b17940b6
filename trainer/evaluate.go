package trainer

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/vit/kernels"
)

// EvalBatch is the batch size of tape-free evaluation of models of up to
// 64 tokens (every 28x28 model); EvalBatchFor gives any model's.
const EvalBatch = 256

// evalRows bounds the token rows of one evaluation batch, so that a worker's
// activations stay about the same size whatever the images: a ViT at
// 224x224 (197 tokens) evaluates 80 images at a time, not 256 (which held
// gigabytes per worker).
const evalRows = EvalBatch * 64

// EvalBatchFor is the evaluation batch size of models of config c:
// EvalBatch, or fewer images (a multiple of 8) when they have more than 64
// tokens. Per-image results do not depend on the batch size; only plans
// drawn per batch follow the batches.
func EvalBatchFor(c vit.Config) int {
	b := evalRows / max(c.Tokens(), 1)
	switch {
	case b >= EvalBatch:
		return EvalBatch
	case b < 8:
		return max(b, 1)
	}
	return b &^ 7
}

// EvalBatches is how many evaluation batches n images of models of config c
// make (the count progress lines are given in).
func EvalBatches(n int, c vit.Config) int {
	size := EvalBatchFor(c)
	return (n + size - 1) / size
}

// Evaluator measures accuracy of plans on one split, reusing its buffers.
// Batches are spread over GOMAXPROCS workers, each with its own tape-free
// runner and single-threaded kernels, and their results are added up in
// batch order, so the numbers do not depend on the number of workers.
type Evaluator struct {
	Model *vit.Model
	Split *dataset.Split
	Norm  dataset.Normalization
	// OnProgress, if set, is told after each batch of AccuracyOfPlans.
	OnProgress func(done, total int)
	workers    []*evalWorker
}

// evalWorker holds one worker's runner and batch buffers.
type evalWorker struct {
	runner *vit.Runner
	x      []float32
	labels []int32
	idx    []int
	levels [][]float32 // hidden state per depth of the plan trie
	mixed  mixedBuffers
}

// NewEvaluator prepares evaluation of m's plans on split.
func NewEvaluator(m *vit.Model, split *dataset.Split, norm dataset.Normalization) *Evaluator {
	return &Evaluator{Model: m, Split: split, Norm: norm}
}

// Accuracy runs plan over the whole split and returns accuracy and mean
// cross-entropy loss. An empty split gives 0, 0.
func (e *Evaluator) Accuracy(plan vit.Plan) (acc, loss float64) {
	return e.accuracy(func(int) vit.Plan { return plan })
}

// accuracy evaluates with a plan chosen per batch (batch index given);
// planFor is called for every batch in order before any batch runs.
func (e *Evaluator) accuracy(planFor func(batch int) vit.Plan) (acc, loss float64) {
	n := e.Split.N
	if n == 0 {
		return 0, 0
	}
	plans := make([]vit.Plan, e.batches())
	for b := range plans {
		plans[b] = planFor(b)
	}
	correct := make([]int, len(plans))
	losses := make([]float64, len(plans))
	e.forBatches(false, func(w *evalWorker, batch, B int) {
		correct[batch], losses[batch] = e.score(w, w.runner.Logits(w.x, B, plans[batch]), B)
	})
	total := 0
	var lossSum float64
	for b := range plans {
		total += correct[b]
		lossSum += losses[b]
	}
	return float64(total) / float64(n), lossSum / float64(n)
}

// batch is the evaluator's batch size.
func (e *Evaluator) batch() int { return EvalBatchFor(e.Model.Config) }

func (e *Evaluator) batches() int { return EvalBatches(e.Split.N, e.Model.Config) }

// forBatches loads every evaluation batch into a worker's buffers and calls
// fn on it; batches run concurrently on up to GOMAXPROCS workers, so fn must
// keep its results apart by batch index. With progress, OnProgress is told
// after every batch.
func (e *Evaluator) forBatches(progress bool, fn func(w *evalWorker, batch, B int)) {
	batches := e.batches()
	W := min(runtime.GOMAXPROCS(0), batches)
	for len(e.workers) < W {
		e.workers = append(e.workers, &evalWorker{runner: vit.NewRunner(e.Model)})
	}
	for _, w := range e.workers[:W] {
		w.runner.Workers = kernels.Share(W) // the workers' kernel calls share the cores
	}
	var next atomic.Int64
	var mu sync.Mutex
	done := 0
	work := func(w *evalWorker) {
		for {
			batch := int(next.Add(1) - 1)
			if batch >= batches {
				return
			}
			B := e.fillBatch(w, batch*e.batch())
			fn(w, batch, B)
			if progress && e.OnProgress != nil {
				mu.Lock()
				done++
				e.OnProgress(done, batches)
				mu.Unlock()
			}
		}
	}
	kernels.Workers(W).Parallel(W, 1, func(lo, hi int) {
		for _, w := range e.workers[lo:hi] {
			work(w)
		}
	})
}

// fillBatch loads the evaluation batch starting at image start into the
// worker's buffers and returns its size.
func (e *Evaluator) fillBatch(w *evalWorker, start int) int {
	B := min(e.batch(), e.Split.N-start)
	w.x = grow(w.x, B*e.Split.ImageSize())
	w.labels = growInt32(w.labels, B)
	w.idx = w.idx[:0]
	for i := 0; i < B; i++ {
		w.idx = append(w.idx, start+i)
	}
	e.Split.MustFill(w.x, w.labels, w.idx, e.Norm)
	return B
}

// score counts the correct predictions of a batch and sums its
// cross-entropy. A multi-task model is scored on each image's own task head:
// argmax and softmax over the logits of the label's task group.
func (e *Evaluator) score(w *evalWorker, logits []float32, B int) (correct int, loss float64) {
	classes, perTask := e.Model.Config.Classes, e.Model.Config.ClassesPerTask()
	for i := 0; i < B; i++ {
		row, y := taskLogits(logits[i*classes:(i+1)*classes], int(w.labels[i]), perTask)
		if stats.Argmax(row) == y {
			correct++
		}
		loss += stats.CrossEntropy(row, y)
	}
	return correct, loss
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func growInt32(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

// OrderResult is the accuracy of a model under an evaluation order.
type OrderResult struct {
	Order       string    `json:"order"`
	Accuracy    float64   `json:"accuracy"`
	AccuracyStd float64   `json:"accuracy_std"`
	Loss        float64   `json:"loss"`
	Orders      [][]int   `json:"orders"`
	PerOrder    []float64 `json:"per_order_accuracy"`
	Images      int       `json:"images"`
}

// EvaluateOrder measures accuracy under every plan of an order; random orders
// are drawn from seed. The blocks must exist in the model.
func (e *Evaluator) EvaluateOrder(o Order, seed uint64) (OrderResult, error) {
	res := OrderResult{Order: o.String(), Images: e.Split.N}
	res.Orders = o.Plans(len(e.Model.Blocks), seed)
	plans := make([]vit.Plan, len(res.Orders))
	for i, idx := range res.Orders {
		plan, err := e.Model.PlanOf(idx)
		if err != nil {
			return res, err
		}
		if err := e.Model.Check(plan); err != nil {
			return res, err
		}
		plans[i] = plan
	}
	accs, losses := e.AccuracyOfPlans(plans)
	res.PerOrder = accs
	var lossSum float64
	for _, l := range losses {
		lossSum += l
	}
	res.Accuracy, res.AccuracyStd = stats.MeanStd(res.PerOrder)
	res.Loss = lossSum / float64(len(res.Orders))
	return res, nil
}

// Predictions runs plan over the split and returns every image's predicted
// class (a multi-task model's within its label's task), in split order.
func (e *Evaluator) Predictions(plan vit.Plan) []int {
	preds := make([]int, e.Split.N)
	if e.Split.N == 0 {
		return preds
	}
	classes, perTask := e.Model.Config.Classes, e.Model.Config.ClassesPerTask()
	e.forBatches(false, func(w *evalWorker, batch, B int) {
		logits := w.runner.Logits(w.x, B, plan)
		for i := 0; i < B; i++ {
			row, _ := taskLogits(logits[i*classes:(i+1)*classes], int(w.labels[i]), perTask)
			preds[batch*e.batch()+i] = stats.Argmax(row)
		}
	})
	return preds
}
