package trainer

import (
	"math"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// EvalBatch is the batch size of tape-free evaluation.
const EvalBatch = 256

// Evaluator measures accuracy of plans on one split, reusing its buffers.
type Evaluator struct {
	Model *vit.Model
	Split *dataset.Split
	Norm  dataset.Normalization
	// OnProgress, if set, is told after each batch of AccuracyOfPlans.
	OnProgress func(done, total int)
	runner     *vit.Runner
	x          []float32
	labels     []int32
	idx        []int
}

// NewEvaluator prepares evaluation of m's plans on split.
func NewEvaluator(m *vit.Model, split *dataset.Split, norm dataset.Normalization) *Evaluator {
	return &Evaluator{Model: m, Split: split, Norm: norm, runner: vit.NewRunner(m)}
}

// Accuracy runs plan over the whole split and returns accuracy and mean
// cross-entropy loss. An empty split gives 0, 0.
func (e *Evaluator) Accuracy(plan vit.Plan) (acc, loss float64) {
	return e.accuracy(func(int) vit.Plan { return plan })
}

// accuracy evaluates with a plan chosen per batch (batch index given).
func (e *Evaluator) accuracy(planFor func(batch int) vit.Plan) (acc, loss float64) {
	n := e.Split.N
	if n == 0 {
		return 0, 0
	}
	correct := 0
	var lossSum float64
	for start, batch := 0, 0; start < n; start, batch = start+EvalBatch, batch+1 {
		B := e.fillBatch(start)
		c, l := e.score(e.runner.Logits(e.x, B, planFor(batch)), B)
		correct += c
		lossSum += l
	}
	return float64(correct) / float64(n), lossSum / float64(n)
}

// fillBatch loads the evaluation batch starting at image start into e.x and
// e.labels and returns its size.
func (e *Evaluator) fillBatch(start int) int {
	B := min(EvalBatch, e.Split.N-start)
	e.x = grow(e.x, B*e.Split.ImageSize())
	e.labels = growInt32(e.labels, B)
	e.idx = e.idx[:0]
	for i := 0; i < B; i++ {
		e.idx = append(e.idx, start+i)
	}
	e.Split.Fill(e.x, e.labels, e.idx, e.Norm, nil, nil)
	return B
}

// score counts the correct predictions of a batch and sums its cross-entropy.
func (e *Evaluator) score(logits []float32, B int) (correct int, loss float64) {
	classes := e.Model.Config.Classes
	for i := 0; i < B; i++ {
		row := logits[i*classes : (i+1)*classes]
		if argmax(row) == int(e.labels[i]) {
			correct++
		}
		loss += crossEntropy(row, int(e.labels[i]))
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

func argmax(row []float32) int {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}

// crossEntropy of one row of logits in float64 (stable).
func crossEntropy(row []float32, target int) float64 {
	mx := float64(row[0])
	for _, v := range row {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - mx)
	}
	return math.Log(s) + mx - float64(row[target])
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
	res.Accuracy, res.AccuracyStd = meanStd(res.PerOrder)
	res.Loss = lossSum / float64(len(res.Orders))
	return res, nil
}

// meanStd is the mean and the sample standard deviation (0 for one value).
func meanStd(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)-1))
}
