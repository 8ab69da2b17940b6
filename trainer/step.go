package trainer

import (
	"errors"
	"math"
	"sync/atomic"

	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/vit/kernels"
)

// TrainShards is how many shards a training batch is split into. Each shard
// runs forward and backward on its own goroutine (the model for shard 0, a
// gradient shadow of it for the others) with single-threaded kernels, which
// keeps both cores busy through the small element-wise and attention work
// that intra-op threading cannot split well. The count is fixed, not taken
// from the machine, so the numbers do not depend on GOMAXPROCS.
const TrainShards = 2

// minShardSamples is the smallest shard worth its own goroutine.
const minShardSamples = 8

// Stepper performs training steps of one model: forward and backward of a
// batch (in shards), gradient clipping and the AdamW update. trainer.Train,
// the benchmarks and `frankenvit bench speed` all train through it.
type Stepper struct {
	Model     *vit.Model
	Opt       *AdamW
	ClipNorm  float64 // <= 0: no clipping
	PosWeight float32 // weight of the shuffle-predict slot loss
	// Micro, when positive and below the batch size, is the gradient
	// accumulation chunk: a batch runs Micro samples at a time.
	Micro     int
	params    []*vit.Param
	trainable []*vit.Param // the params updated (all but the frozen ones)
	shadows   []*vit.Model // shadows[k-1] differentiates shard k
	arenas    []*vit.Arena // the buffers of shard k's step
	running   atomic.Int32 // shards of the step not finished yet
}

// NewStepper prepares a stepper with AdamW (weight decay wd) over m.
func NewStepper(m *vit.Model, wd, clipNorm float64, posWeight float32) *Stepper {
	s := &Stepper{Model: m, params: m.Params(), ClipNorm: clipNorm, PosWeight: posWeight}
	s.trainable = s.params
	s.Opt = NewAdamW(s.params, wd)
	for k := 1; k < TrainShards; k++ {
		s.shadows = append(s.shadows, m.GradShadow())
	}
	for k := 0; k < TrainShards; k++ {
		s.arenas = append(s.arenas, new(vit.Arena))
	}
	return s
}

// TrainOnly freezes every parameter keep rejects: it is neither updated nor
// decayed, and its gradient does not count in the clipped gradient norm.
func (s *Stepper) TrainOnly(keep func(*vit.Param) bool) {
	s.trainable = nil
	for i, p := range s.params {
		s.Opt.frozen[i] = !keep(p)
		if keep(p) {
			s.trainable = append(s.trainable, p)
		}
	}
}

// StepStats describes one step's batch.
type StepStats struct {
	Loss     float64 // batch-mean classification loss
	SlotLoss float64 // batch-mean slot-prediction loss (0 without slot heads)
	Correct  int     // samples classified correctly (before the update)
}

// Step trains on one batch of B samples: x holds the normalised images,
// plans one plan for the batch or one per sample, all over the model's own
// blocks. With a non-finite loss nothing is updated and the error wraps
// ErrNonFinite. When an operator of the training graph fails, in forward or
// in backward, nothing is updated either and the error is its *vit.OpError
// (errors.Is(err, vit.ErrOperator)), naming the operator.
func (s *Stepper) Step(x []float32, labels []int32, B int, plans []vit.Plan, lr float64) (StepStats, error) {
	size := s.Model.Config.ImageSize()
	var total StepStats
	var errs []error
	// Gradient accumulation: the batch runs in chunks of Micro samples, each
	// chunk's losses divided by the whole batch's B, so the chunks' gradients
	// add up to the batch's and only one chunk's activations are held.
	chunk := B
	if s.Micro > 0 && s.Micro < B {
		chunk = s.Micro
	}
	for lo := 0; lo < B; lo += chunk {
		hi := min(B, lo+chunk)
		ps := plans
		if len(plans) > 1 {
			ps = plans[lo:hi]
		}
		st, chunkErrs := s.accumulate(x[lo*size:hi*size], labels[lo:hi], hi-lo, B, ps)
		total.Loss += st.Loss
		total.SlotLoss += st.SlotLoss
		total.Correct += st.Correct
		errs = append(errs, chunkErrs...)
		if joinDistinct(errs) != nil || !isFinite(total) {
			break
		}
	}
	if err := joinDistinct(errs); err != nil {
		s.zeroGrads()
		return total, err
	}
	if !isFinite(total) {
		s.zeroGrads()
		return total, ErrNonFinite
	}
	// Clipping's scale, the update and the zeroing are one parallel pass
	// over the gradients (the bits of ClipGradNorm, Opt.Step, zeroGrads).
	s.Opt.step(lr, clipScale(GradNorm(s.trainable), s.ClipNorm), true)
	return total, nil
}

// accumulate runs forward and backward of n samples of a batch of total,
// in shards, and adds their gradients into the model's.
func (s *Stepper) accumulate(x []float32, labels []int32, n, total int, plans []vit.Plan) (StepStats, []error) {
	shards := shardBounds(n)
	size := s.Model.Config.ImageSize()
	// The shards' kernel calls share the cores; the last one running gets
	// them all.
	s.running.Store(int32(len(shards)))
	for _, ar := range s.arenas {
		ar.Running = &s.running
	}
	stats := make([]StepStats, len(shards))
	errs := make([]error, len(shards))
	run := func(k int) {
		defer s.running.Add(-1)
		lo, hi := shards[k][0], shards[k][1]
		m, ps := s.Model, plans
		if len(plans) > 1 {
			ps = plans[lo:hi]
		}
		if k > 0 {
			m = s.shadows[k-1]
			mapped := make([]vit.Plan, len(ps))
			for i, p := range ps {
				q, ok := s.Model.ShadowPlan(p, m)
				if !ok {
					errs[k] = errors.New("trainer: a training plan may only hold the model's own blocks")
					return
				}
				mapped[i] = q
			}
			ps = mapped
		}
		st, err := m.ForwardShard(x[lo*size:hi*size], labels[lo:hi], hi-lo, total, ps, s.PosWeight, s.arenas[k])
		if err != nil {
			errs[k] = err
			return
		}
		stats[k] = StepStats{Loss: float64(st.ClassLoss()), SlotLoss: float64(st.SlotLoss()),
			Correct: countCorrect(st.Logits(), labels[lo:hi], m.Config.Classes, m.Config.ClassesPerTask())}
		if isFinite(stats[k]) {
			// An operator that fails in backward (an error or a panic) is
			// recorded on the step, not fatal: Backward returns it.
			errs[k] = st.Backward()
		}
	}
	// Shard 0 runs on this goroutine, the others on the kernels' helpers.
	kernels.Workers(len(shards)).Parallel(len(shards), 1, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			run(k)
		}
	})
	var sum StepStats
	for _, st := range stats {
		sum.Loss += st.Loss
		sum.SlotLoss += st.SlotLoss
		sum.Correct += st.Correct
	}
	for k := 1; k < len(shards); k++ {
		s.shadows[k-1].AddGradsInto(s.Model)
	}
	return sum, errs
}

// joinDistinct joins the shards' errors, each message once: shards that
// fail alike (the same operator, the same bad size) make one line.
func joinDistinct(errs []error) error {
	var out []error
	seen := map[string]bool{}
	for _, err := range errs {
		if err != nil && !seen[err.Error()] {
			seen[err.Error()] = true
			out = append(out, err)
		}
	}
	return errors.Join(out...)
}

func (s *Stepper) zeroGrads() {
	for _, p := range s.params {
		p.ZeroGrad()
	}
}

func isFinite(st StepStats) bool {
	return !math.IsNaN(st.Loss) && !math.IsInf(st.Loss, 0) && !math.IsNaN(st.SlotLoss) && !math.IsInf(st.SlotLoss, 0)
}

// shardBounds splits [0,B) into TrainShards contiguous shards, or fewer when
// shards would hold under minShardSamples samples.
func shardBounds(B int) [][2]int {
	n := max(1, min(TrainShards, B/minShardSamples))
	out := make([][2]int, n)
	for k := range out {
		out[k] = [2]int{k * B / n, (k + 1) * B / n}
	}
	return out
}
